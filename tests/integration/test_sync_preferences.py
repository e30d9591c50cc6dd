"""The admin's sync preferences read from Salesforce, and their start date and order filter in the order selection.

Read through the worker's own Salesforce gateway from the org simulator, where the preferences are the org
default of the ``Stripe_Sync_Preferences__c`` hierarchy custom setting (Apex Reference, ``getOrgDefaults()``:
https://developer.salesforce.com/docs/atlas.en-us.apexref.meta/apexref/apex_methods_system_custom_settings.htm).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from simple_salesforce import Salesforce

from devtools.salesforce_sim import SalesforceSimulator
from shared.errors import TransientSyncError
from shared.reconcile.reconciler import page_soql
from shared.salesforce.gateway import AccountQuery, SimpleSalesforceGateway
from shared.salesforce.preferences import (
    RETRY_SECONDS,
    SETTING,
    HistoryLevel,
    OrderFilterRefused,
    Preferences,
    PreferencesReader,
)
from shared.settings import CreationMode

QUERY = AccountQuery(("Name",), ("EffectiveDate",))


class Clock:
    """A monotonic clock the test moves (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def gateway(sim: SalesforceSimulator) -> SimpleSalesforceGateway:
    """The worker's Salesforce gateway on the simulator."""
    return SimpleSalesforceGateway(lambda: Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token()))


def _queries(sim: SalesforceSimulator) -> int:
    return sim.api_calls["query"] + sim.api_calls["queryAll"]


def test_without_an_org_default_the_worker_uses_its_defaults(gateway: SimpleSalesforceGateway) -> None:
    # Given an org where nobody saved the preferences (the package ships no record)
    # When the worker reads them
    preferences = PreferencesReader(gateway.query).current()
    # Then the defaults apply: live, no start date, no filter, history of changes kept 30 days, 80 % API budget
    assert preferences == Preferences()
    assert preferences.live_sync is True and preferences.start_date is None and preferences.order_filter is None
    assert preferences.history_level is HistoryLevel.CHANGES
    assert (preferences.history_retention_days, preferences.api_budget_percent) == (30, 80)
    assert preferences.order_conditions() == () and preferences.warnings == ()


def test_the_admins_values_are_read(sim: SalesforceSimulator, gateway: SimpleSalesforceGateway) -> None:
    # Given the admin's org default
    sim.set_org_default(
        SETTING,
        {
            "Live_Sync__c": False,
            "Start_Date__c": "2026-11-01",
            "Order_Filter__c": " EffectiveDate >= 2026-01-01 ",
            "History_Level__c": "Everything",
            "History_Retention_Days__c": 7,
            "API_Budget_Percent__c": 50,
        },
    )
    # When the worker reads them
    preferences = PreferencesReader(gateway.query).current()
    # Then every value is the admin's
    assert preferences == Preferences(
        live_sync=False,
        start_date=date(2026, 11, 1),
        order_filter="EffectiveDate >= 2026-01-01",
        history_level=HistoryLevel.EVERYTHING,
        history_retention_days=7,
        api_budget_percent=50,
    )
    assert preferences.warnings == ()
    assert preferences.order_conditions() == (
        "ActivatedDate >= 2026-11-01T00:00:00Z",
        "(EffectiveDate >= 2026-01-01)",
    )


def test_preferences_cost_no_call_per_batch_once_read(
    sim: SalesforceSimulator, gateway: SimpleSalesforceGateway
) -> None:
    # Given a worker instance that read the preferences (with an order filter: one query, one check)
    sim.set_org_default(SETTING, {"Order_Filter__c": "EffectiveDate >= 2026-01-01"})
    clock = Clock()
    reader = PreferencesReader(gateway.query, clock=clock)
    reader.current()
    before = _queries(sim)
    # When batches keep asking for them within 5 minutes, even after the admin changed them
    sim.set_org_default(SETTING, {"Live_Sync__c": False})
    for _ in range(50):
        clock.now += 5
        assert reader.current().live_sync is True
    # Then Salesforce was not asked again
    assert _queries(sim) == before
    # When 5 minutes have passed since the read
    clock.now += 50
    # Then the next batch reads them once more and sees the change
    assert reader.current().live_sync is False
    assert _queries(sim) == before + 2  # the setting, and the filter's check


