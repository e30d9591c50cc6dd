"""R7: customers are updated with the latest Salesforce data; the content hash tells when data changed."""

from __future__ import annotations

import hashlib
import json

from shared.mapping import load_mapping
from tests.unit.mapping.records import account, orders


def test_rule_r7_content_hash_is_stable_across_record_key_order() -> None:
    # Given the same account data with keys in two different orders
    record = account(Phone="+49 30 1", BillingCity="Berlin", Orders=orders("ap@acme.de"))
    reordered = dict(reversed(list(record.items())))
    mapping = load_mapping("standard")
    # When both are mapped
    first, second = mapping.map_account(record), mapping.map_account(reordered)
    # Then the hashes and data are equal
    assert first.content_hash == second.content_hash
    assert first == second


def test_rule_r7_content_hash_changes_when_a_field_changes() -> None:
    # Given an account mapped once
    mapping = load_mapping("standard")
    before = mapping.map_account(account(BillingCity="Berlin"))
    # When one field changes in Salesforce
    after = mapping.map_account(account(BillingCity="Potsdam"))
    # Then the hash changes
    assert before.content_hash != after.content_hash


def test_rule_r7_content_hash_changes_when_a_field_is_cleared() -> None:
    # Given an account with a phone, then the same account with the phone cleared
    mapping = load_mapping("standard")
    before = mapping.map_account(account(Phone="+49 30 1"))
    after = mapping.map_account(account(Phone=None))
    # Then the hashes differ
    assert before.content_hash != after.content_hash


def test_rule_r7_content_hash_is_sha256_of_canonical_flat_json() -> None:
    # Given a mapped customer
    mapped = load_mapping("standard").map_account(account(Name="Zürich AG", BillingCity="Zürich"))
    # When the hash is recomputed from flat as documented
    canonical = json.dumps(mapped.flat, sort_keys=True, separators=(",", ":"))
    # Then it matches
    assert mapped.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
