"""No personal value in clear in the state table, and items of the previous release read, synced and rewritten.

The engine runs on dynalite and the Stripe emulator; the table is read raw (a Scan), as anyone with read access
to it — or to a backup of it — would see it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.mapping import load_mapping
from shared.state.field_digests import FieldDigests
from shared.state.items import to_attr_map
from shared.state.state_version import STATE_VERSION
from shared.sync.customer_sync import CustomerSync, Outcome
from tests.factories import ORG_ID, account_record, contact_record, order_record, sf_datetime
from tests.integration.engine import make_sync, snapshot

# Values with letters (a digit-only value could occur inside a hex digest by chance).
PERSONAL = {
    "Name": "Zelinda Quarterman GmbH",
    "Phone": "+49 30 5550 1234",
    "BillingStreet": "Quellenweg 17",
    "BillingCity": "Wolfenbuettel",
    "BillingPostalCode": "38300",
    "BillingCountry": "Germany",
    "ShippingStreet": "Lagerhausstrasse 3",
    "ShippingCity": "Salzgitter",
    "ShippingCountry": "Germany",
}
EMAIL = "zelinda.quarterman@example.de"


def _raw_items(dynamodb: Any, table: str) -> str:
    """Every item of the table as one JSON text (what a reader of the table or of a backup sees)."""
    return json.dumps(dynamodb.scan(TableName=table, ConsistentRead=True)["Items"], ensure_ascii=False)


def _record(**changes: Any) -> dict[str, Any]:
    order = order_record(contact_record(EMAIL))
    return account_record(order=order, **{**PERSONAL, **changes})


def test_no_mapped_value_is_kept_in_clear_after_a_create_and_an_update(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an account with a name, email, phone and street, synced, then changed
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    assert engine.sync(snapshot(record), may_create=True).outcome is Outcome.CREATED
    changed = {**record, "Phone": "+49 30 5550 9876", "SystemModstamp": sf_datetime(5)}
    assert engine.sync(snapshot(changed), may_create=True).outcome is Outcome.UPDATED
    # When the state table is read raw
    raw = _raw_items(dynamodb, state_table)
    # Then none of the values sent to Stripe is in it (nor the pending create's params, removed at completion)
    customer = stripe_emulator.customers()[0]
    sent = [customer["name"], customer["email"], customer["phone"], customer["address"]["line1"]]
    sent += [customer["address"]["city"], customer["shipping"]["name"], customer["shipping"]["address"]["line1"]]
    sent += ["+49 30 5550 1234"]
    assert [value for value in sent if value in raw] == []
    assert "pending_create" not in raw and "applied_fields" not in raw
    # ... and the account's item says which version of the item shape it is
    assert f'"state_version": {{"N": "{STATE_VERSION}"}}' in raw


def test_a_guessed_value_cannot_be_found_in_the_table_without_the_key(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a synced account
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    engine.sync(snapshot(_record()), may_create=True)
    raw = _raw_items(dynamodb, state_table)
    # When someone with the table but not the key hashes a guessed email (plainly, or keyed with another key)
    guesses = [
        hashlib.sha256(EMAIL.encode()).hexdigest()[:32],
        hashlib.sha256(f"email\x00{EMAIL}".encode()).hexdigest()[:32],
        FieldDigests(b"a guessed key").digest("email", EMAIL),
    ]
    # Then no guess matches; only the stack's key finds it
    assert [guess for guess in guesses if guess in raw] == []
    assert FieldDigests.local().digest("email", EMAIL) in raw


def _previous_release_item(record: dict[str, Any], customer_id: str, version: int) -> dict[str, Any]:
    """The account's item exactly as the previous release wrote it after a sync: values in clear, a plain
    SHA-256 content hash, no ``state_version``."""
    mapped = load_mapping("standard").map_account(record)
    return to_attr_map(
        {
            "pk": f"{ORG_ID}#{record['Id']}",
            "org_id": ORG_ID,
            "account_id": record["Id"],
            "customer_id": customer_id,
            "applied_fields": mapped.flat,
            "params_hash": mapped.content_hash,
            "outcome": "created",
            "contact_ids": list(mapped.contact_ids),
            "kept_fields": [],
            "field_warnings": [],
            "tax_ids": {},
        }
    ) | {"applied_version": {"N": str(version)}, "updated_at": {"N": "1796000000000"}}


def _synced_by_previous_release(
    engine: CustomerSync, stripe_emulator: Any, dynamodb: Any, table: str, record: dict[str, Any]
) -> str:
    """Sync ``record`` (for its customer in Stripe), then put its item back as the previous release left it."""
    customer_id = engine.sync(snapshot(record), may_create=True).customer_id
    assert customer_id is not None
    version = int(engine_version(record))
    dynamodb.put_item(TableName=table, Item=_previous_release_item(record, customer_id, version))
    stripe_emulator.write_requests()  # the create is counted below from here
    return customer_id


def engine_version(record: dict[str, Any]) -> int:
    """The version the engine applies for ``record`` (its SystemModstamp in ms)."""
    return snapshot(record).version


def test_an_item_of_the_previous_release_is_read_synced_unchanged_and_rewritten_without_values(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an account the previous release synced: its item holds the values in clear
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    _synced_by_previous_release(engine, stripe_emulator, dynamodb, state_table, record)
    writes = len(stripe_emulator.write_requests())
    assert EMAIL in _raw_items(dynamodb, state_table)
    # When this release syncs a newer version of the account that maps to the same data
    same = {**record, "SystemModstamp": sf_datetime(7)}
    result = engine.sync(snapshot(same), may_create=True)
    # Then nothing is sent to Stripe, and the item is rewritten with digests only
    assert result.outcome is Outcome.UNCHANGED
    assert len(stripe_emulator.write_requests()) == writes
    raw = _raw_items(dynamodb, state_table)
    assert EMAIL not in raw and PERSONAL["BillingStreet"] not in raw and "applied_fields" not in raw


def test_an_item_of_the_previous_release_misses_no_change_and_sends_only_it(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an account the previous release synced
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    customer_id = _synced_by_previous_release(engine, stripe_emulator, dynamodb, state_table, record)
    # When its phone changes and this release syncs it
    changed = {**record, "Phone": "+49 30 5550 9876", "SystemModstamp": sf_datetime(9)}
    result = engine.sync(snapshot(changed), may_create=True)
    # Then exactly the phone is sent, as the previous release would have sent it (shipping, which carries the
    # phone too, whole: it is always sent whole)
    assert result.outcome is Outcome.UPDATED
    update = stripe_emulator.write_requests()[-1]
    assert update["path"] == f"/v1/customers/{customer_id}" and set(update["params"]) == {"phone", "shipping"}
    assert update["params"]["phone"] == update["params"]["shipping"]["phone"] == "+49 30 5550 9876"


def test_rolling_back_then_forward_the_values_the_older_release_wrote_win(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an item this release wrote (digests, state_version 2) that the previous release (after a roll back)
    # then synced: it SETs applied_fields and params_hash in clear and leaves the attributes it doesn't know
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    customer_id = engine.sync(snapshot(record), may_create=True).customer_id
    assert customer_id is not None
    older = {**record, "Description": "Set while rolled back", "SystemModstamp": sf_datetime(11)}
    stripe_emulator_update(stripe_emulator, customer_id, {"description": "Set while rolled back"})
    previous = _previous_release_item(older, customer_id, engine_version(older))
    dynamodb.update_item(
        TableName=state_table,
        Key={"pk": previous["pk"]},
        UpdateExpression="SET applied_fields = :f, params_hash = :h, applied_version = :v",
        ExpressionAttributeValues={
            ":f": previous["applied_fields"],
            ":h": previous["params_hash"],
            ":v": previous["applied_version"],
        },
    )
    writes = len(stripe_emulator.write_requests())
    # When this release (rolled forward) syncs the same data again
    result = engine.sync(snapshot({**older, "SystemModstamp": sf_datetime(12)}), may_create=True)
    # Then the older release's values are taken as applied: nothing is sent, and they are digested
    assert result.outcome is Outcome.UNCHANGED
    assert len(stripe_emulator.write_requests()) == writes
    assert "Set while rolled back" not in _raw_items(dynamodb, state_table)


def test_rolling_back_the_previous_release_finds_no_values_to_diff_or_keep(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given an item this release wrote
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    engine.sync(snapshot(record), may_create=True)
    key = {"pk": {"S": f"{ORG_ID}#{record['Id']}"}}
    item = dynamodb.get_item(TableName=state_table, Key=key, ConsistentRead=True)["Item"]
    # When the previous release reads it (it knows applied_fields and a plain content hash only)
    mapped = load_mapping("standard").map_account(record)
    # Then it finds no applied values (so it clears nothing and restores no kept field from a digest) and a
    # hash unequal to its own (so its next sync sends the whole mapped customer once, with current values)
    assert "applied_fields" not in item
    assert item["params_hash"]["S"] != mapped.content_hash


def stripe_emulator_update(stripe_emulator: Any, customer_id: str, params: dict[str, Any]) -> None:
    """Change the customer in Stripe as the previous release's sync did."""
    import stripe

    client = stripe.StripeClient("sk_test_engine", base_addresses={"api": stripe_emulator.base_url})
    client.v1.customers.update(customer_id, params)  # type: ignore[arg-type]