@pytest.mark.parametrize(
    ("field", "value", "attribute", "default"),
    [
        ("History_Level__c", "sometimes", "history_level", HistoryLevel.CHANGES),
        ("History_Retention_Days__c", 0, "history_retention_days", 30),
        ("API_Budget_Percent__c", 150, "api_budget_percent", 80),
    ],
)
def test_an_invalid_value_is_a_warning_naming_the_field_never_a_stopped_sync(
    sim: SalesforceSimulator,
    gateway: SimpleSalesforceGateway,
    field: str,
    value: object,
    attribute: str,
    default: object,
) -> None:
    # Given an org default with one value the sync can't use, beside a good one
    sim.set_org_default(SETTING, {field: value, "Live_Sync__c": False})
    # When the worker reads the preferences
    preferences = PreferencesReader(gateway.query).current()
    # Then that value's default applies, a warning names the field, and the good value still counts
    assert getattr(preferences, attribute) == default
    (warning,) = preferences.warnings
    assert warning.startswith(f"{SETTING}.{field}: ")
    assert preferences.live_sync is False


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm",
    "a query naming a field the object lacks is refused with INVALID_FIELD; bad syntax with MALFORMED_QUERY",
)
@pytest.mark.parametrize(
    ("order_filter", "code"),
    [("Typo__c = 'New'", "INVALID_FIELD"), ("EffectiveDate >=", "MALFORMED_QUERY")],
)
def test_a_refused_order_filter_is_an_error_naming_the_preference(
    sim: SalesforceSimulator, gateway: SimpleSalesforceGateway, order_filter: str, code: str
) -> None:
    # Given an order filter Salesforce refuses
    sim.set_org_default(SETTING, {"Order_Filter__c": order_filter})
    # When the worker reads the preferences, Then it keeps Salesforce's refusal (its code and message)
    preferences = PreferencesReader(gateway.query).current()
    assert preferences.order_filter_error is not None and preferences.order_filter_error.startswith(f"{code}: ")
    # And the order selection refuses to run without it, naming the preference (retried, never dropped)
    with pytest.raises(OrderFilterRefused, match=rf"^{SETTING}.Order_Filter__c: Salesforce refuses") as refused:
        preferences.order_conditions()
    assert isinstance(refused.value, TransientSyncError)


def test_an_unreachable_salesforce_keeps_the_preferences_read_before(
    sim: SalesforceSimulator, gateway: SimpleSalesforceGateway
) -> None:
    # Given a worker that read Live Sync off
    sim.set_org_default(SETTING, {"Live_Sync__c": False})
    clock = Clock()
    reader = PreferencesReader(gateway.query, clock=clock)
    assert reader.current().live_sync is False
    # When Salesforce answers 503 at the next read
    clock.now += 301
    sim.fail_next("query", status=503, count=5)
    # Then the preferences read before stay in force (no switch back to the defaults)
    assert reader.current().live_sync is False
    # And a fresh instance that never read them says so (the batch is retried), rather than guess
    fresh = PreferencesReader(gateway.query, clock=clock)
    with pytest.raises(TransientSyncError):
        fresh.current(retry_seconds=RETRY_SECONDS)
    # And the held batches right after it (the gate's reads) don't ask a failing Salesforce again for 30 s
    failing = sim.api_calls["query"]
    with pytest.raises(TransientSyncError, match="unreadable a moment ago"):
        fresh.current(retry_seconds=RETRY_SECONDS)
    assert sim.api_calls["query"] == failing
    while sim.failures.take("query") is not None:  # Salesforce answers again
        pass
    clock.now += 31
    assert fresh.current(retry_seconds=RETRY_SECONDS).live_sync is False


def _account_with_order(sim: SalesforceSimulator, name: str, activated: datetime | None) -> tuple[str, str]:
    account = sim.create("Account", {"Name": name})
    order = sim.create("Order", {"AccountId": account, "EffectiveDate": "2026-01-15", "Status": "Draft"})
    sim.update("Order", order, {"Status": "Activated"})
    if activated is not None:
        sim.load_system_fields("Order", order, {"ActivatedDate": activated})
    return account, order


def test_the_start_date_and_the_filter_narrow_the_order_selection_of_worker_and_reconcile(
    sim: SalesforceSimulator, gateway: SimpleSalesforceGateway
) -> None:
    # Given an order activated before the start date, one after it, and one after it that the filter excludes
    old, _ = _account_with_order(sim, "Alt GmbH", datetime(2025, 6, 1, tzinfo=UTC))
    new, new_order = _account_with_order(sim, "Neu GmbH", None)  # activated now
    excluded, excluded_order = _account_with_order(sim, "Ausgefiltert GmbH", None)
    sim.update("Order", excluded_order, {"EffectiveDate": "2025-12-31"})
    sim.set_org_default(SETTING, {"Start_Date__c": "2026-01-01", "Order_Filter__c": "EffectiveDate >= 2026-01-01"})
    conditions = PreferencesReader(gateway.query).current().order_conditions()
    query = AccountQuery(QUERY.account_fields, QUERY.order_fields, conditions)
    # When the worker reads the three accounts
    records = gateway.read_accounts([old, new, excluded], query)
    # Then only the order the preferences let through counts as the account's activated order
    assert records[new]["Orders"]["records"][0]["Id"] == new_order
    assert records[old]["Orders"] is None and records[excluded]["Orders"] is None
    # And the reconcile's backfill lists only that account
    listed = gateway.query(page_soql(query, CreationMode.ORDER_ACTIVATION, after=None, limit=None))
    assert [record["Id"] for record in listed] == [new]


def test_an_org_without_the_setting_syncs_with_the_defaults_and_a_warning(
    sim: SalesforceSimulator, gateway: SimpleSalesforceGateway
) -> None:
    # Given an org where the package's preferences setting isn't deployed (an older package version)
    del sim.schema._objects[SETTING.lower()]
    # When the worker reads the preferences, Then Salesforce's INVALID_TYPE becomes the defaults and a warning
    preferences = PreferencesReader(gateway.query).current()
    assert preferences == Preferences()
    (warning,) = preferences.warnings
    assert warning.startswith(f"{SETTING} is not readable (INVALID_TYPE: ")
    assert "deploy the package" in warning
