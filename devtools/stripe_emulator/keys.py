"""API keys of the emulated Stripe account: test / live mode and restricted-key permissions.

Stripe keeps a test-mode and a live-mode copy of every account's data, and the key picks the mode:
``sk_test_`` / ``rk_test_`` keys see test-mode objects only, ``sk_live_`` / ``rk_live_`` keys live-mode
ones (https://docs.stripe.com/keys#test-live-modes). Asking one mode for an id that exists in the other is
a 404 ``resource_missing`` whose message says so, e.g. "No such customer: 'cus_…'; a similar object exists
in live mode, but a test mode key was used to make this request." (Stripe's wording, as public client
logs quote it for tokens and customers).

Restricted keys (``rk_``) hold a permission per resource (None / Read / Write; Write implies Read); a
request beyond them is a 403 ``invalid_request_error`` without a code: "The provided key 'rk_test_***…'
does not have the required permissions for this endpoint on account 'acct_…'. Having the
'rak_customer_write' permission would allow this request to continue."
(https://docs.stripe.com/keys/restricted-api-keys; the message as stripe-node issue #2246 quotes it.)
Tax IDs are a resource of their own in the key editor (``rak_tax_id_read`` / ``rak_tax_id_write``), listed
apart from Customers: here ``/v1/customers/{id}/tax_ids`` needs the ``tax_ids`` resource, so a key made for
customers alone is refused there — the stricter reading of the editor, which ``sfsync doctor`` probes.

Keys roll and expire: Dashboard "Roll key…" makes a new key with the same permissions and lets the old one
expire at a chosen time, "now" included; "If a request includes a deleted or expired key, Stripe returns an
authentication error" (https://docs.stripe.com/keys): a 401 with code ``api_key_expired``
(stripe/stripe-cli#792 handles that code for rolled keys).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devtools.stripe_emulator.validation import ApiError

TEST, LIVE = "test", "live"
ACCOUNT_ID = "acct_1EmulatorSfSync0"
_LEVELS = {"none": 0, "read": 1, "write": 2}


def key_mode(key: str) -> str | None:
    """``test`` or ``live`` from a secret or restricted key's prefix; None for anything else."""
    for prefix in ("sk_", "rk_"):
        for mode in (TEST, LIVE):
            if key.startswith(f"{prefix}{mode}_"):
                return mode
    return None


@dataclass(frozen=True)
class ApiKey:
    """One key: its mode and, for a restricted key, its permission per resource (``customers`` → level)."""

    key: str
    mode: str
    permissions: dict[str, str] | None = field(default=None)

    @property
    def restricted(self) -> bool:
        return self.permissions is not None

    def require(self, resource: str, level: str) -> None:
        """Raise Stripe's 403 when this restricted key lacks ``level`` (read/write) on ``resource``."""
        if self.permissions is None:
            return
        if _LEVELS[self.permissions.get(resource, "none")] >= _LEVELS[level]:
            return
        permission = f"rak_{resource.removesuffix('s')}_{level}"
        raise ApiError(
            403,
            f"The provided key '{masked(self.key)}' does not have the required permissions for this endpoint on "
            f"account '{ACCOUNT_ID}'. Having the '{permission}' permission would allow this request to continue.",
        )


def masked(key: str) -> str:
    """A key as Stripe prints it in errors: prefix, stars, last four characters."""
    return key[:8] + "*" * (len(key) - 12) + key[-4:] if len(key) > 12 else key


def other_mode_missing(customer_id: str, id_mode: str) -> ApiError:
    """The 404 for an id that exists only in the other mode (Stripe's wording)."""
    key_mode_name = LIVE if id_mode == TEST else TEST
    return ApiError(
        404,
        f"No such customer: '{customer_id}'; a similar object exists in {id_mode} mode, but a {key_mode_name} "
        "mode key was used to make this request.",
        code="resource_missing",
        param="id",
    )


