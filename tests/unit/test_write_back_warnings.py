"""Write-back of a sync with field warnings: the account reads "Synced with warnings" and names the fields."""

from __future__ import annotations

from typing import Any

from shared.mapping import FieldWarning
from shared.sync import Outcome, SyncResult, WriteBackFields, write_back_update

ACCOUNT_ID = "0015g00000AbCdEAAV"
FIELDS = WriteBackFields("Stripe_Customer_ID__c", "Stripe_Sync_Status__c", "Stripe_Sync_Error__c")


def _write_back(result: SyncResult, **account: Any) -> dict[str, Any] | None:
    return write_back_update({"Id": ACCOUNT_ID, **account}, result, FIELDS)


def _warning(field: str, problem: str = "is not a country Stripe accepts; left out") -> FieldWarning:
    return FieldWarning(field, "address.country", problem, left_out=True)


def test_synced_with_warnings_names_each_field_and_problem() -> None:
    # Given a customer created while two fields could not be taken as they are
    warnings = (_warning("BillingCountry"), FieldWarning("Phone", "phone", "is 24 characters long; cut", False))
    result = SyncResult(ACCOUNT_ID, Outcome.CREATED, customer_id="cus_1", warnings=warnings)
    # When it is written back
    update = _write_back(result)
    # Then the account says so and names both fields
    assert update == {
        "Id": ACCOUNT_ID,
        "Stripe_Customer_ID__c": "cus_1",
        "Stripe_Sync_Status__c": "Synced with warnings",
        "Stripe_Sync_Error__c": "BillingCountry: is not a country Stripe accepts; left out; Phone: is 24 characters "
        "long; cut",
    }


def test_an_unchanged_sync_keeps_the_warnings_on_the_account() -> None:
    # Given an account already showing its warning, and a sync that changed nothing
    warnings = (_warning("BillingCountry"),)
    result = SyncResult(ACCOUNT_ID, Outcome.UNCHANGED, customer_id="cus_1", warnings=warnings)
    shown = {
        "Stripe_Customer_ID__c": "cus_1",
        "Stripe_Sync_Status__c": "Synced with warnings",
        "Stripe_Sync_Error__c": "BillingCountry: is not a country Stripe accepts; left out",
    }
    # When it is written back
    # Then nothing is written (an unchanged write-back would only trigger another message)
    assert _write_back(result, **shown) is None


def test_warnings_beyond_the_error_fields_255_characters_are_counted_not_cut_midway() -> None:
    # Given more warnings than a Text(255) field holds
    warnings = tuple(_warning(f"Field_{i}__c", "x" * 60) for i in range(6))
    result = SyncResult(ACCOUNT_ID, Outcome.UPDATED, customer_id="cus_1", warnings=warnings)
    # When it is written back
    error = (_write_back(result) or {})["Stripe_Sync_Error__c"]
    # Then whole warnings are shown, then how many more there are
    assert len(error) <= 255
    assert error.endswith("; 3 more: sfsync status")
    assert error.count("Field_") == 3


def test_a_clean_sync_clears_old_warnings() -> None:
    # Given an account that showed warnings, now synced without any
    result = SyncResult(ACCOUNT_ID, Outcome.UPDATED, customer_id="cus_1")
    shown = {"Stripe_Customer_ID__c": "cus_1", "Stripe_Sync_Status__c": "Synced with warnings"}
    update = _write_back(result, Stripe_Sync_Error__c="BillingCountry: …", **shown)
    # Then the status is back to Synced and the error field is cleared
    assert update == {"Id": ACCOUNT_ID, "Stripe_Sync_Status__c": "Synced", "Stripe_Sync_Error__c": None}
