"""Keyed field digests: the diff from digests equals the diff from values; item versions migrate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.state.field_digests import FieldDigests
from shared.state.state_version import STATE_VERSION, migrate
from shared.stripe.customer_diff import update_params

DIGESTS = FieldDigests(b"unit-test-key")
PATHS = ["name", "email", "phone", "address.line1", "address.city", "shipping.name", "metadata.tier"]
flats = st.dictionaries(st.sampled_from(PATHS), st.text(min_size=1, max_size=8), max_size=len(PATHS))


@given(old=flats, new=flats)
def test_rule_r7_the_update_from_digests_is_the_update_from_values(old: dict[str, str], new: dict[str, str]) -> None:
    # Given what was applied (kept only as digests) and what is mapped now
    # When the update is built from the digests' stand-ins
    from_digests = update_params(DIGESTS.baseline(DIGESTS.of(old), new), new)
    # Then it is exactly the update the values themselves give: same fields sent, same fields cleared
    assert from_digests == update_params(old, new)


def test_a_digest_depends_on_the_key_the_path_and_the_value() -> None:
    # Given one value under one key
    digest = DIGESTS.digest("email", "ada@example.com")
    # Then another key, another path or another value gives another digest; the value never shows
    assert digest != FieldDigests(b"other-key").digest("email", "ada@example.com")
    assert digest != DIGESTS.digest("shipping.name", "ada@example.com")
    assert digest != DIGESTS.digest("email", "ada@example.org")
    assert digest.startswith("h1:") and "ada" not in digest


def test_an_item_of_the_previous_release_is_migrated_as_it_is_read() -> None:
    # Given the previous release's item data: values in clear, a plain content hash, no state_version
    old = {"applied_fields": {"name": "Acme"}, "params_hash": "ab" * 32, "customer_id": "cus_1"}
    # When it is migrated
    data = migrate(old, DIGESTS)
    # Then it holds digests and the keyed hash, the current version, and no value
    assert data["field_digests"] == {"name": DIGESTS.digest("name", "Acme")}
    assert data["params_hash"] == DIGESTS.params_hash("ab" * 32) and data["state_version"] == STATE_VERSION
    assert "applied_fields" not in data and data["customer_id"] == "cus_1"
    # And an item already current is left as it is
    assert migrate(data, DIGESTS) == data


def test_an_item_of_a_newer_release_is_refused_not_misread() -> None:
    # Given an item a release newer than this one wrote; When read; Then it is refused with its version
    with pytest.raises(ValueError, match="version 3"):
        migrate({"state_version": 3, "field_digests": {}}, DIGESTS)
