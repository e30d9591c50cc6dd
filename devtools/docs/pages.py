"""Which generator writes which page, and writing or checking them all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from devtools.docs import catalogue, cli_help, cost_ref, environment, layout, rule_tests, template_ref, vendor
from devtools.local_runtime.processes import REPO_ROOT

REFERENCE = REPO_ROOT / "docs" / "reference"

PAGES: dict[str, Callable[[], str]] = {
    "environment.md": environment.page,
    "template.md": template_ref.page,
    "glossary.md": catalogue.page,
    "sfsync.md": cli_help.page,
    "rule-tests.md": rule_tests.page,
    "vendor-behaviour.md": vendor.page,
    "layout.md": layout.page,
    # A snippet of docs/performance.md (not a page of its own: .txt, like the make run samples).
    "metrics-and-alarms.txt": cost_ref.page,
}


def render() -> dict[Path, str]:
    """Every generated page's path and the text its generator produces now."""
    return {REFERENCE / name: generate().rstrip("\n") + "\n" for name, generate in PAGES.items()}


def stale(rendered: dict[Path, str] | None = None) -> list[Path]:
    """The committed pages that differ from what their generators produce now (or are missing)."""
    rendered = render() if rendered is None else rendered
    return [path for path, text in rendered.items() if not path.exists() or path.read_text() != text]


def write() -> list[Path]:
    """Write every page that changed; the paths written."""
    rendered = render()
    changed = stale(rendered)
    REFERENCE.mkdir(parents=True, exist_ok=True)
    for path in changed:
        path.write_text(rendered[path])
    return changed
