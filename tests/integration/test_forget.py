"""``sfsync forget`` and ``sfsync migrate`` against the whole local stack."""

from __future__ import annotations

import json

import pytest

from ops.cli import main
from shared.state.items import to_attr_map
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


@pytest.fixture
def stack(stack_factory: StackFactory) -> Stack:
    return stack_factory()


def _synced_account(stack: Stack, name: str) -> str:
    account_id, _, order_id = stack.new_customer_account(Name=name, email=f"{name.split()[0].lower()}@example.org")
    stack.settle()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.settle()
    return account_id


def _table_text(stack: Stack, table: str) -> str:
    return json.dumps(stack.dynamodb.scan(TableName=table, ConsistentRead=True)["Items"])


def test_forget_erases_the_accounts_items_and_says_what_it_cannot(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two synced accounts (state items, contact index entries, idempotency records)
    forgotten = _synced_account(stack, "Forgetme GmbH")
    kept = _synced_account(stack, "Keepme GmbH")
    assert forgotten in _table_text(stack, stack.state_table)
    assert forgotten in _table_text(stack, stack.idempotency_table)
    # When an operator handles an erasure request for the first
    code = main(["forget", forgotten])
    out = capsys.readouterr().out
    # Then nothing in the stack's tables names it any more; the other account is untouched
    assert code == 0, out
    assert forgotten not in _table_text(stack, stack.state_table)
    assert forgotten not in _table_text(stack, stack.idempotency_table)
    assert stack.state.get(stack.sim.org_id, kept) is not None
    assert kept in _table_text(stack, stack.idempotency_table)
    assert f"account {forgotten}: erased 1 state item, 1 contact index entries" in out
    # And it lists what the stack can't erase: Stripe, Salesforce, logs, backups (35 days), queues
    for place in ("Stripe:", "Salesforce:", "CloudWatch Logs:", "35 days", "SQS:"):
        assert place in out


def test_migrate_rewrites_the_previous_releases_items_without_values(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account item as the previous release left it (values in clear), never synced again
    account_id = _synced_account(stack, "Oldshape AG")
    state = stack.state.get(stack.sim.org_id, account_id)
    assert state is not None
    applied = {"name": "Oldshape AG", "metadata.salesforce_account_id": account_id}
    stack.dynamodb.update_item(
        TableName=stack.state_table,
        Key={"pk": {"S": f"{stack.sim.org_id}#{account_id}"}},
        UpdateExpression="SET applied_fields = :f, params_hash = :h REMOVE field_digests, state_version",
        ExpressionAttributeValues={":f": {"M": to_attr_map(applied)}, ":h": {"S": "0" * 64}},
    )
    assert "Oldshape AG" in _table_text(stack, stack.state_table)
    # When the operator runs the migration sweep
    code = main(["migrate"])
    out = capsys.readouterr().out
    # Then the item is rewritten with digests only, and reads as the same applied state
    assert code == 0 and "migrated 1 state items" in out, out
    assert "Oldshape AG" not in _table_text(stack, stack.state_table)
    after = stack.state.get(stack.sim.org_id, account_id)
    assert after is not None and set(after.applied_fields) == set(applied)


def test_forget_leaves_an_account_a_sync_is_writing_and_says_so(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a synced account whose lease a sync holds right now (its commit would write the item again)
    account_id = _synced_account(stack, "Busy GmbH")
    stack.state.acquire(stack.sim.org_id, account_id, version=2**62)
    # When an operator asks to forget it
    code = main(["forget", account_id])
    out = capsys.readouterr().out
    # Then its item stays, the operator is told to run forget again, and the exit status says so
    assert code == 1
    assert "a sync is running for this account: run sfsync forget again" in out
    assert stack.state.get(stack.sim.org_id, account_id) is not None
