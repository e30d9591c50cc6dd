"""Packaging guarantees of the mapping module: presets, the Stripe schema copy, a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.mapping import CustomerMapping, load_mapping

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("preset", ["default", "standard", "standard_picklists"])
def test_rule_r5_every_preset_loads(preset: str) -> None:
    # Given a preset name
    # When it is loaded
    # Then it is a valid mapping
    assert isinstance(load_mapping(preset), CustomerMapping)


def test_rule_r7_mapping_imports_no_heavy_sdk() -> None:
    # Given a fresh interpreter (the real-time receiver Lambda must stay light)
    code = (
        "import sys, shared.mapping; "
        "print(sorted({'boto3', 'botocore', 'stripe', 'simple_salesforce'} & set(sys.modules)))"
    )
    # When the mapping package is imported
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    # Then none of the SDKs was imported
    assert result.stdout.strip() == "[]"
