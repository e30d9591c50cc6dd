"""What to tell the operator when Stripe refuses the stack's key: a 401 (rolled, expired or deleted key) or a
403 (a restricted key without a permission), as ``CredentialsRefused`` naming the setting and the fix.

Stripe: "If a request includes a deleted or expired key, Stripe returns an authentication error"
(https://docs.stripe.com/keys); a restricted key beyond its permissions gets a 403 naming the permission
(https://docs.stripe.com/keys/restricted-api-keys).
"""

from __future__ import annotations

import re

import stripe

from shared.errors import CredentialsRefused

# The permission a restricted key lacks, as Stripe's 403 names it ("Having the 'rak_customer_write' permission
# would allow this request to continue."): only this is kept, the message also quotes part of the key.
_MISSING_PERMISSION = re.compile(r"'(?P<permission>rak_[a-z_]+)'")


def key_refused(exc: stripe.StripeError, key_setting: str) -> CredentialsRefused:
    """The configuration error for a key Stripe refuses (401) or a permission it lacks (403), with the fix."""
    if isinstance(exc, stripe.PermissionError):
        found = _MISSING_PERMISSION.search(str(getattr(exc, "user_message", "") or ""))
        permission = found["permission"] if found else "a permission"
        return CredentialsRefused(
            "stripe",
            f"the restricted key in {key_setting} lacks {permission} (403): give it that permission in the Stripe "
            "Dashboard (Developers → API keys → edit the key), then the syncs resume on their next retry",
        )
    code = getattr(getattr(exc, "error", None), "code", None) or getattr(exc, "code", None) or "authentication_error"
    return CredentialsRefused(
        "stripe",
        f"Stripe refused the key in {key_setting} ({code}, 401), also after reading it again: the key was rolled, "
        "expired or deleted — store the current key (sfsync secret stripe)",
    )
