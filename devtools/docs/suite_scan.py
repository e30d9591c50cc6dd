"""Reading the test suite without running it: test functions, their names and ``vendor_doc`` markers (AST)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from devtools.local_runtime.processes import REPO_ROOT

TESTS = REPO_ROOT / "tests"


@dataclass(frozen=True)
class VendorDoc:
    """One ``@pytest.mark.vendor_doc(url, behaviour, model=…)``: what the vendor documents, and how we model it."""

    url: str
    behaviour: str
    model: str | None = None


@dataclass(frozen=True)
class ScannedTest:
    """A test function: its file (relative to the repo), name, first docstring/comment line, markers."""

    path: str
    name: str
    vendor_docs: tuple[VendorDoc, ...] = field(default=())

    @property
    def ref(self) -> str:
        """``tests/x.py::test_name``, as pytest names it."""
        return f"{self.path}::{self.name}"


def _vendor_doc(decorator: ast.expr) -> VendorDoc | None:
    """The marker's arguments, when ``decorator`` is ``pytest.mark.vendor_doc(...)`` with literal strings."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    if decorator.func.attr != "vendor_doc":
        return None
    args = [arg.value for arg in decorator.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    kwargs = {
        kw.arg: kw.value.value
        for kw in decorator.keywords
        if kw.arg and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    }
    if len(args) != 2:
        raise ValueError(f"vendor_doc needs (url, behaviour) as string literals, line {decorator.lineno}")
    return VendorDoc(args[0], args[1], kwargs.get("model"))


def scan_tests(root: Path = TESTS) -> Iterator[ScannedTest]:
    """Every ``test_*`` function (module level or in a class) under ``root``, in file and line order."""
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                docs = tuple(doc for d in node.decorator_list if (doc := _vendor_doc(d)) is not None)
                yield ScannedTest(str(path.relative_to(REPO_ROOT)), node.name, docs)
