"""Files that hold a secret (the endpoint token, the emulators' keys): owner-only, also when they exist.

``os.open(path, O_CREAT, 0o600)`` applies the mode only when it creates the file: an existing file written
world-readable by an older version (0644 under the usual umask) would keep its mode. So the mode is set on
the open descriptor every time (``fchmod``), before a byte of the secret is written.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def write_private_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, created or truncated, readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def make_private_directory(path: Path) -> None:
    """Create ``path`` (and its parents) if needed; ``path`` itself is made owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(DIRECTORY_MODE)
