"""docs/reference/sfsync.md: ``sfsync --help`` and each command's ``--help``, as the parser prints them."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from devtools.docs.markdown import header
from ops.cli import parser


@contextmanager
def _fixed_width(columns: int = 100) -> Iterator[None]:
    """argparse wraps to the terminal's width (``COLUMNS``): fixed, so the page does not depend on it."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def _subcommands(top: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in top._actions:  # argparse keeps its sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def page() -> str:
    """The whole page."""
    with _fixed_width():
        top = parser()
        sections = ["## sfsync --help", "", "```text", top.format_help().rstrip(), "```", ""]
        for name, sub in _subcommands(top).items():
            sections += [f"## sfsync {name} --help", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(
        [
            header(
                "sfsync --help",
                "`ops/cli.py` (the parser itself)",
                "What `.venv/bin/sfsync --help` prints, and each command's own help. How to use it: "
                "[Operate](../operate/index.md).",
            ),
            *sections,
        ]
    )
