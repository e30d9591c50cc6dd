"""R6: custom mappings are validated at load; every error names the config entry to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.mapping import CustomerMapping, MappingConfigError, load_mapping


def rejected(config: dict[str, Any]) -> str:
    """The MappingConfigError message for a config that must be rejected."""
    with pytest.raises(MappingConfigError) as raised:
        CustomerMapping.from_dict(config)
    return str(raised.value)


def test_rule_r6_config_rejects_unknown_stripe_field() -> None:
    # Given a typo in a Stripe path
    # When the config is loaded
    # Then the error names the entry
    assert rejected({"fields": {"address.lin1": "BillingStreet"}}) == (
        "fields['address.lin1']: unknown Stripe customer field"
    )


@pytest.mark.parametrize("stripe_path", ["address", "shipping", "balance", "expand", "metadata", "tax_id_data.0.value"])
def test_rule_r6_config_rejects_stripe_fields_that_are_not_string_leaves(stripe_path: str) -> None:
    # Given a mapping to an object, integer or array parameter (or into a list field by index)
    # Then it is rejected: only string-valued leaves can take a Salesforce value
    assert rejected({"fields": {stripe_path: "Name"}}) == f"fields[{stripe_path!r}]: unknown Stripe customer field"


@pytest.mark.parametrize(
    "salesforce_path",
    [
        "",
        "Parent..Name",
        "Billing Street",
        "1Field__c",
        "_Name",
        "Name__",
        "Name_",
        "Parent.",
        "Order",
        "Order.",
        "Custom__c.Name",
        "A.B.C.D.E.F.Name",
        "Order.A.B.C.D.E.F.Email",
    ],
)
def test_rule_r6_config_rejects_malformed_salesforce_paths(salesforce_path: str) -> None:
    # Given a malformed Salesforce path (bad segment, lookup used as hop, > 5 hops)
    # Then the config is rejected naming the entry
    assert rejected({"fields": {"name": salesforce_path}}).startswith("fields['name']: ")


def test_rule_r6_config_accepts_five_relationship_hops() -> None:
    # Given paths at SOQL's limit of five hops, on the Account and on the order
    config = {"fields": {"name": "A.B.C.D.E.Name", "email": "Order.A.B.C.D.E.Email"}}
    # Then they load
    CustomerMapping.from_dict(config)


def test_rule_r6_config_rejects_more_than_50_metadata_keys() -> None:
    # Given 50 metadata keys plus the always-added salesforce_account_id
    config = {"defaults": {f"metadata.key{index}": "x" for index in range(50)}}
    # Then there are too many keys
    assert rejected(config).startswith("metadata: 51 keys")
    # And 49 configured keys (50 in total) are fine
    CustomerMapping.from_dict({"defaults": {f"metadata.key{index}": "x" for index in range(49)}})


def test_rule_r6_config_rejects_metadata_key_longer_than_40_chars() -> None:
    key = "k" * 41
    assert rejected({"fields": {f"metadata.{key}": "Name"}}) == (
        f"fields['metadata.{key}']: metadata key longer than 40 characters"
    )


@pytest.mark.parametrize("key", ["a[b", "a]b"])
def test_rule_r6_config_rejects_metadata_key_with_brackets(key: str) -> None:
    assert rejected({"defaults": {f"metadata.{key}": "x"}}) == (
        f"defaults['metadata.{key}']: metadata key must not contain '[' or ']'"
    )


def test_rule_r6_config_rejects_static_default_longer_than_stripe_limit() -> None:
    # Given defaults over Stripe's limits for name (256) and metadata values (500)
    message = rejected({"defaults": {"name": "n" * 257, "metadata.note": "m" * 501}})
    # Then both entries are named with their limit
    assert "defaults['name']: is 257 characters long; Stripe allows at most 256 for name" in message
    assert "defaults['metadata.note']: is 501 characters long; Stripe allows at most 500" in message


def test_rule_r6_config_rejects_invalid_static_defaults() -> None:
    # Given defaults Stripe would not accept: no country, a bad email, a value outside the enum, a blank
    config = {
        "defaults": {
            "address.country": "Atlantis",
            "email": "nobody",
            "tax_exempt": "maybe",
            "description": " ",
        },
    }
    message = rejected(config)
    # Then each is named
    for entry in ("address.country", "email", "tax_exempt", "description"):
        assert f"defaults[{entry!r}]: " in message


def test_rule_r6_config_rejects_non_string_default() -> None:
    assert rejected({"defaults": {"metadata.tier": 3}}).startswith("defaults['metadata.tier']: ")


def test_rule_r6_config_rejects_unknown_transform() -> None:
    assert rejected({"fields": {"name": {"from": "Name", "transform": "uppercase"}}}).startswith(
        "fields['name']: unknown transform 'uppercase'"
    )


@pytest.mark.parametrize("entry", [[], {"from": []}])
def test_rule_r6_config_rejects_empty_fallback_list(entry: Any) -> None:
    assert rejected({"fields": {"email": entry}}) == (
        "fields['email']: empty fallback list: give at least one Salesforce field path"
    )


def test_rule_r6_config_rejects_unknown_top_level_key() -> None:
    assert rejected({"fields": {}, "default": {}}) == (
        "unknown top-level key 'default' (allowed: comment, defaults, fields)"
    )


def test_rule_r6_config_rejects_unknown_key_in_an_entry() -> None:
    assert rejected({"fields": {"name": {"from": "Name", "transfrom": "text"}}}) == (
        "fields['name']: unknown key 'transfrom' (allowed: from, transform, values, type)"
    )


def test_rule_r6_config_rejects_entry_of_wrong_type() -> None:
    assert rejected({"fields": {"name": 42}}).startswith("fields['name']: must be a path")


@pytest.mark.parametrize("where", ["fields", "defaults"])
def test_rule_r6_config_rejects_shipping_without_shipping_address(where: str) -> None:
    # Given shipping.phone without any shipping.address.* (Stripe requires an address with shipping)
    config = {where: {"shipping.phone": "Phone"}}
    # Then the entry is named
    assert rejected(config).startswith(f"{where}['shipping.phone']: shipping needs at least one shipping.address.*")


def test_rule_r6_config_rejects_overriding_the_account_id_metadata() -> None:
    # Given a config that tries to map the always-added key
    # Then it is rejected: reconcile and support rely on it
    assert rejected({"fields": {"metadata.salesforce_account_id": "AccountNumber"}}) == (
        "fields['metadata.salesforce_account_id']: reserved: always set to the account Id"
    )


def test_rule_r6_config_reports_every_problem_at_once() -> None:
    # Given two broken entries
    message = rejected({"fields": {"address.lin1": "BillingStreet", "phone": "Pho ne"}})
    # Then both are named
    assert "fields['address.lin1']" in message
    assert "fields['phone']" in message


def test_rule_r6_config_must_be_an_object() -> None:
    with pytest.raises(MappingConfigError):
        CustomerMapping.from_dict(["name", "Name"])  # type: ignore[arg-type]


def test_rule_r6_load_mapping_rejects_unknown_preset_and_missing_file(tmp_path: Path) -> None:
    # Given neither a preset name nor an existing file
    # Then loading fails with a config error listing the presets
    with pytest.raises(MappingConfigError, match="neither a preset"):
        load_mapping("premium")
    with pytest.raises(MappingConfigError, match="neither a preset"):
        load_mapping(tmp_path / "missing.json")


def test_rule_r6_load_mapping_rejects_invalid_json(tmp_path: Path) -> None:
    # Given a file that is not JSON
    path = tmp_path / "mapping.json"
    path.write_text('{"fields": {"name": "Name",}}')
    # Then loading fails with a config error
    with pytest.raises(MappingConfigError, match="invalid JSON"):
        load_mapping(path)


def test_rule_r6_file_config_is_validated_like_a_dict(tmp_path: Path) -> None:
    # Given a file with an unknown Stripe field
    path = tmp_path / "mapping.json"
    path.write_text('{"fields": {"address.lin1": "BillingStreet"}}')
    # Then loading it names the entry
    with pytest.raises(MappingConfigError, match=r"fields\['address.lin1'\]: unknown Stripe customer field"):
        load_mapping(str(path))
