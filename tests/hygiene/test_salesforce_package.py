"""One source of truth: the Salesforce DX package (salesforce/) and the stack agree on every name.

A field the package deploys under one API name and the stack reads under another, a field missing from an
Outbound Message, a platform event field the Event Relay function does not read: each breaks the sync
quietly in a real org. These tests read the package as the org simulator does (devtools.salesforce_sim.package)
and compare it with template.yaml, the receiver and the settings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.salesforce_package.render import ENDPOINT_PLACEHOLDER, USER_PLACEHOLDER
from devtools.salesforce_sim.package import PACKAGE_ROOT, SalesforcePackage, load_package
from devtools.salesforce_sim.schema import Schema
from devtools.sam.template_tables import load_template
from shared.mapping import load_mapping
from shared.salesforce import OUTBOUND_MESSAGE_FIELDS
from shared.salesforce.change_events import CHANGE_EVENT_TYPES
from shared.salesforce.outbound_requests import SYNC_NOW_MESSAGE_FIELDS
from shared.settings import PlatformEventSettings, WorkerSettings
from shared.sync.models import SObjectType

PRESETS = sorted((Path(__file__).parents[2] / "shared" / "mapping" / "presets").glob("*.json"))
INTEGRATION = "Stripe_Sync_Integration"


@pytest.fixture(scope="module")
def package() -> SalesforcePackage:
    return load_package()


def defaults() -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in load_template()["Parameters"].items()}


def test_account_fields_are_the_templates_parameter_defaults(package: SalesforcePackage) -> None:
    # Given the Account fields the package deploys and the stack's defaults for the fields it writes
    deployed = {f.name: f for f in package.fields_of("Account")}
    # Then every default names a deployed field, and the Stripe id field is a unique external id
    for parameter in ("StripeIdField", "SyncStatusField", "SyncErrorField", "AdoptField"):
        assert defaults()[parameter] in deployed, f"{parameter} default is not a field of salesforce/"
    stripe_id = deployed[defaults()["StripeIdField"]]
    assert (stripe_id.type, stripe_id.length, stripe_id.unique, stripe_id.external_id) == ("Text", 255, True, True)
    assert WorkerSettings.model_fields["salesforce_stripe_id_field"].default == stripe_id.name


def test_a_field_name_differing_from_the_template_default_is_caught(
    package: SalesforcePackage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a package whose Stripe id field was renamed (one typo)
    renamed = tuple(
        f if f.name != "Stripe_Customer_ID__c" else type(f)(**{**f.__dict__, "name": "Stripe_Customer_Id__c"})
        for f in package.custom_fields
    )
    typo = SalesforcePackage(**{**package.__dict__, "custom_fields": renamed})
    # Then the comparison above fails
    with pytest.raises(AssertionError, match="StripeIdField"):
        test_account_fields_are_the_templates_parameter_defaults(typo)


def test_outbound_messages_select_exactly_what_the_receiver_reads(package: SalesforcePackage) -> None:
    # Given the package's Outbound Messages, one per object the receiver handles, and "Sync to Stripe now"
    sync_now = package.outbound_message("Account.Stripe_Sync_Now")
    assert sync_now.fields == SYNC_NOW_MESSAGE_FIELDS
    by_object = {SObjectType(m.sobject): m for m in package.outbound_messages if m is not sync_now}
    assert set(by_object) == set(OUTBOUND_MESSAGE_FIELDS)
    # Then each selects the receiver's fields (Salesforce sends Id anyway; listed so the test sees it)
    for sobject, message in by_object.items():
        assert message.fields == OUTBOUND_MESSAGE_FIELDS[sobject], message.full_name


def test_every_outbound_message_is_sent_by_one_active_record_triggered_flow(package: SalesforcePackage) -> None:
    for message in package.outbound_messages:
        (flow,) = package.flows_sending(message)
        assert flow.active and flow.sobject == message.sobject
        assert flow.trigger == "CreateAndUpdate"


def test_rule_r1_order_message_fires_when_the_status_category_becomes_activated(package: SalesforcePackage) -> None:
    # Given the Flow that sends the Order message
    (flow,) = package.flows_sending(package.outbound_message("Order.Stripe_Order_Activated"))
    # Then it decides by StatusCode (the category), whatever label the org gives the status
    draft = {"Status": "Draft", "StatusCode": "Draft"}
    provisioned = {"Status": "Provisioned", "StatusCode": "Activated"}
    assert flow.fires(draft, provisioned)
    assert flow.fires(None, provisioned)
    # And only when the order is updated to meet it: a later edit of an activated order sends nothing
    assert not flow.fires(provisioned, {**provisioned, "Description": "edited"})
    assert not flow.fires(None, draft)


def test_account_and_contact_messages_skip_the_integration_users_own_changes(package: SalesforcePackage) -> None:
    # Given the custom permission the Account and Contact Flows check before sending
    for name in ("Account.Stripe_Account_Sync", "Contact.Stripe_Contact_Sync"):
        (flow,) = package.flows_sending(package.outbound_message(name))
        assert flow.skip_permission == INTEGRATION and flow.filters == ()
    # Then the integration user's permission set grants it, the people's one does not
    assert INTEGRATION in package.permission_sets[INTEGRATION].custom_permissions
    assert not package.permission_sets["Stripe_Sync_Fields"].custom_permissions


def test_platform_event_is_what_the_event_relay_function_reads(package: SalesforcePackage) -> None:
    # Given the stack's order-activation event settings
    settings = PlatformEventSettings.model_fields
    name = defaults()["OrderActivatedEventName"]
    assert settings["order_activated_event"].default == name
    # Then the package defines that event with those fields, and its Flow fills them from the order
    event = package.platform_event(name)
    order_id, account_id = settings["order_id_field"].default, settings["account_id_field"].default
    assert set(event.field_names()) == {order_id, account_id}
    (flow,) = package.flows_publishing(name)
    assert dict(flow.publishes) == {name: ((account_id, "AccountId"), (order_id, "Id"))}
    # And it is published on the same condition as the Order message is sent
    (order_flow,) = package.flows_sending(package.outbound_message("Order.Stripe_Order_Activated"))
    assert (flow.filters, flow.requires_change) == (order_flow.filters, order_flow.requires_change)


def test_event_relay_channel_carries_the_change_events_the_function_accepts(package: SalesforcePackage) -> None:
    # Given the optional Event Relay package directories' change-data-capture channel (CPQ's quote apart)
    assert {"event-relay", "event-relay-cpq"} <= set(package.directories)
    (entities,) = package.channel_members.values()
    # Then its members are exactly the change events the platform_event function turns into sync requests
    assert set(entities) == set(CHANGE_EVENT_TYPES)
    # And the stack's EventBridge rule lets each of them, and the order-activation event, through
    rule = load_template()["Resources"]["PlatformEventFunction"]["Properties"]["Events"]["SalesforceEvents"]
    detail_types = rule["Properties"]["Pattern"]["detail-type"]
    assert set(entities) | {"OrderActivatedEventName"} == {d["Ref"] if isinstance(d, dict) else d for d in detail_types}


def test_quote_message_fires_when_its_primary_contact_is_set_or_switched(package: SalesforcePackage) -> None:
    (flow,) = package.flows_sending(package.outbound_message("SBQQ__Quote__c.Stripe_Quote_Primary_Contact"))
    ada, bob = {"SBQQ__PrimaryContact__c": "003A"}, {"SBQQ__PrimaryContact__c": "003B"}
    assert flow.fires(None, ada) and flow.fires(ada, bob) and flow.fires({"SBQQ__PrimaryContact__c": None}, ada)
    assert not flow.fires(ada, {**ada, "SBQQ__Primary__c": True})
    assert not flow.fires(ada, {"SBQQ__PrimaryContact__c": None}) and not flow.fires(None, {})


def _read_fields(preset: Path) -> set[tuple[str, str]]:
    """(object, field) of every field a preset reads, relationship paths resolved through the org's schema."""
    schema, mapping = Schema(), load_mapping(preset)
    wanted = set()
    for start, paths in (("Account", mapping.account_fields), ("Order", mapping.order_fields)):
        for path in paths:
            obj = schema.require(start)
            *relationships, name = path.split(".")
            for relationship in relationships:
                lookup = obj.parent_relationship(relationship)
                assert lookup is not None and lookup.reference_to, path
                wanted.add((obj.name, lookup.name))
                obj = schema.require(lookup.reference_to)
            wanted.add((obj.name, name))
    return wanted


