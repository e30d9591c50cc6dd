"""Reconcile's pieces without the emulators: its query, field comparison, checkpoints, run loop and CLI errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.cli import main
from shared.reconcile.reconciler import AccountCheck, Verdict, differing, page_soql
from shared.reconcile.runs import CheckpointMismatch, RunOptions, run, start_checkpoint
from shared.salesforce.gateway import AccountQuery
from shared.settings import CreationMode
from shared.state.reconcile_checkpoints import Checkpoint, FileCheckpoints
from shared.stripe.customer_diff import mapped_subset

QUERY = AccountQuery(
    ("BillingCity", "Name", "Stripe_Customer_ID__c"), ("SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email",)
)


def test_order_activation_pages_select_accounts_with_an_activated_order_after_the_last_id() -> None:
    # Given the mapping's fields; When the page after an account is built in order-activation mode
    soql = page_soql(QUERY, CreationMode.ORDER_ACTIVATION, after="001000000000001AAA", limit=200)
    # Then it is a keyset page of live, unmerged accounts with an activated order (R1, R2, R13)
    assert soql.endswith(
        "FROM Account WHERE MasterRecordId = null"
        " AND Id IN (SELECT AccountId FROM Order WHERE StatusCode = 'Activated')"
        " AND Id > '001000000000001AAA' ORDER BY Id LIMIT 200"
    )
    # And it selects what the worker maps: fields, their SystemModstamps and the latest activated order
    assert soql.startswith(
        "SELECT BillingCity, Id, IsDeleted, MasterRecordId, Name, Stripe_Customer_ID__c, SystemModstamp"
    )
    contact = "SBQQ__Quote__r.SBQQ__PrimaryContact__r"
    assert f"(SELECT Id, {contact}.Email, {contact}.SystemModstamp" in soql
    assert "FROM Orders WHERE StatusCode = 'Activated' ORDER BY ActivatedDate DESC NULLS LAST, Id DESC LIMIT 1)" in soql


def test_every_account_mode_pages_all_accounts_from_the_first() -> None:
    soql = page_soql(QUERY, CreationMode.EVERY_ACCOUNT, after=None, limit=2)
    assert soql.endswith("FROM Account WHERE MasterRecordId = null ORDER BY Id LIMIT 2")


def test_only_mapped_fields_are_compared_and_address_is_owned_whole() -> None:
    # Given a customer read from Stripe with fields the mapping does not own
    customer = {
        "name": "Muster",
        "email": "x@y.example",
        "address.city": "Berlin",
        "address.line2": "Hof",
        "phone": "1",
    }
    mapped = {"name": "Muster", "address.city": "Hamburg", "metadata.salesforce_account_id": "001"}
    # When compared
    actual = mapped_subset(customer, mapped)
    # Then email and phone are not the mapping's; address is, whole; differences are named, not valued
    assert actual == {"name": "Muster", "address.city": "Berlin", "address.line2": "Hof"}
    assert differing(actual, mapped) == ("address.city", "address.line2", "metadata.salesforce_account_id")


def test_file_checkpoint_round_trips_and_belongs_to_one_kind_of_run(tmp_path: Path) -> None:
    # Given a saved checkpoint of a dry run
    checkpoints = FileCheckpoints(tmp_path / "sub" / "checkpoint.json")
    saved = Checkpoint(run="00D:order_activation:dry-run", after="001000000000002AAA", counts={"ok": 2})
    checkpoints.save(saved)
    # Then resuming the same kind of run continues it; another kind is refused; a fresh run ignores it
    assert start_checkpoint(checkpoints, "00D:order_activation:dry-run", resume=True) == saved
    with pytest.raises(CheckpointMismatch, match="start over without --resume"):
        start_checkpoint(checkpoints, "00D:order_activation:apply", resume=True)
    assert start_checkpoint(checkpoints, "00D:order_activation:dry-run", resume=False).after is None
    checkpoints.clear()
    assert checkpoints.load() is None


class FakeReconciler:
    """Accounts 001…1 to 001…5; every one is missing a customer."""

    def __init__(self) -> None:
        self.ids = [f"00100000000000{i}AAA" for i in range(1, 6)]
        self.queries: list[tuple[str | None, int | None]] = []

    def run_key(self, apply: bool) -> str:
        return "org:mode:apply" if apply else "org:mode:dry-run"

    def start_listing(self) -> None:
        pass

    def read_pages(self, after: str | None, limit: int | None, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        self.queries.append((after, limit))
        rows = [{"Id": i} for i in self.ids if after is None or i > after][:limit]
        for start in range(0, len(rows), batch_size):
            yield rows[start : start + batch_size]

    def check_page(self, records: list[dict[str, Any]]) -> list[AccountCheck]:
        return [AccountCheck(r["Id"], Verdict.MISSING, 1, needs_sync=True) for r in records]


def test_run_stops_at_the_cap_and_the_next_run_continues_to_the_end(tmp_path: Path) -> None:
    # Given five accounts and a cap of three per invocation, pages of two
    reconciler, checkpoints = FakeReconciler(), FileCheckpoints(tmp_path / "c.json")
    options = RunOptions(resume=True, page_size=2, max_accounts=3)
    # When it runs twice
    first = run(reconciler, checkpoints, options)  # type: ignore[arg-type]
    second = run(reconciler, checkpoints, options)  # type: ignore[arg-type]
    # Then the first stops after three (one query capped at three, in batches of two), the second finishes
    assert [c.account_id for c in first.checks] == reconciler.ids[:3] and not first.complete
    assert [c.account_id for c in second.checks] == reconciler.ids[3:] and second.complete
    assert second.checkpoint.counts == {"missing": 5} and checkpoints.load() is None
    assert reconciler.queries == [(None, 3), (reconciler.ids[2], 3)]


def test_run_keeps_only_the_verdicts_that_need_attention_unless_asked(tmp_path: Path) -> None:
    # Given five accounts, all missing; When run without keep_ok, Then the counts are complete anyway
    result = run(FakeReconciler(), FileCheckpoints(tmp_path / "c.json"), RunOptions(keep_ok=False))  # type: ignore[arg-type]
    assert result.counts == {"missing": 5} and len(result.checks) == 5 and result.complete


WORKER_ENV = {
    "ORGANIZATION_IDS": "00D5g000004SAMPEA4",
    "SYNC_QUEUE_URL": "http://127.0.0.1:1/queue/sync",
    "STATE_TABLE_NAME": "state",
    "IDEMPOTENCY_TABLE_NAME": "idem",
    "STRIPE_API_KEY": "sk_test_unit",
    "SALESFORCE_CREDENTIALS_JSON": "{}",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*WORKER_ENV, "SYNC_DLQ_URL", "STRIPE_API_KEY_SECRET_NAME", "SALESFORCE_SECRET_NAME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in WORKER_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(
    ("unset", "args", "named"),
    [
        ("STATE_TABLE_NAME", ["status", "001000000000001AAA"], "STATE_TABLE_NAME"),
        ("STRIPE_API_KEY", ["reconcile"], "STRIPE_API_KEY or STRIPE_API_KEY_SECRET_NAME"),
        ("ORGANIZATION_IDS", ["resync", "001000000000001AAA"], "ORGANIZATION_IDS"),
        ("SYNC_DLQ_URL", ["redrive"], "SYNC_DLQ_URL"),
    ],
)
def test_configuration_errors_exit_2_naming_the_variable(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], unset: str, args: list[str], named: str
) -> None:
    # Given the worker's environment without one variable; When a command runs
    env.delenv(unset, raising=False)
    code = main(args)
    # Then it fails with status 2 and a message naming the variable
    assert code == 2
    assert named in capsys.readouterr().err


def test_an_org_must_be_named_when_several_are_allowed(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("ORGANIZATION_IDS", "00D5g000004SAMPEA4,00D5g000004SAMQEA4")
    assert main(["resync", "001000000000001AAA"]) == 2
    assert "ORGANIZATION_IDS lists 2 orgs" in capsys.readouterr().err
    assert main(["resync", "001000000000001AAA", "--org", "00D5g000004SAMREA4"]) == 2
    assert "not in ORGANIZATION_IDS" in capsys.readouterr().err


def test_malformed_salesforce_credentials_are_a_configuration_error_without_their_content(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given credentials without a consumer key (reconcile reads Salesforce before anything else)
    env.setenv("SALESFORCE_CREDENTIALS_JSON", '{"auth": "jwt", "username": "u", "private_key": "SECRET-KEY"}')
    # When reconcile runs; Then it names the variable and the missing field, never the key
    assert main(["reconcile", "--checkpoint", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert "SALESFORCE_CREDENTIALS_JSON" in err and "consumer_key" in err and "SECRET-KEY" not in err


@pytest.mark.parametrize("account_id", ["003000000000001AAA", "001-not-an-id", "001"])
def test_an_account_id_is_checked_before_anything_runs(env: pytest.MonkeyPatch, account_id: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["status", account_id])
    assert exit_.value.code == 2
