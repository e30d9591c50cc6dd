"""The Event Relay fuzz's generator (devtools/reliability/hostile_events.py) draws what it says it draws.

`make reliability` delivers 10,000 of these events to the platform-event function; these tests keep the
labels honest: a hostile event is one the contract (shared.salesforce.change_events) refuses or ignores, and
a valid Streaming API event is one it turns into sync requests. A mislabelled kind would hide a real fault.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings

from devtools.reliability.hostile_events import RelayEvent, relay_events
from shared.salesforce import normalise_event

ORG_ID = "00D000000000001EAA"


@dataclass(frozen=True)
class Settings:
    """The platform-event settings normalisation reads, with the template's defaults."""

    order_activated_event: str = "Stripe_Order_Activated__e"
    order_id_field: str = "OrderId__c"
    account_id_field: str | None = "AccountId__c"
    write_back_field_names: frozenset[str] = frozenset({"Stripe_Customer_ID__c", "Stripe_Sync_Status__c"})

    def is_allowed_org(self, org_id: str) -> bool:
        return org_id == ORG_ID


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(relay_events(ORG_ID))
def test_hostile_events_are_never_turned_into_sync_requests(case: RelayEvent) -> None:
    # Given a generated event; When the function's normalisation reads it
    result = normalise_event(case.event, Settings())
    # Then a hostile one gives no request, and a refused one says why
    if not case.may_enqueue:
        assert result.requests == (), case.kind
    if result.dropped is not None:
        assert result.dropped.strip()
    # And a valid Streaming API change event becomes one request per record
    if case.kind == "valid change, Streaming API JSON":
        header = case.event["detail"]["payload"]["ChangeEventHeader"]
        assert len(result.requests) == len({record_id[:15] for record_id in header["recordIds"]})
