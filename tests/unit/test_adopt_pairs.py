"""``sfsync adopt --from FILE``: which (account, customer) pairs a file holds, and whose customer a customer is.

Ids are read in both Salesforce forms (15 and 18 characters, SOAP API Developer Guide, "ID Field Type":
https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm) and kept in the 18-char form.
"""

from __future__ import annotations

from ops.adopt import pairs_in
from shared.salesforce.ids import to_18
from shared.sync.ownership import named_account

ACCOUNT = to_18("0015g00000AbCdE")
OTHER = to_18("0015g00000OtHeR")


def test_a_saved_reconcile_report_yields_one_pair_per_account_line() -> None:
    # Given a reconcile report's lines (table row, why: line for the same account), noise, and a 15-char id
    lines = [
        "account             verdict             customer",
        f"{ACCOUNT}  unclaimed_customer  cus_Shop1  ...",
        f"  {ACCOUNT}  unclaimed_customer: customer cus_Shop1 names no Salesforce account: sfsync adopt …",
        "checked 2 accounts",
        f"{OTHER[:15]} cus_Shop2",
    ]
    # When the pairs are read
    pairs = pairs_in(lines)
    # Then each account appears once, with the first customer on its line, in the 18-character form
    assert pairs == [(ACCOUNT, "cus_Shop1"), (OTHER, "cus_Shop2")]


def test_a_line_with_a_malformed_account_id_is_skipped() -> None:
    # Given an 18-char id whose checksum does not match (typed, not copied)
    wrong = ACCOUNT[:15] + ("AAA" if not ACCOUNT.endswith("AAA") else "BAA")
    # When the pairs are read, then that line adopts nothing
    assert pairs_in([f"{wrong} cus_Shop1"]) == []


def test_the_account_a_customer_names_is_compared_in_the_18_character_form() -> None:
    # Given customers naming an account in 15 characters (another tool), 18, or not at all
    # Then each names the same canonical id, or none
    assert named_account({"metadata": {"salesforce_account_id": ACCOUNT[:15]}}) == ACCOUNT
    assert named_account({"metadata": {"salesforce_account_id": ACCOUNT}}) == ACCOUNT
    assert named_account({"metadata": {"shop_order": "42"}}) is None
    assert named_account({"metadata": {"salesforce_account_id": " "}}) is None
