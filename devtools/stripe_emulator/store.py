"""In-memory customer state, Stripe's update semantics, list (with its ``created`` filter), search (lagging
behind writes, as Stripe documents) and write tracking."""

from __future__ import annotations

import copy
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from typing import Any

from devtools.stripe_emulator.validation import (
    CODE_INVALID_METADATA,
    METADATA_MAX_KEYS,
    ApiError,
    param_error,
)

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")
NULLABLE_STRINGS = ("name", "email", "phone", "description")
_ID_ALPHABET = string.ascii_letters + string.digits
# Sees a customer as a create or update would leave it; raises an ApiError to refuse the request.
Check = Callable[[dict[str, Any]], None]
_TERM = re.compile(
    r"""^\s*(?:metadata\[(?P<q1>['"])(?P<key>.*?)(?P=q1)\]|(?P<field>email|name|phone|description))"""
    r"""\s*:\s*(?P<q2>['"])(?P<value>(?:\\.|(?!(?P=q2)).)*)(?P=q2)\s*$"""
)


def resource_missing(customer_id: str, param: str = "id") -> ApiError:
    """The 404 Stripe answers for unknown (or, on update, deleted) customers."""
    return ApiError(404, f"No such customer: '{customer_id}'", code="resource_missing", param=param)


def cursor_missing(customer_id: str, param: str) -> ApiError:
    """A list cursor (``starting_after``/``ending_before``) naming a customer that is not listed (any more).

    Stripe resumes a list from the cursor object itself, so a cursor deleted since its page was read can't
    be resumed from: 400 ``resource_missing`` with ``param: starting_after`` (the answer quoted in
    https://github.com/stripe/stripe-go/issues/1030; Stripe's maintainers, "For some resource types,
    pointing starting_after to a resource that has been deleted fails as it cannot resume pagination":
    https://github.com/stripe/stripe-php/issues/1264). Auto-paging (stripe-python's ``auto_paging_iter``
    too, https://github.com/stripe/stripe-python/issues/671) fails the same way.
    """
    return ApiError(400, f"No such customer: '{customer_id}'", code="resource_missing", param=param)


