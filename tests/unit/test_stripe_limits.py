"""Every limit the product hard-codes for a Stripe parameter agrees with the pinned SDK's API version.

The limits come from ``shared/stripe/customer_params.json`` (generated from stripe-python's param types) and,
where the schema can't say (list sizes), from the SDK's own param docstrings. An SDK bump that changes one
fails here, not in production (a PO number of 31–140 characters was once silently left off the invoice because
an old spec said 30).
"""

from __future__ import annotations

import inspect
import re

import pytest
import stripe.params._customer_create_params as create_params

from devtools.stripe_emulator import validation as emulator
from shared.mapping import CustomerMapping, MappingConfigError, list_fields, stripe_paths
from shared.mapping.stripe_paths import schema_document
from tests.unit.mapping.records import account

SDK_DOC = inspect.getsource(create_params)
CUSTOM_FIELDS = {"invoice_settings.custom_fields": [{"name": "PO number", "from": "Po__c"}]}


def _schema_custom_field(part: str) -> int:
    node = schema_document()["operations"]["create"]["properties"]["invoice_settings"]["properties"]
    [array] = [branch for branch in node["custom_fields"]["anyOf"] if branch.get("type") == "array"]
    return int(array["items"]["properties"][part]["maxLength"])


def _sdk_says(pattern: str) -> int:
    found = re.search(pattern, SDK_DOC)
    assert found, pattern
    return int(found.group(1))


def test_custom_field_limits_are_the_sdk_versions() -> None:
    # Then the name and value lengths are the schema's, and the schema's are what the SDK documents
    assert list_fields.MAX_CUSTOM_FIELD_NAME_LENGTH == _schema_custom_field("name") == 40
    assert list_fields.MAX_CUSTOM_FIELD_VALUE_LENGTH == _schema_custom_field("value") == 140
    assert _sdk_says(r"name of the custom field\. This may be up to (\d+) characters") == 40
    assert _sdk_says(r"value of the custom field\. This may be up to (\d+) characters") == 140
    # And the number of pairs is the SDK's ("The list of up to 4 default custom fields")
    assert _sdk_says(r"The list of up to (\d+) default custom fields") == list_fields.MAX_CUSTOM_FIELDS


def test_metadata_limits_agree_with_the_emulators_model_of_stripes_docs() -> None:
    # Stripe documents 50 keys, keys of 40 and values of 500 characters (https://docs.stripe.com/api/metadata)
    assert stripe_paths.MAX_METADATA_KEYS == emulator.METADATA_MAX_KEYS == 50
    assert stripe_paths.MAX_METADATA_KEY_LENGTH == emulator.METADATA_KEY_MAX == 40
    assert stripe_paths.MAX_METADATA_VALUE_LENGTH == emulator.METADATA_VALUE_MAX == 500


def test_a_po_number_of_140_characters_reaches_the_invoice_settings() -> None:
    # Given a PO number of 140 characters (Stripe's limit for a custom field value)
    mapped = CustomerMapping.from_dict({"fields": CUSTOM_FIELDS}).map_account(account(Po__c="P" * 140))
    # Then it is sent, without a warning
    assert mapped.params["invoice_settings"]["custom_fields"] == [{"name": "PO number", "value": "P" * 140}]
    assert mapped.warnings == ()


def test_a_custom_field_name_of_40_characters_loads_and_41_is_refused() -> None:
    CustomerMapping.from_dict({"fields": {"invoice_settings.custom_fields": [{"name": "N" * 40, "from": "A__c"}]}})
    with pytest.raises(MappingConfigError, match="at most 40"):
        CustomerMapping.from_dict({"fields": {"invoice_settings.custom_fields": [{"name": "N" * 41, "from": "A__c"}]}})
