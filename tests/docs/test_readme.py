"""README: one page that leads into the site; no link dangles and its samples are the real ones."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from markdown.extensions.toc import slugify

from devtools.docs.make_run import SAMPLE
from devtools.local_runtime.processes import REPO_ROOT

README = REPO_ROOT / "README.md"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.M)


def _anchors(page: Path) -> set[str]:
    """The heading ids mkdocs (toc) and GitHub give a page's headings."""
    return {slugify(re.sub(r"[`*]", "", heading), "-") for heading in HEADING.findall(page.read_text())}


def _fence(text: str, language: str) -> str:
    match = re.search(rf"^```{language}\n(.*?)^```", text, re.M | re.S)
    assert match, language
    return match.group(1)


def test_readme_fits_on_a_page_and_keeps_the_two_commands() -> None:
    text = README.read_text()
    # Then it is at most 250 lines and still shows the two commands a newcomer runs
    assert len(text.splitlines()) <= 250
    assert "\nmake run " in text and "\nmake test " in text


def test_every_relative_link_in_the_readme_resolves() -> None:
    # Given README's links that are not to the web
    links = [link for link in LINK.findall(README.read_text()) if not re.match(r"^[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in links)
    dangling = []
    for link in links:
        path, _, anchor = unquote(link).partition("#")
        target = REPO_ROOT / path if path else README
        # Then each names a file of the repository, and each anchor a heading of that page
        if not target.is_file() or (anchor and anchor not in _anchors(target)):
            dangling.append(link)
    assert dangling == []


def test_the_readmes_make_run_sample_is_a_shortened_real_run() -> None:
    # Given README's shortened `make run` output and the sample captured from a real run
    shown = _fence(README.read_text().split("It prints", 1)[1], "").splitlines()
    real = SAMPLE.read_text().splitlines()
    # Then every line README shows (but the "…" elisions) is a line the demo printed, in the same order
    lines = [line for line in shown if line.strip() not in ("…", "")]
    positions = [real.index(line) for line in lines if line in real]
    assert [line for line in lines if line not in real] == []
    assert positions == sorted(positions)


def test_the_readmes_architecture_picture_is_the_sites() -> None:
    # Then README shows the same diagram as the site's home page (one file, docs/diagrams/architecture.mmd)
    diagram = (REPO_ROOT / "docs" / "diagrams" / "architecture.mmd").read_text()
    assert _fence(README.read_text(), "mermaid") == diagram
