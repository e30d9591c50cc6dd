"""docs/reference/make-run.txt: what ``make run`` prints, captured from a real run of the demo.

Ids, timings and ports differ per run; ``normalise`` replaces them with placeholders, so a test can compare
the committed sample with a fresh run line by line (``tests/docs/test_make_run_sample.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from devtools.local_runtime.processes import REPO_ROOT

SAMPLE = REPO_ROOT / "docs" / "reference" / "make-run.txt"
_VARIABLE = (
    (re.compile(r"\bcus_[A-Za-z0-9]{8,}"), "cus_…"),
    (re.compile(r"\b(001|003|00D|801|a0[A-Za-z0-9])[A-Za-z0-9]{12}([A-Za-z0-9]{3})?\b"), r"\1…"),
    (re.compile(r"\b\d+(\.\d+)? s\b"), "… s"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:…"),
    (re.compile(r"-[0-9a-f]{6}\b"), "-…"),
)


def run_demo(timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m devtools.demo.run`` (what ``make run`` runs), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "devtools.demo.run"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def normalise(text: str) -> str:
    """The output with per-run values (ids, durations, ports, table suffixes) replaced by ``…``."""
    for pattern, replacement in _VARIABLE:
        text = pattern.sub(replacement, text)
    return text


def write() -> Path:
    """Run the demo and store its output as the sample; RuntimeError when the demo failed."""
    result = run_demo()
    if result.returncode != 0:
        raise RuntimeError(f"make run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_text(result.stdout)
    return SAMPLE
