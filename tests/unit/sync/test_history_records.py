"""Which syncs leave a Stripe Sync Record, and what it tells the admin (``shared.sync.history``, pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.mapping import FieldWarning
from shared.sync.customer_sync import Outcome, SyncResult
from shared.sync.history import HistoryLevel, SyncHistory
from shared.sync.models import TriggerSource

ACCOUNT = "001000000000001AAA"
AT = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _record(
    result: SyncResult, source: TriggerSource = TriggerSource.OUTBOUND_MESSAGE, **history: object
) -> dict | None:  # type: ignore[type-arg]
    return SyncHistory(**history).record(ACCOUNT, source, result, AT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (Outcome.CREATED, "Created"),
        (Outcome.UPDATED, "Updated"),
        (Outcome.UNCHANGED, None),
        (Outcome.STALE, None),
        (Outcome.NO_CUSTOMER, None),
        (Outcome.SKIPPED_DELETED, None),
    ],
)
def test_by_default_only_syncs_that_did_something_are_recorded(outcome: Outcome, expected: str | None) -> None:
    # Given a sync's outcome, When the history at its default level records it
    record = _record(SyncResult(ACCOUNT, outcome, customer_id="cus_1"))
    # Then only creates and updates (and failures) leave a record
    assert (record or {}).get("Outcome__c") == expected


def test_a_refusal_names_the_salesforce_field_and_the_fix_but_no_value() -> None:
    # Given Stripe refused the account's phone as a whole sync
    result = SyncResult(ACCOUNT, Outcome.PERMANENT_ERROR, error="invalid phone number", error_field="Phone")
    # When it is recorded
    record = _record(result) or {}
    # Then the admin reads the field, the problem and what to do
    assert record["Outcome__c"] == "Refused"
    assert record["Error__c"] == "Phone: invalid phone number"
    assert (
        record["Fix__c"] == "Correct Phone (or the record it comes from), then press Sync to Stripe now on the account."
    )
    assert (record["Account__c"], record["Source__c"], record["Synced_At__c"]) == (
        ACCOUNT,
        "Outbound Message",
        "2026-12-07T10:00:00.000Z",
    )


def test_an_error_without_a_field_is_an_error_not_a_refusal() -> None:
    result = SyncResult(ACCOUNT, Outcome.PERMANENT_ERROR, error="the customer belongs to another account")
    assert (_record(result) or {})["Outcome__c"] == "Error"


def test_warnings_are_recorded_with_the_fields_to_correct() -> None:
    # Given a sync that left the billing country out
    warning = FieldWarning("BillingCountry", "address.country", "not a country Stripe knows: left out", True)
    record = _record(SyncResult(ACCOUNT, Outcome.UPDATED, customer_id="cus_1", warnings=(warning,))) or {}
    # Then the record says what was left out and which field to correct
    assert record["Warnings__c"] == "BillingCountry: not a country Stripe knows: left out"
    assert "(BillingCountry)" in record["Fix__c"]


def test_a_manual_sync_is_always_recorded_so_the_admin_sees_its_result() -> None:
    result = SyncResult(ACCOUNT, Outcome.UNCHANGED, customer_id="cus_1")
    assert (_record(result, TriggerSource.MANUAL) or {})["Outcome__c"] == "Unchanged"
    assert _record(result, TriggerSource.RECONCILE) is None
    assert (_record(result, TriggerSource.RECONCILE, level=HistoryLevel.EVERYTHING) or {})["Source__c"] == "Reconcile"


def test_a_replayed_result_and_the_level_off_record_nothing() -> None:
    created = SyncResult(ACCOUNT, Outcome.CREATED, customer_id="cus_1")
    assert _record(SyncResult(ACCOUNT, Outcome.CREATED, customer_id="cus_1", duplicate=True)) is None
    assert _record(created, level=HistoryLevel.OFF) is None


def test_retention_is_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least 1 day"):
        SyncHistory(retention_days=0)


def test_at_the_errors_level_only_refusals_warnings_and_manual_syncs_are_recorded() -> None:
    # Given the admin's History Level preference set to "errors"
    level = {"level": HistoryLevel.ERRORS}
    warned = FieldWarning("Phone", "phone", "is 24 characters long; Stripe takes 20", left_out=True)
    # When plain, warned, refused and manual syncs are recorded
    plain = _record(SyncResult(ACCOUNT, Outcome.UPDATED, customer_id="cus_1"), **level)
    with_warning = _record(SyncResult(ACCOUNT, Outcome.UPDATED, customer_id="cus_1", warnings=(warned,)), **level)
    refused = _record(SyncResult(ACCOUNT, Outcome.PERMANENT_ERROR, error="too long", error_field="Phone"), **level)
    manual = _record(SyncResult(ACCOUNT, Outcome.UPDATED, customer_id="cus_1"), TriggerSource.MANUAL, **level)
    # Then a plain update leaves nothing; the warned one, the refusal and the admin's own sync are recorded
    assert plain is None
    assert (with_warning or {}).get("Outcome__c") == "Updated"
    assert (refused or {}).get("Outcome__c") == "Refused"
    assert (manual or {}).get("Outcome__c") == "Updated"


def test_the_history_follows_the_admins_preferences_and_off_records_nothing() -> None:
    # Given preferences read from Salesforce: level off, retention 7 days
    from shared.salesforce.preferences import Preferences

    history = SyncHistory.of(Preferences(history_level=HistoryLevel.OFF, history_retention_days=7))
    # When a refusal is recorded
    record = history.record(ACCOUNT, TriggerSource.MANUAL, SyncResult(ACCOUNT, Outcome.PERMANENT_ERROR), AT)
    # Then nothing is kept, and the retention is the admin's
    assert record is None and not history.enabled and history.retention_days == 7
