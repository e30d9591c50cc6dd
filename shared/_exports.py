"""Lazy re-exports for the subpackages' ``__init__`` (PEP 562 module ``__getattr__``).

A subpackage lists its public names by module; each name is imported from its module on first access. The
light receivers can then write ``from shared.sync import SyncQueue`` without importing the worker's engine,
and with it stripe and simple-salesforce (the subprocess test in ``tests/unit`` checks they don't).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose ``exports`` map module name → public names."""
    module_of = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    def __dir__() -> list[str]:
        return sorted(module_of)

    return __getattr__, __dir__
