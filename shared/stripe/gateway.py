"""Stripe customers: the port the sync engine uses and its ``StripeClient`` adapter.

The adapter makes every failure one of two kinds (``shared.errors``): permanent (Stripe rejected the data,
or the customer no longer exists) or transient (rate limit, lock, outage, network). ``StripeClient``
retries nothing unless told, and never retries a 429 unless Stripe sends ``Stripe-Should-Retry: true``
(stripe-python 16's ``_should_retry``; docs.stripe.com/error-low-level), so the adapter sets network retries
explicitly and backs off on 429 itself.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import stripe

from shared.errors import ConfigurationError, PermanentSyncError, SyncError, TransientSyncError
from shared.secrets import resolve_secret
from shared.settings import StripeMode, WorkerSettings
from shared.stripe.rate_limit import RateLimiter

# Stripe's 404 for an id of the other mode: "No such customer: 'cus_…'; a similar object exists in live mode,
# but a test mode key was used to make this request." (the only sign of it: code resource_missing).
_OTHER_MODE = re.compile(r"a similar object exists in (?P<mode>live|test) mode")
LIST_PAGE_SIZE = 100  # customers per list call: Stripe's maximum ``limit``


# Customers created since a pending create began are listed at most this many pages of 100 (newest first):
# enough for the minutes after a 500; for a key older than its window, Search has long caught up.
MAX_LIST_PAGES = 10


class CustomerGone(PermanentSyncError):
    """The customer id points to a deleted or missing Stripe customer (never replaced silently)."""


class CreateOutcomeUnknown(TransientSyncError):
    """Stripe answered a create with a 5xx: the customer may exist. The key replays that answer (Stripe
    stores 500s under it), so the retry must look for the customer before creating with a new key."""


class StripeRefusal(PermanentSyncError):
    """Stripe refused the request's data (a 4xx ``invalid_request_error``): its ``code`` and ``param`` (the
    bracketed parameter Stripe names, e.g. ``address[country]``; None when it names none). ``field`` is the
    param too, until the sync ties it to the Salesforce field (``shared.sync.refused_fields``)."""

    def __init__(self, message: str, *, code: str | None, param: str | None) -> None:
        super().__init__(message, field=param)
        self.code = code
        self.param = param


class CustomerInOtherMode(PermanentSyncError):
    """The id belongs to the other Stripe mode (a refreshed sandbox holds production's live-mode ids)."""

    def __init__(self, id_mode: str) -> None:
        key_mode = "test" if id_mode == "live" else "live"
        super().__init__(
            f"this id belongs to {id_mode} mode, the stack uses a {key_mode}-mode key — clear the Stripe ID "
            "fields after a sandbox refresh (or set STRIPE_REPLACE_OTHER_MODE_IDS=true on a sandbox stack)"
        )
        self.id_mode = id_mode


def key_mode(api_key: str) -> StripeMode | None:
    """The mode of a secret (``sk_``) or restricted (``rk_``) key from its prefix; None when unrecognisable."""
    for mode in StripeMode:
        if api_key.startswith((f"sk_{mode.value}_", f"rk_{mode.value}_")):
            return mode
    return None


def check_key_mode(api_key: str, settings: WorkerSettings) -> StripeMode | None:
    """The key's mode; ConfigurationError when it contradicts STRIPE_MODE or STRIPE_REPLACE_OTHER_MODE_IDS."""
    mode = key_mode(api_key)
    source = "STRIPE_API_KEY_SECRET_NAME" if settings.stripe_api_key_secret_name else "STRIPE_API_KEY"
    if settings.stripe_mode and mode and mode is not settings.stripe_mode:
        wanted = settings.stripe_mode.value
        raise ConfigurationError(
            f"{source} holds a {mode.value}-mode key but STRIPE_MODE is {wanted}: use a {wanted}-mode key "
            f"(sk_{wanted}_… or rk_{wanted}_…)"
        )
    if settings.stripe_replace_other_mode_ids and mode is StripeMode.LIVE:
        raise ConfigurationError(
            f"STRIPE_REPLACE_OTHER_MODE_IDS is for sandbox stacks; {source} holds a live-mode key: never in live mode"
        )
    return mode


class CustomerGateway(ABC):
    """What the sync engine needs from Stripe."""

    @abstractmethod
    def create(self, params: dict[str, Any], idempotency_key: str) -> str:
        """Create a customer; the same key and params always yield the same customer. Returns its id."""

    @abstractmethod
    def update(self, customer_id: str, params: dict[str, Any]) -> None:
        """Update the given fields of a customer (Stripe leaves the others unchanged)."""

    @abstractmethod
    def retrieve(self, customer_id: str) -> dict[str, Any]:
        """Return the customer as a dict; raise CustomerGone when deleted or missing."""

    @abstractmethod
    def find_by_metadata(self, key: str, value: str, *, created_since: int | None) -> list[dict[str, Any]]:
        """Live customers whose ``metadata[key]`` is ``value``, oldest first (found by Search, and among
        the customers created since ``created_since``, Unix seconds, by list)."""

    @abstractmethod
    def list_all(self) -> Iterator[dict[str, Any]]:
        """Every live customer, newest first, a page of 100 per call (reconcile's index of Stripe)."""

    @abstractmethod
    def add_tax_id(self, customer_id: str, tax_type: str, value: str, idempotency_key: str) -> str:
        """Add a tax ID object to the customer; returns its ``txi_`` id (same key ⇒ same tax ID).

        PermanentSyncError (code ``tax_id_invalid``) when Stripe refuses the value for the type.
        """

    @abstractmethod
    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        """Delete one tax ID of the customer; one already gone counts as deleted."""

    @abstractmethod
    def tax_ids(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's tax ID objects (``id``, ``type``, ``value``), newest first."""

    def customer_tax(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's Stripe Tax view (its ``tax`` object: ``automatic_tax``, ``location``); None when
        this gateway can't tell (operations only: ``sfsync status``)."""
        return None


class StripeCustomerGateway(CustomerGateway):
    """``CustomerGateway`` on stripe-python's ``StripeClient`` with explicit retries, timeout and 429 backoff."""

    def __init__(
        self,
        api_key: str,
        *,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
        max_network_retries: int = 2,
        rate_limit_retries: int = 4,
        backoff_base_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        limiter: RateLimiter | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        options: dict[str, Any] = {}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(
            api_key,
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
            **options,
        )
        self._rate_limit_retries = rate_limit_retries
        self._backoff_base = backoff_base_seconds
        self._sleep = sleep
        self._limiter = limiter
        # Bounds concurrent Stripe requests however many threads prepare them (DynamoDB work overlaps).
        self._in_flight = threading.BoundedSemaphore(max_in_flight) if max_in_flight else contextlib.nullcontext()

    @classmethod
    def from_settings(cls, settings: WorkerSettings) -> StripeCustomerGateway:
        """The gateway as the worker (and the operations tools) configure it: key, limits and retries.

        Raises ConfigurationError when the key's mode contradicts STRIPE_MODE (see ``check_key_mode``).
        """
        api_key = str(resolve_secret(settings.stripe_api_key, settings.stripe_api_key_secret_name))
        check_key_mode(api_key, settings)
        return cls(
            api_key,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.stripe_timeout_seconds,
            max_network_retries=settings.stripe_max_network_retries,
            rate_limit_retries=settings.stripe_rate_limit_retries,
            limiter=RateLimiter(settings.stripe_max_requests_per_second),
            max_in_flight=settings.stripe_concurrency,
        )

    def create(self, params: dict[str, Any], idempotency_key: str) -> str:
        """Create a customer under ``idempotency_key``; its id. Raises CreateOutcomeUnknown on a 5xx."""
        try:
            customer = self._call(
                lambda: self._client.v1.customers.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                ),
                raw_server_errors=True,
            )
        except stripe.APIError as exc:
            raise CreateOutcomeUnknown(f"Stripe answered the create with {exc.http_status}: outcome unknown") from exc
        return str(customer.id)

    def update(self, customer_id: str, params: dict[str, Any]) -> None:
        # No deterministic idempotency key here: an update is naturally idempotent, and a replayed
        # response could hide a later Stripe-side edit that this update is meant to overwrite (R8).
        self._call(lambda: self._client.v1.customers.update(customer_id, params=params))  # type: ignore[arg-type]

    def retrieve(self, customer_id: str) -> dict[str, Any]:
        customer = self._call(lambda: self._client.v1.customers.retrieve(customer_id))
        data: dict[str, Any] = customer.to_dict()
        if data.get("deleted"):
            raise CustomerGone(
                f"Stripe customer {customer_id} was deleted in Stripe; it is never replaced automatically",
                field=None,
            )
        return data

    def customer_tax(self, customer_id: str) -> dict[str, Any] | None:
        # ``tax`` is included only when expanded (https://docs.stripe.com/api/customers/object#customer_object-tax).
        customer = self._call(lambda: self._client.v1.customers.retrieve(customer_id, params={"expand": ["tax"]}))
        data = customer.to_dict()
        if data.get("deleted"):
            raise CustomerGone(f"Stripe customer {customer_id} was deleted in Stripe", field=None)
        tax = data.get("tax")
        return dict(tax) if isinstance(tax, dict) else None

    def list_all(self) -> Iterator[dict[str, Any]]:
        """Every live customer (deleted ones are never listed), newest first: ``GET /v1/customers``, 100 each.

        Pages follow ``starting_after`` like stripe-python's ``auto_paging_iter``, but each page goes through
        this gateway's rate limit and 429 backoff, and a cursor deleted meanwhile doesn't end the listing
        (``_page_after``). Stripe, "List all customers" and "Pagination".
        """
        for page in self._pages({"limit": LIST_PAGE_SIZE}):
            yield from page

    def _pages(self, params: dict[str, Any], max_pages: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """The pages of ``GET /v1/customers`` with ``params`` (at most ``max_pages``), as dicts."""
        cursors: list[str] = []
        read = 0
        while max_pages is None or read < max_pages:
            page = self._page_after(params, cursors)
            rows = [customer.to_dict() for customer in page.data]
            read += 1
            yield rows
            if not page.has_more or not rows:
                return
            cursors = [row["id"] for row in rows]

    def _page_after(self, params: dict[str, Any], cursors: list[str]) -> Any:
        """The page after the last of ``cursors`` (the previous page's ids, in list order); the first without.

        Stripe resumes a list from the cursor object, so one deleted since its page was read (in the
        Dashboard, while a listing of 100,000 customers takes minutes) is refused: 400 ``resource_missing``
        for ``starting_after`` (https://github.com/stripe/stripe-php/issues/1264,
        https://github.com/stripe/stripe-go/issues/1030). The list then resumes after the customer before it
        on the page: only deleted ones lie between them, so none is listed twice or left out. When the whole
        page was deleted, TransientSyncError: the run is retried (a fresh listing).
        """
        for cursor in reversed(cursors):
            query = {**params, "starting_after": cursor}
            request = partial(self._client.v1.customers.list, params=query)  # type: ignore[arg-type]
            try:
                return self._call(request)
            except CustomerGone as exc:
                if not _cursor_deleted(exc):
                    raise
        if cursors:
            raise TransientSyncError(
                f"all {len(cursors)} customers of a listed page were deleted while Stripe's customers were being "
                "listed: the list can't be resumed from them; retried from the start"
            )
        return self._call(partial(self._client.v1.customers.list, params=dict(params)))  # type: ignore[arg-type]

    def find_by_metadata(self, key: str, value: str, *, created_since: int | None) -> list[dict[str, Any]]:
        found = {c["id"]: c for c in self._search(key, value)}
        found.update((c["id"], c) for c in self._list_created_since(key, value, created_since))
        return sorted(found.values(), key=lambda c: (c.get("created", 0), c["id"]))

    def _search(self, key: str, value: str) -> list[dict[str, Any]]:
        # Search lags writes and is not offered in every region (https://docs.stripe.com/search): a refusal
        # means "not available here", and the list below still covers the recent creates.
        quoted = value.replace("\\", "\\\\").replace("'", "\\'")
        query = f"metadata['{key}']:'{quoted}'"
        try:
            result = self._call(lambda: self._client.v1.customers.search(params={"query": query, "limit": 100}))
        except PermanentSyncError:
            return []
        return [c.to_dict() for c in result.data]

    def _list_created_since(self, key: str, value: str, created_since: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100}
        if created_since is not None:
            params["created"] = {"gte": created_since}
        rows = (row for page in self._pages(params, MAX_LIST_PAGES) for row in page)
        return [c for c in rows if (c.get("metadata") or {}).get(key) == value]

    def add_tax_id(self, customer_id: str, tax_type: str, value: str, idempotency_key: str) -> str:
        # Tax IDs are objects under the customer (https://docs.stripe.com/api/tax_ids/create): the key makes a
        # retry after a lost answer return the tax ID already added instead of a second one.
        tax_id = self._call(
            lambda: self._client.v1.customers.tax_ids.create(
                customer_id,
                params={"type": tax_type, "value": value},
                options={"idempotency_key": idempotency_key},
            )
        )
        return str(tax_id.id)

    def delete_tax_id(self, customer_id: str, tax_id: str) -> None:
        # resource_missing here: the tax ID (not the customer: the update before proved it exists) is gone.
        with contextlib.suppress(CustomerGone):
            self._call(lambda: self._client.v1.customers.tax_ids.delete(customer_id, tax_id))

    def tax_ids(self, customer_id: str) -> list[dict[str, Any]]:
        page = self._call(lambda: self._client.v1.customers.tax_ids.list(customer_id, params={"limit": 100}))
        return [item.to_dict() for item in page.data]

    def _call(self, request: Callable[[], Any], *, raw_server_errors: bool = False) -> Any:
        """Run a Stripe request, backing off on 429 (rate limit or lock) and translating failures
        (5xx left as ``stripe.APIError`` with ``raw_server_errors``)."""
        attempt = 0
        while True:
            try:
                with self._in_flight:
                    if self._limiter is not None:
                        self._limiter.acquire()
                    return request()
            except stripe.RateLimitError as exc:
                if attempt >= self._rate_limit_retries:
                    raise translate_stripe_error(exc) from exc
                # Exponential backoff with full jitter, as Stripe recommends for 429s.
                self._sleep(random.uniform(0, self._backoff_base * (2**attempt)))
                attempt += 1
            except stripe.StripeError as exc:
                if raw_server_errors and isinstance(exc, stripe.APIError) and (exc.http_status or 0) >= 500:
                    raise
                raise translate_stripe_error(exc) from exc


def _cursor_deleted(exc: CustomerGone) -> bool:
    """The missing object was the list cursor (``starting_after``), not a customer the caller asked for."""
    cause = exc.__cause__
    return isinstance(cause, stripe.InvalidRequestError) and getattr(cause, "param", None) == "starting_after"


def translate_stripe_error(exc: stripe.StripeError) -> SyncError:
    """Classify a Stripe error as permanent (bad data, gone customer) or transient (everything else)."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or getattr(exc, "code", None)
    param = getattr(error, "param", None)
    if isinstance(exc, stripe.InvalidRequestError):
        other_mode = _OTHER_MODE.search(str(getattr(exc, "user_message", "") or ""))
        if code == "resource_missing" and other_mode:
            return CustomerInOtherMode(other_mode["mode"])
        if code == "resource_missing":
            return CustomerGone(
                "the Stripe customer no longer exists (deleted in Stripe); it is never replaced automatically"
            )
        if exc.http_status == 429 or code == "lock_timeout":
            return TransientSyncError(f"Stripe busy ({code})")
        # Stripe's message may quote the rejected value (personal data): keep only the code and the param.
        return StripeRefusal(
            f"Stripe rejected {param or 'the request'} ({code or 'invalid_request'})", code=code, param=param
        )
    if isinstance(exc, stripe.IdempotencyError):
        if exc.http_status == 409:
            return TransientSyncError("Stripe is still processing the same create request")
        return PermanentSyncError("Stripe idempotency conflict: the create key was used with other params")
    # Rate limits, 5xx (APIError), network (APIConnectionError), authentication and permission problems are
    # operational: retry them until fixed rather than mark the data as bad.
    return TransientSyncError(f"Stripe unavailable: {type(exc).__name__} ({code or exc.http_status})")
