"""The files the docs tell a user to create in the checkout are git-ignored: never committed by accident.

A mapping copied from a preset (``cp shared/mapping/presets/standard.json my.json``) is the user's own, and may
name fields of their org; ``git add -A`` must not pick it up.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPY = re.compile(r"cp shared/mapping/presets/\w+\.json\s+(?:`?\s*)?([\w.-]+\.json)")


def files_the_docs_have_users_create() -> set[str]:
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    return {name for page in pages for name in COPY.findall(page.read_text(encoding="utf-8"))}


def test_mapping_copies_the_docs_suggest_are_git_ignored() -> None:
    # Given the mapping files the docs tell a user to create (my.json, mapping.json)
    names = files_the_docs_have_users_create()
    assert {"my.json", "mapping.json"} <= names
    # Then git ignores each of them at the top of the checkout
    for name in sorted(names):
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{name} is not git-ignored"
