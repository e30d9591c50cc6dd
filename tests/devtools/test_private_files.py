"""Files holding the endpoint token are owner-only (0600), also when they existed with a wider mode.

``os.open(..., O_CREAT, 0o600)`` applies its mode only to a file it creates (POSIX open(2): "the mode
argument ... only if O_CREAT creates the file"), so ``make serve`` rewriting an older, world-readable
``.local/stack.json`` used to keep it readable.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from devtools.demo import serve
from devtools.private_files import write_private_text


def test_an_existing_world_readable_stack_json_becomes_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a .local/stack.json an older version left world-readable
    stack_json = tmp_path / "stack.json"
    stack_json.write_text("{}")
    stack_json.chmod(0o644)
    monkeypatch.setattr(serve, "STACK_JSON", stack_json)
    # When `make serve` writes the local stack's description (with the endpoint token) into it
    serve._write_stack_json({"outbound_message_url": "http://127.0.0.1:1/outbound-message?token=t0k3n"})
    # Then only its owner can read it, and it holds the new description
    assert stat.S_IMODE(stack_json.stat().st_mode) == 0o600
    assert json.loads(stack_json.read_text())["outbound_message_url"].endswith("token=t0k3n")


def test_a_new_private_file_is_owner_only(tmp_path: Path) -> None:
    # Given no file yet; When a secret is written; Then it is created 0600
    path = tmp_path / "secret.txt"
    write_private_text(path, "s3cr3t")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "s3cr3t"
