"""R1/R5/R6/R7: what the worker's one SOQL query must select, and which contacts fed the customer."""

from __future__ import annotations

from shared.mapping import CustomerMapping, load_mapping
from tests.unit.mapping.records import CONTACT_ID, account, orders

PRIMARY_CONTACT_EMAIL = "Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email"


def test_rule_r5_standard_preset_account_fields() -> None:
    # Given the standard preset
    mapping = load_mapping("standard")
    # Then the Account fields are the R5 table's, plus Id, sorted
    assert mapping.account_fields == (
        "BillingCity",
        "BillingCountry",
        "BillingPostalCode",
        "BillingState",
        "BillingStreet",
        "Description",
        "Id",
        "Name",
        "Phone",
        "ShippingCity",
        "ShippingCountry",
        "ShippingPostalCode",
        "ShippingState",
        "ShippingStreet",
    )


def test_rule_r1_standard_preset_order_fields_include_primary_contact_lookup() -> None:
    # Given the standard preset (email from the order's quote's primary contact)
    mapping = load_mapping("standard")
    # Then the Orders subquery selects Id, the email path and the primary contact's id
    assert mapping.order_fields == (
        "Id",
        "SBQQ__Quote__r.SBQQ__PrimaryContact__c",
        "SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email",
    )


def test_rule_r6_account_fields_include_relationship_paths_once() -> None:
    # Given a config using relationships and the same field in two spellings and entries
    config = {
        "fields": {
            "name": "name",
            "metadata.parent": "Parent.Name",
            "metadata.owner": ["Owner.Email", "Parent.Name"],
        }
    }
    # When its fields are listed
    mapping = CustomerMapping.from_dict(config)
    # Then each is selected once (SOQL rejects duplicates), sorted, with Id and Name always there
    assert mapping.account_fields == ("Id", "Name", "Owner.Email", "Parent.Name")
    assert mapping.order_fields == ("Id",)


def test_rule_r6_order_fields_for_bill_to_and_ship_to_contacts() -> None:
    # Given email from the order's bill-to contact and a metadata key from its ship-to contact
    config = {"fields": {"email": "Order.BillToContact.Email", "metadata.ship_to": "Order.ShipToContact.Name"}}
    mapping = CustomerMapping.from_dict(config)
    # Then the subquery also selects both contact lookup ids
    assert mapping.order_fields == (
        "BillToContact.Email",
        "BillToContactId",
        "Id",
        "ShipToContact.Name",
        "ShipToContactId",
    )


def test_rule_r7_contact_ids_name_the_primary_contact_read() -> None:
    # Given an account whose primary contact fed the email
    record = account(Orders=orders("ap@acme.de", contact_id=CONTACT_ID))
    # When it is mapped with the standard preset
    mapped = load_mapping("standard").map_account(record)
    # Then the contact's id is reported (its changes must resync this customer)
    assert mapped.contact_ids == (CONTACT_ID,)


def test_rule_r7_contact_ids_include_a_contact_read_without_email() -> None:
    # Given a primary contact without email: its fields were read, a later email would change the customer
    record = account(Orders=orders(None, contact_id=CONTACT_ID))
    # When it is mapped
    mapped = load_mapping("standard").map_account(record)
    # Then it is still reported
    assert mapped.contact_ids == (CONTACT_ID,)


def test_rule_r7_contact_ids_exclude_contacts_not_read() -> None:
    # Given a fallback list where an account field comes before the contact
    mapping = CustomerMapping.from_dict({"fields": {"email": ["Billing_Email__c", PRIMARY_CONTACT_EMAIL]}})
    # When the account field is set, so the contact is never consulted
    record = account(Billing_Email__c="invoices@acme.de", Orders=orders("ap@acme.de"))
    mapped = mapping.map_account(record)
    # Then no contact is reported
    assert mapped.params["email"] == "invoices@acme.de"
    assert mapped.contact_ids == ()


def test_rule_r7_contact_ids_are_sorted_and_unique() -> None:
    # Given two contact paths on the order
    config = {"fields": {"email": "Order.BillToContact.Email", "metadata.ship_to": "Order.ShipToContact.Name"}}
    mapping = CustomerMapping.from_dict(config)
    order = {
        "attributes": {"type": "Order"},
        "Id": "8015g00000OrDeRAAA",
        "BillToContactId": "003B00000000002AAA",
        "BillToContact": {"attributes": {}, "Email": "ap@acme.de"},
        "ShipToContactId": "003A00000000001AAA",
        "ShipToContact": {"attributes": {}, "Name": "Lager Hamburg"},
    }
    # When the account is mapped
    mapped = mapping.map_account(account(Orders={"totalSize": 1, "done": True, "records": [order]}))
    # Then both ids are reported, sorted
    assert mapped.contact_ids == ("003A00000000001AAA", "003B00000000002AAA")
