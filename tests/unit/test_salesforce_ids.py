"""Canonical Salesforce ids: every id the product accepts is checked against its checksum.

Salesforce documents the 18-character id as the 15-character id plus 3 checksum characters computed from the
case of its letters (SOAP API Developer Guide, "Field Types" → "ID Field Type":
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm) and never sends one whose
suffix does not match. An id with an org's or a record's 15 characters and another suffix ("right 15,
wrong suffix") would otherwise become a key of its own — a second state item, idempotency key and Stripe
create key for the same org or account, and so a second customer.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any

import pytest

from devtools.local_runtime.stack import load_handler
from devtools.sam.lambda_events import FakeLambdaContext, change_event, eventbridge_event, http_api_event
from devtools.sam.make_events import soap_message
from ops.cli import _account_id
from shared.salesforce.change_events import MALFORMED_EVENT, normalise_event
from shared.salesforce.ids import WRONG_SUFFIX, checksum, id_problem, is_salesforce_id, to_18
from shared.salesforce.outbound_message import parse_outbound_message
from shared.salesforce.outbound_requests import from_outbound_message
from shared.settings import PlatformEventSettings, SettingsError, WorkerSettings

ORG_15 = "00D5g000004ABCD"
ORG_ID = to_18(ORG_15)
ACCOUNT_ID = to_18("0015g00000ACCT1")
ORDER_ID = to_18("8015g00000ORDR1")
TOKEN = "t0ken"


def wrong_suffix(canonical: str) -> str:
    """The same 15 characters with another (well-formed) 3-character suffix."""
    return canonical[:15] + ("AAA" if canonical[15:] != "AAA" else "BAA")


def test_the_checksum_is_the_documented_one() -> None:
    # Given ids whose 18-char forms Salesforce shows (the sample records of the SOAP API guide and a real org)
    # Then the suffix is computed from the case of the letters, 5 characters per suffix character
    assert to_18("001xx000003DGb2") == "001xx000003DGb2AAG"
    assert checksum("00Dxx0000001gPF") == "EAY"
    # And an 18-char id is kept only when its suffix is that checksum
    assert to_18("001xx000003DGb2AAG") == "001xx000003DGb2AAG"
    with pytest.raises(ValueError, match="checksum"):
        to_18("001xx000003DGb2AAA")
    assert not is_salesforce_id("001xx000003DGb2AAA", "001")
    assert id_problem(wrong_suffix(ORG_ID)) == WRONG_SUFFIX


def test_org_id_setting_with_a_wrong_suffix_is_a_configuration_error_naming_the_variable() -> None:
    # Given ORGANIZATION_IDS holding the org's 15 characters with a mistyped suffix
    env = {
        "ORGANIZATION_IDS": wrong_suffix(ORG_ID),
        "SYNC_QUEUE_URL": "http://127.0.0.1:1/q",
        "STATE_TABLE_NAME": "state",
        "IDEMPOTENCY_TABLE_NAME": "idem",
        "STRIPE_API_KEY": "sk_test_x",
        "SALESFORCE_CREDENTIALS_JSON": "{}",
    }
    # Then the function refuses to start, naming the variable and why (not a second namespace for the org)
    with pytest.raises(SettingsError, match=r"ORGANIZATION_IDS.*checksum"):
        WorkerSettings.from_env(env)
    # And a 15-char entry is extended to the canonical form
    assert WorkerSettings.from_env({**env, "ORGANIZATION_IDS": ORG_15}).organization_ids == [ORG_ID]


def test_allow_list_accepts_both_forms_of_the_org_and_no_alias() -> None:
    # Given the org allowed by its 15-char id
    settings = PlatformEventSettings.from_env({"ORGANIZATION_IDS": ORG_15, "SYNC_QUEUE_URL": "q"})
    # Then its 15- and 18-char forms are allowed, its 15 characters with another suffix are not
    assert settings.is_allowed_org(ORG_15) and settings.is_allowed_org(ORG_ID)
    assert not settings.is_allowed_org(wrong_suffix(ORG_ID))
    assert "checksum" in (settings.org_refusal(wrong_suffix(ORG_ID)) or "")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    # The queue URL is unreachable: a message that got as far as the queue would be answered 503.
    env = {"ORGANIZATION_IDS": ORG_ID, "SYNC_QUEUE_URL": "http://127.0.0.1:9/queue", "OUTBOUND_TOKEN": TOKEN}
    return load_handler("functions.outbound_message.app", monkeypatch, env)


def _account_message(org_id: str, account_id: str = ACCOUNT_ID) -> bytes:
    return soap_message([("04l5g0000000001AAA", "Account", {"Id": account_id})], org_id=org_id)


def test_outbound_message_org_id_right_15_wrong_suffix_is_refused_with_a_403(receiver: ModuleType) -> None:
    # Given an Outbound Message whose OrganizationId is the allowed org's 15 characters with another suffix
    body = _account_message(wrong_suffix(ORG_ID))
    # When Salesforce (or anyone) posts it
    event = http_api_event(body, query=f"token={TOKEN}")
    response: dict[str, Any] = receiver.lambda_handler(event, FakeLambdaContext())
    # Then it is refused with a 403 SOAP fault and never reaches the queue (that would be a 503 here)
    assert response["statusCode"] == 403
    assert "<faultstring>" in response["body"]


def test_outbound_message_keys_use_the_canonical_org_and_record_ids() -> None:
    # Given a message carrying the org's and the account's 15-char forms
    message = parse_outbound_message(_account_message(ORG_15, ACCOUNT_ID[:15]), max_bytes=1 << 20)
    # When it is normalised
    (request,) = from_outbound_message(message).requests
    # Then the sync request (and every key built from it) carries the canonical 18-char ids
    assert (request.org_id, request.record_id, request.account_id) == (ORG_ID, ACCOUNT_ID, ACCOUNT_ID)


def test_outbound_message_record_id_with_a_wrong_suffix_is_unusable_with_the_reason() -> None:
    # Given an Account notification whose sf:Id has the account's 15 characters and another suffix
    message = parse_outbound_message(_account_message(ORG_ID, wrong_suffix(ACCOUNT_ID)), max_bytes=1 << 20)
    # When it is normalised
    normalised = from_outbound_message(message)
    # Then no request is made for it and the reason says why
    assert normalised.requests == ()
    (unusable,) = normalised.unusable
    assert "checksum" in unusable.reason


SETTINGS = PlatformEventSettings.from_env({"ORGANIZATION_IDS": ORG_ID, "SYNC_QUEUE_URL": "q"})


def test_change_event_from_an_org_alias_is_dropped_as_malformed() -> None:
    # Given an Account change event whose source names the org's 15 characters with another suffix
    event = change_event("Account", "UPDATE", [ACCOUNT_ID], org_id=wrong_suffix(ORG_ID), commit_ms=1793611920000)
    # When it is normalised
    result = normalise_event(event, SETTINGS)
    # Then nothing is queued and the reason names the checksum
    assert result.requests == ()
    assert result.metric == MALFORMED_EVENT and "checksum" in (result.dropped or "")


def test_change_event_record_id_with_a_wrong_suffix_is_dropped_as_malformed() -> None:
    # Given a change event whose recordIds hold an account id with a wrong suffix
    event = change_event("Account", "UPDATE", [wrong_suffix(ACCOUNT_ID)], org_id=ORG_ID, commit_ms=1793611920000)
    # Then no request is made for it, with the reason
    result = normalise_event(event, SETTINGS)
    assert result.requests == () and "checksum" in (result.dropped or "")


def test_change_event_15_char_record_ids_become_canonical() -> None:
    # Given a change event naming the account by its 15-char id
    event = change_event("Account", "UPDATE", [ACCOUNT_ID[:15]], org_id=ORG_ID, commit_ms=1793611920000)
    # Then the request carries the 18-char form
    (request,) = normalise_event(event, SETTINGS).requests
    assert request.record_id == ACCOUNT_ID


def test_order_activation_with_a_wrong_order_id_suffix_is_dropped_and_a_wrong_account_hint_ignored() -> None:
    # Given an activation whose OrderId has a wrong suffix, and one whose AccountId hint has one
    bad_order = {"OrderId__c": wrong_suffix(ORDER_ID), "AccountId__c": ACCOUNT_ID, "EventUuid": "u1"}
    bad_hint = {"OrderId__c": ORDER_ID, "AccountId__c": wrong_suffix(ACCOUNT_ID), "EventUuid": "u2"}
    # Then the first is refused and the second queued without the hint (the worker looks the account up)
    activation = "Stripe_Order_Activated__e"
    assert normalise_event(eventbridge_event(activation, bad_order, org_id=ORG_ID), SETTINGS).dropped
    (request,) = normalise_event(eventbridge_event(activation, bad_hint, org_id=ORG_ID), SETTINGS).requests
    assert request.record_id == ORDER_ID and request.account_id is None


def test_sfsync_account_argument_with_a_wrong_suffix_is_a_usage_error() -> None:
    # Given an operator typing an account id with a wrong suffix (e.g. copied from a spreadsheet)
    # Then sfsync refuses it instead of looking up a state item no sync would ever write
    with pytest.raises(argparse.ArgumentTypeError, match="checksum"):
        _account_id(wrong_suffix(ACCOUNT_ID))
    assert _account_id(ACCOUNT_ID[:15]) == ACCOUNT_ID
