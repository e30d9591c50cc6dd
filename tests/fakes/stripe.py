"""Stripe customers in memory: ``CustomerGateway`` as Stripe documents it, without HTTP.

What it models (and tests/contract/test_customer_gateway_contract.py checks against the Stripe emulator):
a create under an Idempotency-Key is replayed for the same key (https://docs.stripe.com/api/idempotent_requests);
an update leaves the fields it does not name, ``""`` unsets one, ``metadata`` is merged key by key, other
hashes are merged and lists replaced (https://docs.stripe.com/api/customers/update); a deleted customer is
``CustomerGone``; tax IDs are objects of their own, checked by the emulator's documented formats
(https://docs.stripe.com/api/tax_ids/create). A create's or update's params are checked as the emulator
checks them (the API version's schema, the email format, metadata's documented limits): a refusal is the
gateway's ``StripeRefusal`` with Stripe's ``code`` and ``param`` ("A 4xx error carries ``param``":
https://docs.stripe.com/api/errors), and nothing is written; so is an update that would leave more than
Stripe's 50 metadata keys (merged into the keys other tools set: https://docs.stripe.com/api/metadata) and a
write whose ``tax[validate_location]`` asks Stripe Tax for a location the customer would not have
(``customer_tax_location_invalid``: https://docs.stripe.com/tax/customer-locations, the emulator's model).
``tax`` is a request flag, never stored on the customer. Faults are queued per method with ``fail_next``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

from devtools.stripe_emulator import versions
from devtools.stripe_emulator.stripe_tax import StripeTax
from devtools.stripe_emulator.tax_ids import check_tax_id
from devtools.stripe_emulator.validation import (
    CODE_INVALID_METADATA,
    METADATA_MAX_KEYS,
    ApiError,
    param_error,
    validate_params,
)
from shared.errors import PermanentSyncError
from shared.mapping import TAX_ID_DATA
from shared.stripe.gateway import CustomerGateway, CustomerGone, CustomerInOtherMode, StripeRefusal
from tests.fakes.state_store import FakeClock


class FakeStripe(CustomerGateway):
    """Customers and their tax IDs by id; ``calls`` lists (method, customer id or None) in order."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str | None]] = []
        self._tax_ids: dict[str, dict[str, dict[str, Any]]] = {}  # customer id → txi id → object, oldest first
        self._keys: dict[str, str] = {}  # Idempotency-Key → the id it answered with
        self._key_params: dict[str, dict[str, Any]] = {}  # Idempotency-Key → the create's params
        self._faults: dict[str, list[Exception]] = {}
        self._other_mode: set[str] = set()
        self.stripe_tax = StripeTax()  # registered everywhere, no automatic-tax subscriptions unless a test adds them
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- test controls -------------------------------------------------------------------------------
    def fail_next(self, method: str, error: Exception, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` (``create``, ``update``, ``add_tax_id``…) raise ``error``."""
        self._faults.setdefault(method, []).extend([error] * count)

    def add_other_mode_customer(self, customer_id: str) -> None:
        """An id that exists only in the other mode (live vs test): retrieving it is ``CustomerInOtherMode``."""
        self._other_mode.add(customer_id)

    def delete(self, customer_id: str) -> None:
        """Delete the customer as the Dashboard would."""
        self.customers[customer_id]["deleted"] = True

    def writes(self) -> list[tuple[str, str | None]]:
        """The calls that change Stripe."""
        return [call for call in self.calls if call[0] in {"create", "update", "add_tax_id", "delete_tax_id"}]

    # -- CustomerGateway --------------------------------------------------------------------------------
    def create(self, params: dict[str, Any], idempotency_key: str) -> str:
        self._called("create", None)
        with self._lock:
            if idempotency_key in self._keys:
                if self._key_params.get(idempotency_key) != params:
                    raise PermanentSyncError("Stripe idempotency conflict: the create key was used with other params")
                return self._keys[idempotency_key]
            _valid("create", params)
            tax_data = params.get(TAX_ID_DATA) or []
            for index, item in enumerate(tax_data):
                _checked(item.get("type"), item.get("value"), f"{TAX_ID_DATA}[{index}]")
            customer_id = f"cus_fake{next(self._ids):06d}"
            body = {key: value for key, value in params.items() if key not in (TAX_ID_DATA, "tax")}
            customer = {"id": customer_id, "object": "customer", "created": int(self.clock()), **_merged({}, body)}
            self._placed("create", params, customer)
            self.customers[customer_id] = customer
            for item in tax_data:
                self._new_tax_id(customer_id, item["type"], item["value"])
            self._keys[idempotency_key] = customer_id
            self._key_params[idempotency_key] = _copy(params)
            return customer_id

    def update(self, customer_id: str, params: dict[str, Any]) -> None:
        self._called("update", customer_id)
        customer = self._live(customer_id)
        _valid("update", params)
        with self._lock:
            updated = {**_merged(customer, {k: v for k, v in params.items() if k != "tax"}), "id": customer_id}
            if len(updated.get("metadata") or {}) > METADATA_MAX_KEYS:
                raise _refusal(param_error(CODE_INVALID_METADATA, "metadata", "over Stripe's 50 metadata keys"))
            self._placed("update", params, updated)
            self.customers[customer_id] = updated

    def retrieve(self, customer_id: str) -> dict[str, Any]:
        self._called("retrieve", customer_id)
        return _copy(self._live(customer_id))

    def find_by_metadata(self, key: str, value: str, *, created_since: int | None) -> list[dict[str, Any]]:
        self._called("find_by_metadata", None)
        found = [
            _copy(c)
            for c in self.customers.values()
            if not c.get("deleted") and (c.get("metadata") or {}).get(key) == value
        ]
        return sorted(found, key=lambda c: (c.get("created", 0), c["id"]))

    def list_all(self) -> Iterator[dict[str, Any]]:
        self._called("list_all", None)
        live = [_copy(c) for c in self.customers.values() if not c.get("deleted")]
        yield from reversed(live)

    def add_tax_id(self, customer_id: str, tax_type: str, value: str, idempotency_key: str) -> str:
        self._called("add_tax_id", customer_id)
        self._live(customer_id)
        with self._lock:
            if idempotency_key in self._keys:
                return self._keys[idempotency_key]
            _checked(tax_type, value)
            tax_id = self._new_tax_id(customer_id, tax_type, value)
            self._keys[idempotency_key] = tax_id
            return tax_id

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        self._called("delete_tax_id", customer_id)
        self._tax_ids.get(customer_id, {}).pop(tax_id, None)  # one already gone counts as deleted

    def tax_ids(self, customer_id: str) -> list[dict[str, Any]]:
        self._called("tax_ids", customer_id)
        return [dict(t) for t in reversed(self._tax_ids.get(customer_id, {}).values())]  # newest first

    # -- plumbing ------------------------------------------------------------------------------------
    def _called(self, method: str, customer_id: str | None) -> None:
        self.calls.append((method, customer_id))
        queued = self._faults.get(method)
        if queued:
            raise queued.pop(0)

    def _live(self, customer_id: str) -> dict[str, Any]:
        if customer_id in self._other_mode:
            raise CustomerInOtherMode("live")
        customer = self.customers.get(customer_id)
        if customer is None or customer.get("deleted"):
            raise CustomerGone("the Stripe customer no longer exists (deleted in Stripe); it is never replaced")
        return customer

    def _placed(self, operation: str, params: dict[str, Any], customer: dict[str, Any]) -> None:
        """Stripe Tax's ``tax[validate_location]`` check of the customer as the write would leave it."""
        try:
            self.stripe_tax.check(operation, params, versions.default_version(), customer)
        except ApiError as exc:
            raise _refusal(exc) from None

    def _new_tax_id(self, customer_id: str, tax_type: str, value: str) -> str:
        tax_id = f"txi_fake{next(self._ids):06d}"
        self._tax_ids.setdefault(customer_id, {})[tax_id] = {"id": tax_id, "type": tax_type, "value": value}
        return tax_id


def _valid(operation: str, params: dict[str, Any]) -> None:
    """The emulator's check of a create's or update's params, raised as the gateway translates Stripe's 400."""
    try:
        validate_params(operation, params)
    except ApiError as exc:
        raise _refusal(exc) from None


def _checked(tax_type: Any, value: Any, within: str = "") -> None:
    """The emulator's check of a tax ID, raised as the gateway translates Stripe's 400 (code and param only)."""
    try:
        check_tax_id(tax_type, value, within)
    except ApiError as exc:
        raise _refusal(exc) from None


def _refusal(exc: ApiError) -> StripeRefusal:
    """``StripeRefusal`` as ``translate_stripe_error`` makes it: Stripe's code and param, never the value."""
    param, code = exc.body["error"].get("param"), exc.body["error"].get("code")
    return StripeRefusal(
        f"Stripe rejected {param or 'the request'} ({code or 'invalid_request'})", code=code, param=param
    )


def _merged(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Stripe's update: ``""`` unsets, hashes merge (metadata key by key), lists and scalars replace."""
    merged = _copy(current)
    for key, value in params.items():
        if value == "":
            merged.pop(key, None)
        elif isinstance(value, dict):
            merged[key] = _merged(merged.get(key) or {}, value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