# Fields without field-level security: ids, names, system fields and required fields are readable with the
# object (Metadata API "PermissionSet": fieldPermissions refuses them). Address parts share one compound.
_NO_FLS = re.compile(r"^(Id|Name|IsDeleted|MasterRecordId|SystemModstamp|LastModifiedDate|CreatedDate)$")
_REQUIRED = {("Order", "AccountId"), ("Order", "Status"), ("Order", "StatusCode"), ("Order", "EffectiveDate")}
_COMPOUND = re.compile(r"^(Billing|Shipping|Mailing)(Street|City|State|PostalCode|Country|StateCode|CountryCode)$")


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.stem)
def test_integration_user_may_read_every_field_a_mapping_preset_reads(package: SalesforcePackage, preset: Path) -> None:
    # Given the integration user's permission sets (the CPQ one for CPQ objects)
    sets = [package.permission_sets[INTEGRATION], package.permission_sets[f"{INTEGRATION}_CPQ"]]
    readable_objects = {o for s in sets for o, (read, _) in s.objects.items() if read}
    readable_fields = {f for s in sets for f, (read, _) in s.fields.items() if read}
    # Then every field the preset reads is readable, with its object
    for sobject, name in sorted(_read_fields(preset)):
        assert sobject in readable_objects, sobject
        if _NO_FLS.match(name) or (sobject, name) in _REQUIRED:
            continue
        compound = _COMPOUND.match(name)
        permission = f"{sobject}.{compound.group(1)}Address" if compound else f"{sobject}.{name}"
        assert permission in readable_fields, f"{preset.stem} reads {sobject}.{name}"


