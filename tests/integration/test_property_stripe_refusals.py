"""Property: a field Stripe refuses costs only that field, whichever account and whichever field.

For any account the standard mapping maps (R5) and any single Stripe parameter its customer is sent with,
when Stripe refuses that parameter (a 400 naming it in ``param``: https://docs.stripe.com/api/errors), the
customer still exists, every other mapped field arrived, and a field warning names the Salesforce field.
Against the Stripe emulator (``refuse_param``) and dynalite.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.mapping import load_mapping
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH
from shared.state.account_state import AccountStateStore
from shared.stripe.customer_diff import flatten
from shared.stripe.gateway import StripeCustomerGateway
from shared.stripe.refusals import flat_path
from shared.sync.account_snapshot import snapshot_from_record
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, contact_record, new_id, order_record

MAPPING = load_mapping("standard")
_WHOLE = ("address", "shipping")


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    """Accounts with any subset of the standard fields, in values Stripe and Stripe Tax take."""
    fields = {
        "Name": draw(st.sampled_from(["Acme Inc", "Muster GmbH", "Société Générale"])),
        "Phone": draw(_maybe(["+49 30 123456", "+1 541 555 0100"])),
        "Description": draw(_maybe(["Key account", "Reseller"])),
        "BillingStreet": draw(_maybe(["27 Fredrick Ave", "Hauptstr. 1\nHinterhaus"])),
        "BillingCity": draw(_maybe(["Brothers", "Berlin"])),
        "BillingPostalCode": draw(_maybe(["97712", "10115"])),
        "BillingCountry": draw(_maybe(["Germany", "DE", "France"])),
        "ShippingStreet": draw(_maybe(["1 Dock Rd"])),
        "ShippingCity": draw(_maybe(["Hamburg"])),
        "ShippingCountry": draw(_maybe(["Germany", "Netherlands"])),
    }
    email = draw(_maybe(["billing@example.com", "ap@muster.de"]))
    return {"fields": fields, "email": email}


def param_of(path: str) -> str:
    """A flat dot-path as Stripe's bracketed param: ``shipping.address.city`` → ``shipping[address][city]``."""
    if path.startswith("metadata."):
        return f"metadata[{path.removeprefix('metadata.')}]"
    head, *rest = path.split(".")
    return head + "".join(f"[{part}]" for part in rest)


def root_of(path: str) -> str:
    top = path.split(".", 1)[0]
    return top if top in _WHOLE else path


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_single_refused_field_costs_only_that_field(
    data: st.DataObject, stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given any mapped account, and Stripe refusing one of the parameters its customer is sent with
    drawn = data.draw(accounts())
    order = order_record(contact_record(drawn["email"])) if drawn["email"] else True
    record = account_record(account_id=new_id("001"), modstamp=1, order=order, **drawn["fields"])
    mapped = MAPPING.map_account(record)
    refusable = sorted(path for path in mapped.flat if path != ACCOUNT_ID_PATH)
    refused = data.draw(st.sampled_from(refusable))
    stripe_emulator.clear_faults()
    stripe_emulator.refuse_param(param_of(refused))
    stripe = StripeCustomerGateway("sk_test_property", api_base=stripe_emulator.base_url, timeout_seconds=5)
    engine = CustomerSync(MAPPING, stripe, AccountStateStore(state_table, dynamodb, lease_seconds=30))
    # When the account is synced
    snapshot = snapshot_from_record(ORG_ID, record, stripe_id_field="Stripe_Customer_ID__c")
    result = engine.sync(snapshot, may_create=True)
    # Then the customer exists
    assert result.outcome is Outcome.CREATED, result.error
    customer = flatten(stripe_emulator.customer(result.customer_id))
    # And every field outside the refused part arrived as mapped
    root = root_of(refused)
    others = {p: v for p, v in mapped.flat.items() if p != root and not p.startswith(f"{root}.")}
    assert {p: customer.get(p) for p in others} == others
    # And a warning names the Salesforce field Stripe refused
    named = MAPPING.source_of(flat_path(param_of(refused)))
    assert [(w.field, w.stripe_path) for w in result.warnings if re.search("parameter_invalid", w.problem)] == [
        (named, root)
    ]
