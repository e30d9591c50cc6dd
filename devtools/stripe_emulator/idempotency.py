"""Idempotency keys as Stripe documents them (https://docs.stripe.com/api/idempotent_requests).

- "Stripe's idempotency works by saving the resulting status code and body of the first request made for
  any given idempotency key, regardless of whether it succeeds or fails. Subsequent requests with the same
  key return the same result, including 500 errors." → once execution began, the answer (any status) is
  stored and replayed.
- "Results are only saved if an API endpoint begins executing. If incoming parameters fail validation, or
  the request conflicts with another that's executing concurrently, no idempotent result is saved" → 429s,
  validation errors and 409s leave the key free.
- "You can remove keys from the system automatically after they're at least 24 hours old. We generate a
  new request if a key is reused after the original is pruned." → here a key is pruned exactly
  ``KEY_TTL_SECONDS`` after its first use, on the emulator clock, so tests see the earliest pruning Stripe
  allows.
- Same key with other parameters → 400 ``idempotency_error``; while the first request runs → 409
  ``idempotency_key_in_use``; keys are at most 255 characters and scoped to the API key (the account).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.stripe_emulator.validation import ApiError

IDEMPOTENCY_KEY_MAX = 255
KEY_TTL_SECONDS = 24 * 3600


def idempotency_error(state: str, key: str) -> ApiError:
    """Errors for an unusable key: "in_use" (409), "too_long" or a params "mismatch" (400)."""
    if state == "in_use":
        message = (
            "There is currently another in-progress request using this idempotent key (that probably "
            f"means you submitted twice, and the other request is still going through): {key}. "
            "Please try again later."
        )
        return ApiError(409, message, type_="idempotency_error", code="idempotency_key_in_use")
    if state == "too_long":
        message = f"Keys for idempotent requests can be no longer than {IDEMPOTENCY_KEY_MAX} characters."
        return ApiError(400, message, param="Idempotency-Key")
    message = (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        f"Try using a key other than '{key}' if you meant to execute a different request."
    )
    return ApiError(400, message, type_="idempotency_error")


@dataclass
class StoredResponse:
    """A response remembered under an idempotency key."""

    status: int
    body: dict[str, Any]
    request_id: str
    headers: dict[str, str] = field(default_factory=dict)
    customer_id: str | None = None


@dataclass
class _KeyEntry:
    fingerprint: str
    first_used: float  # emulator-clock seconds
    response: StoredResponse | None = None  # None while the first request is still executing


class IdempotencyStore:
    """Idempotency keys scoped per API key; reserved while executing, then holding their response until
    pruned ``ttl_seconds`` after first use."""

    def __init__(self, now: Callable[[], float], ttl_seconds: float = KEY_TTL_SECONDS) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _KeyEntry] = {}
        self._now = now
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def fingerprint(method: str, path: str, params: dict[str, Any]) -> str:
        return json.dumps([method, path, params], sort_keys=True)

    def begin(self, scope: tuple[str, str], fingerprint: str) -> tuple[str, StoredResponse | None]:
        """Reserve a key. Returns ("new"|"replay"|"mismatch"|"in_use", stored response for replays)."""
        now = self._now()
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None and entry.response is not None and now - entry.first_used >= self.ttl_seconds:
                del self._entries[scope]  # pruned: Stripe runs the request anew
                entry = None
            if entry is None:
                self._entries[scope] = _KeyEntry(fingerprint, now)
                return "new", None
            if entry.response is None:
                return "in_use", None
            if entry.fingerprint != fingerprint:
                return "mismatch", None
            return "replay", entry.response

    def finish(self, scope: tuple[str, str], response: StoredResponse) -> None:
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None:
                entry.response = response

    def release(self, scope: tuple[str, str]) -> None:
        """Forget a reservation whose request ended before execution (429s, validation errors)."""
        with self._lock:
            entry = self._entries.get(scope)
            if entry is not None and entry.response is None:
                del self._entries[scope]

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