def test_integration_user_has_api_access_and_edits_only_the_three_fields(package: SalesforcePackage) -> None:
    integration = package.permission_sets[INTEGRATION]
    assert "ApiEnabled" in integration.user_permissions
    edited = {
        f
        for s in package.permission_sets.values()
        if s.name.startswith(INTEGRATION)
        for f, (_, e) in s.fields.items()
        if e
    }
    account_fields = {f for f in edited if f.startswith("Account.")}
    assert account_fields == {
        f"Account.{defaults()[p]}" for p in ("StripeIdField", "SyncStatusField", "SyncErrorField")
    }
    # …and writes the sync history: every field of it but the formula and the master-detail (always writable)
    history = {f"Stripe_Sync_Record__c.{f.name}" for f in package.fields_of("Stripe_Sync_Record__c")}
    assert edited - account_fields == history - {
        "Stripe_Sync_Record__c.Stripe_Dashboard_Link__c",
        "Stripe_Sync_Record__c.Account__c",
    }
    assert integration.objects["Stripe_Sync_Record__c"] == (True, True)  # read; edit, which delete requires
    # People with the read set see what the sync writes, the history, and the Stripe Dashboard links
    readers = package.permission_sets["Stripe_Sync_Fields"]
    assert set(readers.fields) == account_fields | {"Account.Stripe_Dashboard_Link__c"} | (
        history - {"Stripe_Sync_Record__c.Account__c"}
    )
    assert not any(e for _, e in readers.fields.values())
    # Pressing "Sync to Stripe now" needs edit on the one field the quick action sets, nothing else
    (action,) = package.quick_actions
    sync_now = package.permission_sets["Stripe_Sync_Now"]
    assert {f"Account.{name}" for name, _ in action.field_overrides} == {
        f for f, (_, e) in sync_now.fields.items() if e
    }


def test_committed_package_carries_no_endpoint_token_and_no_org_user(package: SalesforcePackage) -> None:
    # The endpoint URL holds the stack's secret token: `make salesforce-package` renders it, into .local/
    for message in package.outbound_messages:
        assert (message.endpoint_url, message.integration_user) == (ENDPOINT_PLACEHOLDER, USER_PLACEHOLDER)
    assert PACKAGE_ROOT.name == "salesforce"
