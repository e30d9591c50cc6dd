"""What an update sends: only changed fields, cleared ones as "", address/shipping whole, metadata by key."""

from __future__ import annotations

from shared.stripe.customer_diff import flatten, nest, update_params


def test_rule_r7_only_changed_scalars_are_sent() -> None:
    # Given the applied and the newly mapped fields differ in the name only
    old = {"name": "Acme", "phone": "+49 1", "metadata.salesforce_account_id": "001"}
    new = {**old, "name": "Acme GmbH"}
    # When the update is computed
    # Then only the name is sent
    assert update_params(old, new) == {"name": "Acme GmbH"}


def test_field_that_became_empty_is_cleared_with_empty_string() -> None:
    assert update_params({"name": "A", "phone": "+49 1"}, {"name": "A"}) == {"phone": ""}


def test_address_is_sent_whole_with_emptied_parts_cleared() -> None:
    # Given the city changed and line2 disappeared
    old = {"address.line1": "Main 1", "address.line2": "Rear", "address.city": "Berlin"}
    new = {"address.line1": "Main 1", "address.city": "Potsdam"}
    # Then the whole address is sent, line2 cleared
    assert update_params(old, new) == {"address": {"city": "Potsdam", "line1": "Main 1", "line2": ""}}


def test_address_that_became_empty_is_cleared_whole() -> None:
    assert update_params({"address.city": "Berlin"}, {}) == {"address": ""}


def test_shipping_is_sent_with_its_name_and_address_together() -> None:
    # Given only the shipping city changed
    old = {"shipping.name": "Acme", "shipping.address.city": "Berlin"}
    new = {"shipping.name": "Acme", "shipping.address.city": "Hamburg"}
    # Then name and address travel together (Stripe requires both)
    assert update_params(old, new) == {"shipping": {"address": {"city": "Hamburg"}, "name": "Acme"}}


def test_metadata_keys_are_merged_individually_and_removed_with_empty_string() -> None:
    old = {"metadata.a": "1", "metadata.b": "2"}
    new = {"metadata.a": "1", "metadata.c": "3"}
    assert update_params(old, new) == {"metadata": {"b": "", "c": "3"}}


def test_nothing_changed_means_no_update() -> None:
    assert update_params({"name": "A"}, {"name": "A"}) == {}


def test_flatten_and_nest_round_trip_ignoring_empty_values() -> None:
    params = {"name": "A", "address": {"city": "B", "line2": None, "country": ""}, "metadata": {"k": "v"}}
    flat = flatten(params)
    assert flat == {"name": "A", "address.city": "B", "metadata.k": "v"}
    assert nest(flat) == {"address": {"city": "B"}, "metadata": {"k": "v"}, "name": "A"}


def test_metadata_keys_with_dots_stay_single_keys() -> None:
    # Given a metadata key that contains a dot (allowed by Stripe)
    old = {"metadata.sf.region": "EU"}
    new = {"metadata.sf.region": "US"}
    # Then it is sent as one key, not as a nested object
    assert update_params(old, new) == {"metadata": {"sf.region": "US"}}
    assert flatten({"metadata": {"sf.region": "US"}}) == {"metadata.sf.region": "US"}
