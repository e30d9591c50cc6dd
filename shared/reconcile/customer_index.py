"""Stripe's customers, listed once per reconcile invocation and kept compact.

Reading each account's customer with its own call costs one Stripe read per account (100,000 reads, 83 min
at 20 reads/s). Listing costs one call per 100 customers (``GET /v1/customers?limit=100``), so reconcile
lists every live customer once and compares from the list. It keeps only what reconcile compares — the
customer's fields the mapping can own (its Stripe paths, and address/shipping whole), as compact JSON text
(about 250 bytes a customer, measured in ``make bench``) — keyed by customer id, and the customer id by the
``metadata.salesforce_account_id`` the sync writes on every customer. What the list can't answer is read
singly: a customer id it doesn't hold (deleted customers are never listed; one created after the listing
began) and a customer that looks different (the list may be minutes old by then).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from shared.mapping.list_fields import list_path_of
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH
from shared.salesforce.ids import canonical_account_id
from shared.stripe.customer_diff import WHOLE_OBJECTS, flatten


class CustomerIndex:
    """Listed customers: the comparable part of each by customer id, and customer ids by Salesforce account id."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths = frozenset((*paths, ACCOUNT_ID_PATH))
        self._owned: dict[str, str] = {}
        self._by_account: dict[str, str] = {}
        # The second and later customers naming one account (identity damage: rare, so kept apart).
        self._more_by_account: dict[str, list[str]] = {}
        self.account_id_path = ACCOUNT_ID_PATH

    def __len__(self) -> int:
        return len(self._owned)

    def comparable(self, customer: dict[str, Any]) -> dict[str, str]:
        """The flat fields of a customer (as Stripe returns it) that the mapping can own."""
        return {
            path: value
            for path, value in flatten(customer).items()
            if path in self._paths or path.split(".", 1)[0] in WHOLE_OBJECTS or list_path_of(path) in self._paths
        }

    def add_all(self, customers: Iterable[dict[str, Any]]) -> CustomerIndex:
        """Index customers as they stream in (one list page at a time); the first one seen for an id wins."""
        for customer in customers:
            fields = self.comparable(customer)
            seen_before = customer["id"] in self._owned  # a listing may show one customer twice
            self._owned.setdefault(customer["id"], json.dumps(fields, separators=(",", ":"), ensure_ascii=False))
            account_id = canonical_account_id(fields.get(ACCOUNT_ID_PATH))
            if account_id:
                # Newest first: the newest customer made for an account is the one the sync created last.
                first = self._by_account.setdefault(account_id, customer["id"])
                if first != customer["id"] and not seen_before:
                    self._more_by_account.setdefault(account_id, []).append(customer["id"])
        return self

    def fields(self, customer_id: str) -> dict[str, str] | None:
        """The listed customer's comparable fields; None when the list did not hold it."""
        text = self._owned.get(customer_id)
        return None if text is None else dict(json.loads(text))

    def customer_for_account(self, account_id: str) -> str | None:
        """The newest listed customer whose ``metadata.salesforce_account_id`` names the account."""
        return self._by_account.get(account_id)

    def customers_naming(self, account_id: str) -> tuple[str, ...]:
        """Every listed customer whose ``metadata.salesforce_account_id`` names the account, newest first."""
        first = self._by_account.get(account_id)
        return () if first is None else (first, *self._more_by_account.get(account_id, ()))
