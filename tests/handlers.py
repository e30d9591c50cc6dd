"""Load a Lambda handler module the way Lambda does: fresh, with the function's environment variables."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest


def load_handler(module_name: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> ModuleType:
    """Import ``module_name`` anew (a cold start) with ``env`` set; settings are validated at import."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)
