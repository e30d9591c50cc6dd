"""Every configuration example in the docs is a real file that loads, included with a snippet, never copied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devtools.local_runtime.processes import REPO_ROOT
from shared.mapping.config import load_config, parse_config
from shared.salesforce.auth import SalesforceCredentials

DOCS = REPO_ROOT / "docs"
EXAMPLES = DOCS / "examples"
SNIPPET = re.compile(r'^[ \t]*--8<-- "([^"]+)"[ \t]*$', re.M)
JSON_FENCE = re.compile(r"^([ \t]*)```json\n(.*?)^\1```", re.M | re.S)


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("mapping-*.json")), ids=lambda p: p.name)
def test_every_mapping_example_is_a_valid_mapping(example: Path) -> None:
    # Given a mapping example the docs show
    # When the worker's own loader reads it
    config = parse_config(json.loads(example.read_text()))
    # Then it is accepted as it stands (the docs can't show a mapping the worker would refuse)
    assert config.fields


def test_every_mapping_the_docs_include_loads() -> None:
    # Given every JSON file the pages include (presets, the demo mapping, the examples)
    included = {path for page in _pages() for path in SNIPPET.findall(page.read_text()) if path.endswith(".json")}
    mappings = [path for path in included if "mapping" in path]
    # Then the presets and the demo mapping are among them, and each loads as a mapping
    assert {"shared/mapping/presets/standard.json", "devtools/demo/mapping.json"} <= set(mappings)
    for path in mappings:
        assert load_config(REPO_ROOT / path).fields, path


def test_the_salesforce_secret_example_is_a_valid_secret() -> None:
    # Given the JWT secret the Salesforce access page shows
    data = json.loads((EXAMPLES / "salesforce-secret-jwt.json").read_text())
    # Then the worker's credentials model accepts its shape
    assert SalesforceCredentials.model_validate(data).auth == "jwt"


def test_no_page_holds_a_json_example_of_its_own() -> None:
    # Given every ```json block of every page
    inline = [
        f"{page.relative_to(REPO_ROOT)}: {body.strip()[:40]}"
        for page in _pages()
        for _, body in JSON_FENCE.findall(page.read_text())
        if not SNIPPET.fullmatch(body.strip("\n"))
    ]
    # Then each is a snippet of a real file (a copy would drift from what the tests load)
    assert inline == []
