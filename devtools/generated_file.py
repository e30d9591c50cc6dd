"""Committed files that a devtools command generates from a maintained dataset: write them, or check them.

Shared by ``python -m devtools.country_names`` and ``python -m devtools.stripe_params``: with ``--check``
(the tests, CI) a stale file is an error that names the command to run.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, *, command: str, check: bool) -> int:
    """Exit status: with ``check``, 1 when ``path`` differs from ``text``; else write it (0)."""
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run python -m {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    return 0
