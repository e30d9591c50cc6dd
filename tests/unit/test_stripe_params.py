"""The customer schema the mapping validates (and the emulator checks) is the pinned SDK's API version.

stripe-python sends ``Stripe-Version: stripe.api_version`` and ships param types generated from Stripe's
OpenAPI spec of exactly that version; ``shared/stripe/customer_params.json`` is derived from them by
``python -m devtools.stripe_params``. An SDK bump without regenerating fails here, not in production.
"""

from __future__ import annotations

import json

import pytest
import stripe

from devtools.stripe_params import OUTPUT_PATH, generate
from devtools.stripe_params.__main__ import main as stripe_params_main
from devtools.stripe_params.generate import render
from shared.mapping import CustomerMapping, MappingConfigError
from shared.mapping.stripe_paths import schema_api_version, stripe_field
from tests.unit.mapping.records import account


def test_the_schema_is_of_the_api_version_the_pinned_sdk_sends() -> None:
    # Given the SDK installed from the pins, Then the mapping's schema belongs to its API version
    assert schema_api_version() == stripe.api_version
    assert json.loads(OUTPUT_PATH.read_text(encoding="utf-8"))["sdk_version"] == stripe.VERSION


def test_regenerating_the_schema_from_the_sdk_changes_nothing() -> None:
    # When the generator runs against the installed SDK, Then the committed file is what it produces
    assert OUTPUT_PATH.read_text(encoding="utf-8") == render(generate())
    assert stripe_params_main(["--check"]) == 0


def test_lengths_come_from_the_sdk_docs_first() -> None:
    # Then documented limits of the SDK's version are used (business_name: "up to 150 characters")
    assert stripe_field("business_name").max_length == 150
    assert stripe_field("individual_name").max_length == 150
    assert stripe_field("email").max_length == 512
    # And limits the SDK's docstrings do not state come from Stripe's published spec
    assert stripe_field("name").max_length == 256 and stripe_field("phone").max_length == 20
    assert stripe_field("tax_exempt").choices == ("exempt", "none", "reverse")


@pytest.mark.parametrize("gone", ["coupon", "promotion_code"])
def test_a_mapping_to_a_field_removed_from_the_api_version_is_rejected_at_load(gone: str) -> None:
    # Given a mapping to coupon (removed from the customer params in the SDK's API version)
    # When it loads, Then it is refused naming the entry, instead of failing every account in production
    with pytest.raises(MappingConfigError) as raised:
        CustomerMapping.from_dict({"defaults": {gone: "SUMMER"}})
    assert str(raised.value) == f"defaults[{gone!r}]: unknown Stripe customer field"


def test_business_name_and_individual_name_can_be_mapped() -> None:
    # Given a mapping of the Account name to business_name and a custom field to individual_name
    mapping = CustomerMapping.from_dict({"fields": {"business_name": "Name", "individual_name": "Owner__c"}})
    # When an account is mapped
    mapped = mapping.map_account(account(Name="Acme GmbH", Owner__c="Erika Mustermann"))
    # Then both reach the Stripe params
    assert mapped.params["business_name"] == "Acme GmbH"
    assert mapped.params["individual_name"] == "Erika Mustermann"


def test_a_business_name_default_over_150_characters_is_rejected() -> None:
    with pytest.raises(MappingConfigError) as raised:
        CustomerMapping.from_dict({"defaults": {"business_name": "x" * 151}})
    assert "Stripe allows at most 150 for business_name" in str(raised.value)
