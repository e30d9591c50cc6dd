"""The docs site builds offline and strictly: no broken link, no missing page, no missing snippet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from devtools.local_runtime.processes import REPO_ROOT


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    # When mkdocs builds the site in strict mode (as `make docs-check` does)
    mkdocs = Path(sys.executable).with_name("mkdocs")
    result = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it succeeds, and the home page is there
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists()


def test_the_site_uses_no_plugin_that_fetches_at_build_time() -> None:
    # Given mkdocs.yml (its !!python/name tags are data here)
    config = yaml.load((REPO_ROOT / "mkdocs.yml").read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    # Then only the built-in search plugin runs (material's social/privacy plugins download) and no web fonts load
    assert config["plugins"] == ["search"]
    assert config["theme"]["font"] is False


def test_every_page_in_docs_is_in_the_nav() -> None:
    # Given the pages in docs/ and the nav of mkdocs.yml
    config = yaml.load((REPO_ROOT / "mkdocs.yml").read_text(), Loader=_Loader)  # noqa: S506
    in_nav = set(_nav_pages(config["nav"]))
    pages = {str(p.relative_to(REPO_ROOT / "docs")) for p in (REPO_ROOT / "docs").rglob("*.md")}
    # Then a reader can reach each (a page outside the nav is one nobody finds)
    assert pages - in_nav == set() and in_nav - pages == set()


class _Loader(yaml.SafeLoader):
    """mkdocs.yml as data: ``!!python/name:…`` tags kept as their text."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []
