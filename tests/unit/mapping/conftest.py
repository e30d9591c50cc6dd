"""The mapping tests' shared fixture: the standard preset (shared/mapping/presets/standard.json)."""

from __future__ import annotations

import pytest

from shared.mapping import CustomerMapping, load_mapping


@pytest.fixture(scope="module")
def standard() -> CustomerMapping:
    """The standard mapping, as a stack with MAPPING_CONFIG=standard loads it."""
    return load_mapping("standard")