def _address(value: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    # A partial address merges into the stored one; a sub-field sent as "" is cleared.
    merged = dict(existing) if existing else dict.fromkeys(ADDRESS_KEYS)
    for key, sub in value.items():
        merged[key] = sub or None
    return merged


def _shipping(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "address": _address(value.get("address") or {}, None),
        "carrier": None,
        "name": value.get("name") or None,
        "phone": value.get("phone") or None,
        "tracking_number": None,
    }


def _apply(customer: dict[str, Any], params: dict[str, Any]) -> None:
    """Apply create/update params: absent params stay unchanged, "" unsets."""
    for key in NULLABLE_STRINGS:
        if key in params:
            customer[key] = params[key] or None
    if "address" in params:
        value = params["address"]
        customer["address"] = _address(value, customer["address"]) if value else None
    if "shipping" in params:
        customer["shipping"] = _shipping(params["shipping"]) if params["shipping"] else None
    if "metadata" in params:
        customer["metadata"] = _merge_metadata(customer["metadata"], params["metadata"])
    for key in ("balance", "next_invoice_sequence", "preferred_locales"):
        if key in params:
            customer[key] = params[key]
    if "invoice_prefix" in params:
        customer["invoice_prefix"] = params["invoice_prefix"] or customer["invoice_prefix"]
    if "tax_exempt" in params:
        customer["tax_exempt"] = params["tax_exempt"] or "none"
    settings = params.get("invoice_settings")
    if isinstance(settings, dict):
        for key, value in settings.items():
            customer["invoice_settings"][key] = value or None
    # Other accepted params (payment_method, source, tax, coupon, expand, ...) are validated but not modelled.


def _merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    if update == "":
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > METADATA_MAX_KEYS:
        raise param_error(
            CODE_INVALID_METADATA,
            "metadata",
            f"You can have up to {METADATA_MAX_KEYS} metadata keys, but this update would leave {len(merged)}.",
        )
    return merged


def _new_customer(customer_id: str, created: int) -> dict[str, Any]:
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "invoice_prefix": "".join(secrets.choice("0123456789ABCDEF") for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def deleted_stub(customer_id: str) -> dict[str, Any]:
    """What Stripe returns for a deleted customer."""
    return {"id": customer_id, "object": "customer", "deleted": True}


class CustomerStore:
    """Thread-safe customer state; newest-first ordering follows insertion order."""

    def __init__(self, now: Callable[[], float] = time.time, search_lag_seconds: float = 0.0) -> None:
        self._lock = threading.RLock()
        self._now = now
        self.search_lag_seconds = search_lag_seconds
        self._customers: dict[str, dict[str, Any]] = {}
        # Every written state of each customer with its write time: search sees the state of lag ago.
        self._history: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self._order: list[str] = []  # creation order, so a page is found without copying every customer
        self._position: dict[str, int] = {}
        self._deleted: set[str] = set()
        self._active_writes: dict[str, int] = {}
        self.max_concurrent_writes = 0

    def reset(self) -> None:
        with self._lock:
            self._customers.clear()
            self._history.clear()
            self._order.clear()
            self._position.clear()
            self._deleted.clear()
            self._active_writes.clear()
            self.max_concurrent_writes = 0

    def create(self, params: dict[str, Any], check: Check | None = None) -> dict[str, Any]:
        """Store a new customer built from validated create params (``check`` may refuse it first)."""
        customer_id = "cus_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(14))
        now = self._now()
        customer = _new_customer(customer_id, int(now))
        _apply(customer, params)
        if check is not None:
            check(customer)
        with self._lock:
            self._customers[customer_id] = customer
            self._history[customer_id] = [(now, copy.deepcopy(customer))]
            self._position[customer_id] = len(self._order)
            self._order.append(customer_id)
            return copy.deepcopy(customer)

    def retrieve(self, customer_id: str) -> dict[str, Any]:
        with self._lock:
            if customer_id in self._deleted:
                return deleted_stub(customer_id)
            if customer_id not in self._customers:
                raise resource_missing(customer_id)
            return copy.deepcopy(self._customers[customer_id])

    def update(self, customer_id: str, params: dict[str, Any], check: Check | None = None) -> dict[str, Any]:
        """Apply validated update params; deleted or unknown customers are resource_missing.

        ``check`` sees the customer as the update would leave it and may refuse the update (an ApiError).
        """
        with self._lock:
            if customer_id in self._deleted or customer_id not in self._customers:
                raise resource_missing(customer_id)
            # Why: apply to a copy so a failing merge (too many metadata keys) leaves the customer untouched.
            updated = copy.deepcopy(self._customers[customer_id])
            _apply(updated, params)
            if check is not None:
                check(updated)
            self._customers[customer_id] = updated
            self._history[customer_id].append((self._now(), copy.deepcopy(updated)))
            return copy.deepcopy(updated)

    def delete(self, customer_id: str) -> dict[str, Any]:
        with self._lock:
            if customer_id in self._deleted or customer_id not in self._customers:
                raise resource_missing(customer_id)
            self._deleted.add(customer_id)
            return deleted_stub(customer_id)

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """Stored object (deleted ones carry ``"deleted": True``), or None."""
        with self._lock:
            customer = self._customers.get(customer_id)
            if customer is None:
                return None
            result = copy.deepcopy(customer)
            if customer_id in self._deleted:
                result["deleted"] = True
            return result

    def all(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Stored customers, oldest first."""
        with self._lock:
            ids = [cid for cid in self._customers if include_deleted or cid not in self._deleted]
            return [c for c in (self.get(cid) for cid in ids) if c is not None]

    def _live_newest_first(self) -> list[dict[str, Any]]:
        with self._lock:
            live = [c for cid, c in self._customers.items() if cid not in self._deleted]
            return copy.deepcopy(live[::-1])

    def _searchable_newest_first(self) -> list[dict[str, Any]]:
        cutoff = self._now() - self.search_lag_seconds
        with self._lock:
            visible = []
            for cid, history in self._history.items():
                indexed = [state for written, state in history if written <= cutoff]
                if indexed and cid not in self._deleted:
                    visible.append(copy.deepcopy(indexed[-1]))
            return visible[::-1]

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /v1/customers``: newest first, exact case-sensitive ``email`` filter, cursor pagination."""
        limit = _limit(params)
        if not {"email", "created", "ending_before"} & params.keys():
            return self._page_newest_first(limit, params.get("starting_after"))
        rows = self._live_newest_first()
        if "email" in params:
            rows = [c for c in rows if c["email"] == params["email"]]
        if "created" in params:
            rows = [c for c in rows if _created_matches(c["created"], params["created"])]
        ids = [c["id"] for c in rows]
        if "starting_after" in params:
            rows = rows[_cursor_index(ids, params["starting_after"], "starting_after") + 1 :]
        elif "ending_before" in params:
            end = _cursor_index(ids, params["ending_before"], "ending_before")
            rows = rows[max(0, end - limit) : end]
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": "/v1/customers"}

    def _page_newest_first(self, limit: int, starting_after: str | None) -> dict[str, Any]:
        """One page of all live customers, newest first: only the page is copied (orgs of 100,000)."""
        with self._lock:
            if starting_after is None:
                start = len(self._order) - 1
            elif starting_after in self._position and starting_after not in self._deleted:
                start = self._position[starting_after] - 1
            else:
                raise cursor_missing(starting_after, "starting_after")  # deleted since its page was read
            found: list[str] = []
            index = start
            while index >= 0 and len(found) <= limit:
                if self._order[index] not in self._deleted:
                    found.append(self._order[index])
                index -= 1
            rows = [copy.deepcopy(self._customers[cid]) for cid in found[:limit]]
        return {"object": "list", "data": rows, "has_more": len(found) > limit, "url": "/v1/customers"}

    def search(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /v1/customers/search`` for ``field:'value'`` terms joined by `` AND ``.

        Stripe: "Don't use search for read-after-write flows ... Under normal operating conditions, data is
        searchable in less than a minute. Occasionally, propagation of new or updated data can be up to an
        hour behind during outages" (https://docs.stripe.com/search#data-freshness). So search here matches
        each customer as it was ``search_lag_seconds`` ago on the emulator clock: a customer created more
        recently is not found, a recent update is not yet seen.
        """
        limit = _limit(params)
        terms = _parse_query(params["query"])
        rows = [c for c in self._searchable_newest_first() if all(_term_matches(c, t) for t in terms)]
        offset = _page_offset(params.get("page"))
        page = rows[offset : offset + limit]
        has_more = len(rows) > offset + limit
        return {
            "object": "search_result",
            "data": page,
            "has_more": has_more,
            "next_page": f"page_{offset + limit}" if has_more else None,
            "url": "/v1/customers/search",
        }

    def begin_write(self, customer_id: str) -> bool:
        """Count a write to one customer as in flight; True when another write to it is already running."""
        with self._lock:
            running = self._active_writes.get(customer_id, 0) + 1
            self._active_writes[customer_id] = running
            self.max_concurrent_writes = max(self.max_concurrent_writes, running)
            return running > 1

    def end_write(self, customer_id: str) -> None:
        with self._lock:
            running = self._active_writes.get(customer_id, 1) - 1
            if running:
                self._active_writes[customer_id] = running
            else:
                self._active_writes.pop(customer_id, None)


def _created_matches(created: int, spec: Any) -> bool:
    """``created`` list filter: an exact timestamp, or a ``gt``/``gte``/``lt``/``lte`` range."""
    if isinstance(spec, int):
        return created == spec
    checks = {
        "gt": lambda bound: created > bound,
        "gte": lambda bound: created >= bound,
        "lt": lambda bound: created < bound,
        "lte": lambda bound: created <= bound,
    }
    return all(checks[op](bound) for op, bound in spec.items())


def _limit(params: dict[str, Any]) -> int:
    limit: int = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise param_error(
            "parameter_invalid_integer", "limit", f"Invalid limit: must be between 1 and 100, got {limit}"
        )
    return limit


def _cursor_index(ids: list[str], cursor: str, param: str) -> int:
    if cursor not in ids:
        raise cursor_missing(cursor, param)
    return ids.index(cursor)


def _page_offset(page: str | None) -> int:
    if not page:
        return 0
    if not re.fullmatch(r"page_\d+", page):
        raise param_error("parameter_invalid_string", "page", f"Invalid page: {page}")
    return int(page[5:])


def _parse_query(query: str) -> list[tuple[str, str | None, str]]:
    terms = []
    for raw in query.split(" AND "):
        match = _TERM.match(raw)
        if match is None:
            raise ApiError(
                400,
                f"Unsupported or invalid search query: {raw.strip()!r}. This emulator supports "
                "metadata['key']:'value', email:'x', name:'x', phone:'x' and description:'x' joined by AND.",
                code="parameter_invalid_string",
                param="query",
            )
        value = re.sub(r"\\(.)", r"\1", match.group("value"))
        terms.append((match.group("field") or "metadata", match.group("key"), value))
    return terms


def _term_matches(customer: dict[str, Any], term: tuple[str, str | None, str]) -> bool:
    field_name, key, value = term
    if field_name == "metadata":
        return customer["metadata"].get(key) == value
    # Stripe's ':' on string fields is an exact match that ignores case.
    actual = customer.get(field_name)
    return isinstance(actual, str) and actual.casefold() == value.casefold()
