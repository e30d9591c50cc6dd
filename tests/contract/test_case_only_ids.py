"""Two records whose 15-char ids differ only in letter case are two records wherever the sync keys by an id.

The public bug report this guards against: "DLRS v2.1 - v2.3 - Lookup Rollup Calculate Jobs not
Case-sensitive" (https://github.com/SFDO-Community/declarative-lookup-rollup-summaries/issues/347). A job
lock keyed on the record's 15-char id, compared without regard to case, made the job of ``a9U290000004GNy``
block ``a9U290000004GNY`` ("a job is already running for the record"); it was fixed by keying on the
18-char id. The same class of bug: "UNIQUE KEY salesforce (salesforce_id) needs to be case sensitive"
(https://github.com/MinnPost/object-sync-for-salesforce/issues/131).

Salesforce: a 15-char id is case-sensitive; the 18-char id adds 3 checksum characters encoding the case of
the 15, so two records never share an 18-char id even ignoring case (SOAP API Developer Guide, "ID Field
Type": https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm). Salesforce's APIs
answer with 18 characters; people and other tools (a Salesforce Classic URL, a report export) use 15.

Where the sync keys by an account id, the report's pair is tried: the intake (the id every key derives from),
the per-account lease and state (in-memory fake and ``AccountStateStore`` on dynalite), the Stripe customer
found by its account-id metadata (``FakeStripe`` and ``StripeCustomerGateway`` on the Stripe emulator), and
reconcile's customer index and identity verdicts. The last of these found a gap: the index keyed customers by
their metadata as written, so a second customer naming the account by its 15-char id went unreported.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.sam.lambda_events import change_event
from shared.mapping.stripe_paths import ACCOUNT_ID_METADATA_KEY
from shared.reconcile.customer_index import CustomerIndex
from shared.reconcile.identity import judge
from shared.reconcile.reconciler import AccountCheck, Verdict
from shared.salesforce.change_events import normalise_event
from shared.salesforce.ids import to_18
from shared.settings import PlatformEventSettings
from shared.state.account_item import Commit
from shared.state.account_state import AccountStateStore
from shared.stripe.gateway import CustomerGateway, StripeCustomerGateway
from tests.factories import ORG_ID
from tests.fakes import FakeClock, FakeStripe, InMemoryStateStore

# The report's two ids (same 15 characters but for the case of the last letter), with Account's key prefix.
LOWER_15, UPPER_15 = "001290000004GNy", "001290000004GNY"
LOWER, UPPER = to_18(LOWER_15), to_18(UPPER_15)
LEASE_SECONDS = 30


@pytest.fixture(params=["in_memory", pytest.param("dynamodb", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest) -> Any:
    """The state store: the fake, or the real one on a fresh dynalite table (DynamoDB keys are case-sensitive)."""
    if request.param == "in_memory":
        return InMemoryStateStore(lease_seconds=LEASE_SECONDS, clock=FakeClock())
    table, client = request.getfixturevalue("state_table"), request.getfixturevalue("dynamodb")
    return AccountStateStore(table, client, lease_seconds=LEASE_SECONDS, clock=FakeClock())


@pytest.fixture(params=["in_memory", pytest.param("emulator", marks=pytest.mark.integration)])
def stripe(request: pytest.FixtureRequest) -> CustomerGateway:
    """The Stripe customer port: the fake, or the real adapter against the Stripe emulator."""
    if request.param == "in_memory":
        return FakeStripe()
    emulator = request.getfixturevalue("stripe_emulator")
    return StripeCustomerGateway("sk_test_case_ids", api_base=emulator.base_url, timeout_seconds=5)


def test_case_only_ids_have_canonical_forms_that_differ_even_ignoring_case() -> None:
    # Given the report's two 15-char ids, which differ only in the case of one letter
    # When each is made canonical (every key the sync builds starts from this form)
    # Then the two 18-char forms differ, also compared without regard to case, and each keeps its 15 characters
    assert LOWER != UPPER and LOWER.casefold() != UPPER.casefold()
    assert (LOWER[:15], UPPER[:15]) == (LOWER_15, UPPER_15)


def test_a_change_event_naming_both_accounts_queues_one_request_for_each() -> None:
    # Given one Account change event whose recordIds hold both accounts by their 15-char ids (one transaction
    # updated both: Change Data Capture lists every record of the change in ChangeEventHeader.recordIds)
    settings = PlatformEventSettings.from_env({"ORGANIZATION_IDS": ORG_ID, "SYNC_QUEUE_URL": "q"})
    event = change_event("Account", "UPDATE", [LOWER_15, UPPER_15], org_id=ORG_ID, commit_ms=1793611920000)
    # When the intake normalises it (it drops repeated ids within one event)
    requests = normalise_event(event, settings).requests
    # Then neither account is taken for a repeat of the other: one request each, by its canonical id
    assert sorted(request.record_id for request in requests) == sorted([LOWER, UPPER])


def test_the_lease_of_one_account_never_blocks_the_account_whose_id_differs_only_in_case(store: Any) -> None:
    # Given a sync holding the lease of the account ending "GNy" (the report: "a job is already running")
    lower = store.acquire(ORG_ID, LOWER, version=10, params_hash="hash-lower")
    # When the account ending "GNY" is synced meanwhile
    upper = store.acquire(ORG_ID, UPPER, version=10, params_hash="hash-upper")
    # Then it gets its own lease (no LeaseHeld), and each commit lands on its own account's state
    upper.commit(Commit("cus_upper", 10, {"name": "Upper AG"}, "hash-upper", "created"))
    lower.commit(Commit("cus_lower", 10, {"name": "Lower AG"}, "hash-lower", "created"))
    assert store.get(ORG_ID, LOWER).customer_id == "cus_lower"
    assert store.get(ORG_ID, UPPER).customer_id == "cus_upper"


def test_the_customer_found_by_account_id_is_never_the_one_of_the_case_only_other_account(
    stripe: CustomerGateway,
) -> None:
    # Given the customers of both accounts, each carrying its account's id in its metadata
    params = {"name": "Acme", "metadata": {ACCOUNT_ID_METADATA_KEY: LOWER}}
    lower = stripe.create(params, f"case-ids-{LOWER}")
    upper = stripe.create({**params, "metadata": {ACCOUNT_ID_METADATA_KEY: UPPER}}, f"case-ids-{UPPER}")
    # When each account's customer is looked for (what the create does after an unknown outcome, to adopt it)
    found_lower = stripe.find_by_metadata(ACCOUNT_ID_METADATA_KEY, LOWER, created_since=0)
    found_upper = stripe.find_by_metadata(ACCOUNT_ID_METADATA_KEY, UPPER, created_since=0)
    # Then each finds its own customer only: adopting the other one would sync two accounts into one customer
    assert [c["id"] for c in found_lower] == [lower]
    assert [c["id"] for c in found_upper] == [upper]


def _customer(customer_id: str, account_id: str) -> dict[str, Any]:
    return {"id": customer_id, "metadata": {ACCOUNT_ID_METADATA_KEY: account_id}}


@pytest.mark.parametrize("written", ["18-char", "15-char"])
def test_reconcile_sees_one_healthy_customer_per_case_only_account(written: str) -> None:
    # Given each account linked to its own customer, whose metadata names it (by the sync: 18 characters;
    # by another tool: the 15-char id, whose case is all that tells the two accounts apart)
    name = {LOWER: LOWER, UPPER: UPPER} if written == "18-char" else {LOWER: LOWER_15, UPPER: UPPER_15}
    customers = CustomerIndex(["name"]).add_all(
        [_customer("cus_upper", name[UPPER]), _customer("cus_lower", name[LOWER])]
    )
    # When reconcile judges each account's identity
    checks = {
        account: AccountCheck(account, Verdict.OK, 1, customer_id, customer_account=name[account])
        for account, customer_id in ((LOWER, "cus_lower"), (UPPER, "cus_upper"))
    }
    judged = {account: judge(check, customers) for account, check in checks.items()}
    # Then both stay healthy: neither is a duplicate of, claimed by, or the customer of the other account
    assert {account: check.verdict for account, check in judged.items()} == {LOWER: Verdict.OK, UPPER: Verdict.OK}


def test_a_second_customer_naming_the_account_by_its_15_char_id_is_a_duplicate_customer() -> None:
    # Given the account's customer made by the sync (metadata: the 18-char id), and a second customer whose
    # metadata names the account by its 15-char id (another tool, or an id pasted from a Salesforce Classic URL),
    # beside the customer of the account whose id differs only in case
    customers = CustomerIndex(["name"]).add_all(
        [_customer("cus_tool", LOWER_15), _customer("cus_other", UPPER_15), _customer("cus_sync", LOWER)]
    )
    # When reconcile judges the account's identity
    judged = judge(AccountCheck(LOWER, Verdict.OK, 1, "cus_sync", customer_account=LOWER), customers)
    # Then both of its customers are reported (two customers billing one account), never the other account's one
    assert judged.verdict is Verdict.DUPLICATE_CUSTOMERS and judged.related == ("cus_tool",)
    assert customers.customers_naming(UPPER) == ("cus_other",)
