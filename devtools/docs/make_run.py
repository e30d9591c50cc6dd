"""docs/reference/make-run.txt and make-serve.txt: what ``make run`` and ``make serve`` print, from real runs.

Ids, timings, ports and the local token differ per run; ``normalise`` replaces them with placeholders, so a
test can compare the committed samples with fresh runs line by line (``tests/docs/test_make_run_sample.py``).
``make serve`` is captured up to its "Press Ctrl-C" line, then stopped with Ctrl-C (SIGINT) as a user would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools.local_runtime.processes import REPO_ROOT

SAMPLE = REPO_ROOT / "docs" / "reference" / "make-run.txt"
SERVE_SAMPLE = REPO_ROOT / "docs" / "reference" / "make-serve.txt"
SERVE_READY = "Press Ctrl-C to stop."
_VARIABLE = (
    (re.compile(r"token=[0-9a-f]+"), "token=…"),
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


def serve_until_ready(timeout: float = 180) -> str:
    """Start ``python -m devtools.demo.serve``, read its terminal up to the ready line, stop it with Ctrl-C.

    Returns what it printed up to and including the ready line. RuntimeError when it exits or hangs first.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.demo.serve"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if SERVE_READY in line or time.monotonic() > deadline:
                break
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
    if not lines or SERVE_READY not in lines[-1]:
        raise RuntimeError("make serve did not come up:\n" + "".join(lines))
    return "".join(lines)


def normalise(text: str) -> str:
    """The output with per-run values (ids, durations, ports, table suffixes) replaced by ``…``.

    Paths inside the checkout are made relative to it: the sample must match in any clone's folder.
    """
    text = text.replace(f"{REPO_ROOT}/", "")
    for pattern, replacement in _VARIABLE:
        text = pattern.sub(replacement, text)
    return text


def write() -> list[Path]:
    """Run the demo and ``make serve`` and store their output as the samples; RuntimeError when one failed."""
    result = run_demo()
    if result.returncode != 0:
        raise RuntimeError(f"make run failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLE.write_text(result.stdout.replace(f"{REPO_ROOT}/", ""))
    SERVE_SAMPLE.write_text(serve_until_ready().replace(f"{REPO_ROOT}/", ""))
    return [SAMPLE, SERVE_SAMPLE]
