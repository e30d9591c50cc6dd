"""Fault injection: counted or random failures for matching Stripe API requests."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from devtools.stripe_emulator.validation import ApiError

# Faults answered before execution: nothing is stored under the idempotency key, like real Stripe 429s.
# "email_invalid": Stripe's own email check refuses an address any syntax check (the mapping's included)
# let through — a validation failure, so not stored under a key either.
IMMEDIATE_KINDS = ("rate_limit", "lock_timeout", "server_error", "email_invalid")
# Faults that drop the connection without an answer, before or after executing the request.
TIMEOUT_KINDS = ("timeout_before", "timeout_after")
# 500s once execution began, stored under the idempotency key and replayed to every retry with it
# ("Subsequent requests with the same key return the same result, including 500 errors":
# https://docs.stripe.com/api/idempotent_requests): after the operation took effect ("server_error_after":
# the customer exists, the client cannot know) or before it did ("server_error_during": nothing changed).
STORED_ERROR_KINDS = ("server_error_after", "server_error_during")
KINDS = IMMEDIATE_KINDS + TIMEOUT_KINDS + STORED_ERROR_KINDS

LOCK_TIMEOUT_MESSAGE = (
    "This object cannot be accessed right now because another API request or Stripe process is currently "
    "accessing it. If you see this error intermittently, retry the request. If you see this error frequently "
    "and are making multiple concurrent requests to a single object, make your requests serially or at a "
    "lower rate."
)


def fault_error(kind: str) -> ApiError:
    """The error response Stripe sends for an immediate fault kind."""
    if kind == "rate_limit":
        # No Stripe-Should-Retry header: stripe-python then does not retry 429s, as with real rate limits.
        return ApiError(
            429,
            "Request rate limit exceeded. You can make up to 25 requests per second in test mode. "
            "Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
    if kind == "lock_timeout":
        return lock_timeout_error()
    if kind == "email_invalid":
        return ApiError(400, "Invalid email address: (redacted)", code="email_invalid", param="email")
    if kind == "server_error":
        return ApiError(500, "An unknown error occurred. Please try again.", type_="api_error")
    if kind in STORED_ERROR_KINDS:
        # Stripe-Should-Retry: false — retrying with the same key can only replay this stored answer.
        return ApiError(500, "An unknown error occurred.", type_="api_error", headers={"Stripe-Should-Retry": "false"})
    raise ValueError(f"not an immediate fault kind: {kind}")


def lock_timeout_error() -> ApiError:
    """429 lock_timeout; Stripe marks it retryable so its SDKs retry it (unlike rate limits)."""
    return ApiError(429, LOCK_TIMEOUT_MESSAGE, code="lock_timeout", headers={"Stripe-Should-Retry": "true"})


@dataclass
class _Rule:
    kind: str
    method: str | None
    path_prefix: str | None
    remaining: int | None = None  # counted rule
    rate: float = 0.0  # random rule
    rng: random.Random | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass
class _Slowdown:
    seconds: float
    after: int  # matching requests still to pass at normal speed
    method: str | None
    path_prefix: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


class FaultInjector:
    """Thread-safe list of fault rules; the first matching rule that fires decides the fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._slowdowns: list[_Slowdown] = []
        self._refused_params: dict[str, str] = {}  # bracketed param → error code

    def refuse_param(self, param: str, code: str = "parameter_invalid_string") -> None:
        """Refuse every create or update that sends ``param`` (``address[city]``, ``metadata[region]``) with a
        400 naming it, until cleared: a value Stripe refuses although the client thought it valid. Stripe's
        4xx errors name the refused parameter in ``param`` (https://docs.stripe.com/api/errors); like other
        validation failures, the answer is not stored under an idempotency key."""
        with self._lock:
            self._refused_params[param] = code

    def param_refusal(self, params: dict[str, Any]) -> ApiError | None:
        """The 400 for the first refused param present in decoded ``params``, else None."""
        with self._lock:
            refused = dict(self._refused_params)
        for param, code in refused.items():
            if _present(params, param):
                return ApiError(400, f"Invalid value for {param}.", code=code, param=param)
        return None

    def add_count(
        self, kind: str, count: int = 1, *, method: str | None = None, path_prefix: str | None = None
    ) -> None:
        """Fail the next ``count`` matching requests with ``kind``."""
        _check_kind(kind)
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._rules.append(_Rule(kind, method, path_prefix, remaining=count))

    def add_rate(
        self,
        kind: str,
        rate: float,
        *,
        seed: int = 0,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Fail each matching request with probability ``rate`` (seeded, reproducible) until cleared."""
        _check_kind(kind)
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        with self._lock:
            self._rules.append(_Rule(kind, method, path_prefix, rate=rate, rng=random.Random(seed)))

    def add_spec(self, spec: dict[str, Any]) -> None:
        """Add a rule from a JSON spec: ``{"kind", "count" | "rate", "seed", "method", "path_prefix"}``, or a
        slowdown: ``{"kind": "slow", "seconds", "after", "method", "path_prefix"}``."""
        kind = str(spec.get("kind", ""))
        where = {"method": spec.get("method"), "path_prefix": spec.get("path_prefix")}
        if kind == "slow":
            self.add_slowdown(float(spec.get("seconds", 0)), after=int(spec.get("after", 0)), **where)
            return
        if "rate" in spec:
            self.add_rate(kind, float(spec["rate"]), seed=int(spec.get("seed", 0)), **where)
        else:
            self.add_count(kind, int(spec.get("count", 1)), **where)

    def take(self, method: str, path: str) -> str | None:
        """The fault for this request, if any, consuming one use of a counted rule."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                    return rule.kind
                if rule.rng is not None and rule.rng.random() < rule.rate:
                    return rule.kind
            return None

    def add_slowdown(
        self, seconds: float, *, after: int = 0, method: str | None = None, path_prefix: str | None = None
    ) -> None:
        """Once ``after`` matching requests have passed, answer every further one ``seconds`` later.

        Stripe's latency is not constant: a degraded API answers slowly for minutes (status.stripe.com
        incidents are mostly "elevated latency"), without erroring. Until cleared.
        """
        if seconds < 0 or after < 0:
            raise ValueError("seconds and after must be >= 0")
        with self._lock:
            self._slowdowns.append(_Slowdown(seconds, after, method, path_prefix))

    def delay(self, method: str, path: str) -> float:
        """Extra seconds for this request from the slowdown rules (each matching request counts)."""
        with self._lock:
            extra = 0.0
            for rule in self._slowdowns:
                if rule.matches(method, path):
                    if rule.after > 0:
                        rule.after -= 1
                    else:
                        extra += rule.seconds
            return extra

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._slowdowns.clear()
            self._refused_params.clear()


def _present(params: Any, param: str) -> bool:
    head, _, rest = param.partition("[")
    node = params
    for part in [head, *(rest.rstrip("]").split("][") if rest else [])]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return node not in ("", None)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