def expired_key(key: str) -> ApiError:
    """Stripe's 401 for a rolled (expired) or deleted key."""
    return ApiError(401, f"Expired API Key provided: {masked(key)}", code="api_key_expired")


class KeyRing:
    """The keys the emulator accepts: registered ones, and any ``sk_test_`` key unless one key was required.

    ``now`` is the emulator's clock (seconds since the epoch): a rolled key expires by it.
    """

    def __init__(self, api_key: str | None = None, now: Callable[[], float] = time.time) -> None:
        self._keys: dict[str, ApiKey] = {}
        self._expires: dict[str, float] = {}  # key → when it stops working (rolled or expired keys)
        self._lock = threading.Lock()
        self._now = now
        # With an explicit key only registered keys pass; otherwise any sk_test_ key does too.
        self._strict = bool(api_key)
        if api_key:
            self.add(api_key)

    def add(self, key: str, permissions: dict[str, str] | None = None) -> ApiKey:
        """Register ``key`` (its mode from its prefix); ``permissions`` only for ``rk_`` keys."""
        mode = key_mode(key)
        if mode is None:
            raise ValueError("a Stripe key starts with sk_test_, sk_live_, rk_test_ or rk_live_")
        if key.startswith("rk_") and permissions is None:
            permissions = {}
        if key.startswith("sk_") and permissions is not None:
            raise ValueError("secret keys (sk_) are not restricted; use an rk_ key for permissions")
        for level in (permissions or {}).values():
            if level not in _LEVELS:
                raise ValueError(f"permission level must be one of {', '.join(_LEVELS)}")
        entry = ApiKey(key, mode, dict(permissions) if permissions is not None else None)
        with self._lock:
            self._keys[key] = entry
            self._expires.pop(key, None)
        return entry

    def roll(self, old: str, new: str, *, expires_in_seconds: float = 0.0) -> ApiKey:
        """Dashboard "Roll key…": ``new`` gets ``old``'s mode and permissions; ``old`` stops working after
        ``expires_in_seconds`` (0 = now). ValueError when the modes differ."""
        current = self.lookup(old)
        permissions = current.permissions if current is not None else None
        if key_mode(new) != key_mode(old) or new.startswith("rk_") != old.startswith("rk_"):
            raise ValueError("a rolled key keeps its kind and mode: roll sk_test_ to sk_test_, rk_live_ to rk_live_")
        entry = self.add(new, permissions)
        self.expire(old, in_seconds=expires_in_seconds)
        return entry

    def expire(self, key: str, *, in_seconds: float = 0.0) -> None:
        """Let ``key`` expire after ``in_seconds`` (0 = now); requests with it then get a 401."""
        with self._lock:
            if key not in self._keys and key_mode(key) is not None:
                self._keys[key] = ApiKey(key, key_mode(key) or TEST, {} if key.startswith("rk_") else None)
            self._expires[key] = self._now() + in_seconds

    def restrict(self, key: str, permissions: dict[str, str]) -> ApiKey:
        """Edit a restricted key's permissions in place (the key itself stays the same)."""
        if not key.startswith("rk_"):
            raise ValueError("only restricted keys (rk_) have permissions to edit")
        return self.add(key, permissions)

    def check(self, key: str) -> ApiKey:
        """The key's entry; Stripe's 401 when it is unknown or expired."""
        with self._lock:
            expires = self._expires.get(key)
        if expires is not None and self._now() >= expires:
            raise expired_key(key)
        entry = self.lookup(key)
        if entry is None:
            raise ApiError(401, f"Invalid API Key provided: {masked(key)}")
        return entry

    def lookup(self, key: str) -> ApiKey | None:
        """The registered key, or (unless the emulator was given one key) any ``sk_test_`` key; None when refused."""
        with self._lock:
            if key in self._keys:
                return self._keys[key]
        if not self._strict and key.startswith("sk_test_"):
            return ApiKey(key, TEST)
        return None