def test_an_idempotency_record_keeps_no_value_a_warning_quotes(
    stripe_emulator: Any, dynamodb: Any, state_table: str, idempotency_table: str
) -> None:
    # Given a sync whose field warning quotes the value it refused (a custom transform's message may)
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from shared.mapping import FieldWarning
    from shared.sync.customer_sync import SyncResult
    from shared.sync.event_idempotency import EventProcessor
    from shared.sync.models import SyncRequest

    record = _record()

    class QuotingSync(CustomerSync):
        def sync(self, snapshot: Any, *, may_create: bool) -> SyncResult:
            result = super().sync(snapshot, may_create=may_create)
            quoted = FieldWarning("Email", "email", f"{EMAIL} is not an address Stripe takes; left out", True)
            return SyncResult(result.account_id, result.outcome, result.customer_id, warnings=(quoted,))

    engine = make_sync(stripe_emulator, dynamodb, state_table)
    quoting = QuotingSync(load_mapping("standard"), engine._stripe, engine._state)
    persistence = DynamoDBPersistenceLayer(table_name=idempotency_table, boto3_client=dynamodb)
    processor = EventProcessor(quoting, persistence, expiry_seconds=172_800)
    request = SyncRequest(
        org_id=ORG_ID,
        object_type="Account",
        record_id=record["Id"],
        event_id="04l5g0000000EvT1AA",
        source="outbound_message",
        account_id=record["Id"],
    )
    # When the event is processed (and its result stored for redeliveries)
    result = processor.process(request, snapshot(record), may_create=True)
    # Then the idempotency record names the field but holds no value
    raw = _raw_items(dynamodb, idempotency_table)
    assert "Email" in raw and EMAIL not in raw
    assert result.warnings[0].field == "Email"


def test_a_field_left_out_keeps_stripes_value_read_with_one_retrieve_and_no_write(
    stripe_emulator: Any, dynamodb: Any, state_table: str
) -> None:
    # Given a synced customer with a billing address (the state holds only its digests)
    engine = make_sync(stripe_emulator, dynamodb, state_table)
    record = _record()
    customer_id = engine.sync(snapshot(record), may_create=True).customer_id
    before = len(stripe_emulator.requests)
    # When the account's billing country becomes one Stripe can't take (the address is left out, R11's "keep")
    changed = {**record, "BillingCountry": "Atlantis", "SystemModstamp": sf_datetime(13)}
    result = engine.sync(snapshot(changed), may_create=True)
    # Then the customer keeps its address: its values are read from Stripe (one retrieve), nothing is written
    calls = stripe_emulator.requests[before:]
    assert [(c["method"], c["path"]) for c in calls] == [("GET", f"/v1/customers/{customer_id}")]
    assert result.outcome is Outcome.UNCHANGED and [w.field for w in result.warnings] == ["BillingCountry"]
    assert stripe_emulator.customer(customer_id)["address"]["line1"] == PERSONAL["BillingStreet"]
