"""R6: custom mappings (Salesforce field paths, incl. one-to-one relationships) and static field defaults."""

from __future__ import annotations

import json
from pathlib import Path

from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import account, orders

PRIMARY_CONTACT_EMAIL = "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"


def test_rule_r6_relationship_path_reads_primary_contact_email_from_order() -> None:
    # Given a mapping of email to the order's quote's primary contact's email
    mapping = CustomerMapping.from_dict({"fields": {"email": PRIMARY_CONTACT_EMAIL}})
    # When an account with an activated order is mapped
    params = mapping.map_account(account(Orders=orders("ap@acme.de"))).params
    # Then the contact's email is the customer's email
    assert params["email"] == "ap@acme.de"


def test_rule_r6_fallback_list_uses_first_non_empty_path() -> None:
    # Given email mapped from the primary contact, falling back to a custom account field
    mapping = CustomerMapping.from_dict({"fields": {"email": [PRIMARY_CONTACT_EMAIL, "Billing_Email__c"]}})
    # When the primary contact has no email
    record = account(Orders=orders(None), Billing_Email__c="invoices@acme.de")
    # Then the custom field's email is used
    assert mapping.map_account(record).params["email"] == "invoices@acme.de"


def test_rule_r6_fallback_list_prefers_first_path_when_set() -> None:
    # Given the same fallback list
    mapping = CustomerMapping.from_dict({"fields": {"email": [PRIMARY_CONTACT_EMAIL, "Billing_Email__c"]}})
    # When both the contact and the custom field have an email
    record = account(Orders=orders("ap@acme.de"), Billing_Email__c="invoices@acme.de")
    # Then the first path wins
    assert mapping.map_account(record).params["email"] == "ap@acme.de"


def test_rule_r6_static_default_sets_metadata_source() -> None:
    # Given a static default for metadata.source and no mapping for it
    mapping = CustomerMapping.from_dict({"fields": {"name": "Name"}, "defaults": {"metadata.source": "Salesforce"}})
    # When any account is mapped
    params = mapping.map_account(account()).params
    # Then the metadata carries the static value next to the account id
    assert params["metadata"]["source"] == "Salesforce"
    assert "salesforce_account_id" in params["metadata"]


def test_rule_r6_default_used_when_mapped_value_is_empty() -> None:
    # Given description mapped from Description with a default
    config = {"fields": {"description": "Description"}, "defaults": {"description": "Synced from Salesforce"}}
    mapping = CustomerMapping.from_dict(config)
    # When the account has a whitespace-only description
    params = mapping.map_account(account(Description="   ")).params
    # Then the default is sent
    assert params["description"] == "Synced from Salesforce"


def test_rule_r6_mapped_value_wins_over_default() -> None:
    # Given the same mapping with a default
    config = {"fields": {"description": "Description"}, "defaults": {"description": "Synced from Salesforce"}}
    mapping = CustomerMapping.from_dict(config)
    # When the account has a description
    params = mapping.map_account(account(Description="Key account")).params
    # Then the Salesforce value is sent
    assert params["description"] == "Key account"


def test_rule_r6_default_country_is_normalised_at_load() -> None:
    # Given a default country written as a name
    mapping = CustomerMapping.from_dict({"defaults": {"address.country": "Deutschland"}})
    # When an account is mapped
    params = mapping.map_account(account()).params
    # Then the default is sent as Stripe's alpha-2 code
    assert params["address"] == {"country": "DE"}


def test_rule_r6_parent_relationship_path_reads_parent_name() -> None:
    # Given the parent account's name mapped to metadata
    mapping = CustomerMapping.from_dict({"fields": {"metadata.parent": "Parent.Name"}})
    # When an account with a parent is mapped
    record = account(Parent={"attributes": {"type": "Account"}, "Name": "Acme Holding"})
    # Then the parent's name is in the metadata
    assert mapping.map_account(record).params["metadata"]["parent"] == "Acme Holding"
    # And an account without parent (null relationship) just has no such key
    assert "parent" not in mapping.map_account(account(Parent=None)).params["metadata"]


def test_rule_r6_paths_match_record_fields_case_insensitively() -> None:
    # Given a config that spells the API name in lower case (SOQL is case-insensitive)
    mapping = CustomerMapping.from_dict({"fields": {"address.city": "billingcity"}})
    # When the REST record uses Salesforce's spelling
    params = mapping.map_account(account(BillingCity="Berlin")).params
    # Then the value is found
    assert params["address"] == {"city": "Berlin"}


def test_rule_r6_numbers_and_booleans_become_strings() -> None:
    # Given a number and a checkbox mapped to metadata
    config = {"fields": {"metadata.employees": "NumberOfEmployees", "metadata.vip": "VIP__c"}}
    mapping = CustomerMapping.from_dict(config)
    # When they are mapped
    metadata = mapping.map_account(account(NumberOfEmployees=250, VIP__c=False)).params["metadata"]
    # Then Stripe gets their text form
    assert metadata["employees"] == "250"
    assert metadata["vip"] == "false"


def test_rule_r6_compound_field_is_a_warning_naming_it() -> None:
    # Given the compound BillingAddress mapped as if it were one value
    mapping = CustomerMapping.from_dict({"fields": {"address.line1": "BillingAddress", "name": "Name"}})
    # When the record holds the compound (an object)
    record = account(Name="Acme", BillingAddress={"street": "Hauptstraße 1", "city": "Berlin"})
    mapped = mapping.map_account(record)
    # Then the field is left out with a warning naming it, and the customer still gets its name
    assert mapped.params["name"] == "Acme"
    assert [w.field for w in mapped.warnings] == ["BillingAddress"]


def test_rule_r6_config_file_is_loaded_from_a_path(tmp_path: Path) -> None:
    # Given a config file on disk
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"fields": {"name": "Name"}, "defaults": {"metadata.source": "Salesforce"}}))
    # When it is loaded by path (str or Path)
    for source in (str(path), path):
        mapping = load_mapping(source)
        # Then it maps like the equivalent dict
        params = mapping.map_account(account(Name="Acme")).params
        assert params["name"] == "Acme"
        assert params["metadata"]["source"] == "Salesforce"


def test_rule_r11_primary_contact_gone_marks_email_orphaned_not_cleared() -> None:
    # Given the order's quote no longer names a primary contact (the contact was deleted)
    mapping = load_mapping("standard")
    record = account(Name="Acme", Orders=orders(None, contact_id=None))
    # When it is mapped
    mapped = mapping.map_account(record)
    # Then the email is absent but marked orphaned, and the previous email is kept
    assert "email" not in mapped.flat
    assert mapped.orphaned_paths == ("email",)
    kept = mapped.keeping({"email": "old@acme.de", "name": "Old"})
    assert kept.flat["email"] == "old@acme.de"
    assert kept.flat["name"] == "Acme"


def test_rule_r7_contact_with_empty_email_is_a_real_change_not_orphaned() -> None:
    # Given the primary contact exists but its email was cleared in Salesforce
    record = account(Name="Acme", Orders=orders(None))
    # Then nothing is orphaned: the email is cleared like any other field (Salesforce is the source of truth)
    assert load_mapping("standard").map_account(record).orphaned_paths == ()
