"""Each `shared` subpackage's public names: what type checkers see is what loads at run time."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
SUBPACKAGES = ["salesforce", "stripe", "state", "sync", "reconcile"]


def _type_checking_imports(package: str) -> dict[str, str]:
    """Name → module of the imports under ``if TYPE_CHECKING:`` in the package's ``__init__``."""
    tree = ast.parse((SHARED / package / "__init__.py").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                found.update({alias.name: stmt.module.rsplit(".", 1)[1] for alias in stmt.names})
    return found


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_exports_match_the_type_checking_imports_and_resolve(package: str) -> None:
    # Given the subpackage's run-time export table
    module = importlib.import_module(f"shared.{package}")
    exported = {name: mod for mod, names in module.EXPORTS.items() for name in names}
    # Then it names exactly what type checkers import, from the same modules
    assert exported == _type_checking_imports(package)
    # And every name loads from the package itself
    for name in exported:
        assert getattr(module, name) is getattr(importlib.import_module(f"shared.{package}.{exported[name]}"), name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import shared.sync

    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = shared.sync.Nope


def test_the_top_level_of_shared_stays_small() -> None:
    # The tree shows the architecture: ports as subpackages, at most 8 modules beside them.
    modules = [p.name for p in SHARED.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= 8, modules
