"""Which part of a create or update Stripe refused: one field, not the customer.

A 4xx ``invalid_request_error`` names the refused parameter in ``param`` when Stripe can ("A 4xx error
carries ``param``": https://docs.stripe.com/api/errors, e.g. ``address[country]``, ``email``,
``invoice_settings[custom_fields][0][value]``, ``metadata``). Some codes are documented as tied to a part of
the customer without a param: ``customer_tax_location_invalid`` refuses the address Stripe Tax places the
customer by — the shipping address when one is present, else the billing address
(https://docs.stripe.com/tax/customer-locations).

``refused_part`` turns a refusal into ``RefusedPart``: the *roots* of the params to leave out (a whole
``address`` or ``shipping``, which the sync always sends whole; a list field; one metadata key) and the flat
dot-path that names the field to blame. A refusal that can't be tied to a part of the params sent is None:
that is a record error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.mapping.list_fields import LIST_PATHS
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH
from shared.stripe.customer_diff import WHOLE_OBJECTS
from shared.stripe.gateway import CustomerGone, StripeRefusal

TAX_LOCATION_INVALID = "customer_tax_location_invalid"
METADATA = "metadata"
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class RefusedPart:
    """What to leave out of the params (``root``, a flat dot-path root) and which flat path names the
    Salesforce field to blame (``named``); ``reason``: Stripe's code, for the field warning."""

    root: str
    named: str
    reason: str


def refused_part(exc: Exception, params: Mapping[str, Any]) -> RefusedPart | None:
    """The part of ``params`` Stripe refused, or None when the refusal names no part that was sent."""
    if not isinstance(exc, StripeRefusal) or isinstance(exc, CustomerGone):
        return None
    reason = exc.code or "invalid_request"
    if exc.code == TAX_LOCATION_INVALID:
        root = next((top for top in ("shipping", "address") if isinstance(params.get(top), Mapping)), None)
        if root is None:
            return None
        prefix = f"{root}.address." if root == "shipping" else f"{root}."
        return RefusedPart(root, prefix + "postal_code", reason)
    if not exc.param:
        return None
    named = flat_path(exc.param)
    root = _root(named)
    if root == ACCOUNT_ID_PATH:
        return None  # never left out: reconcile and support find the customer by it
    return RefusedPart(root, named, reason) if _sent(params, root) else None


def flat_path(param: str) -> str:
    """Stripe's bracketed param as a flat dot-path: ``address[country]`` → ``address.country``."""
    head, _, rest = param.partition("[")
    parts = [head, *_SEGMENT.findall(f"[{rest}" if rest else "")]
    if head == METADATA and len(parts) > 1:
        return f"{METADATA}.{parts[1]}"  # metadata keys may contain dots: one leaf
    return ".".join(part for part in parts if part)


def _root(path: str) -> str:
    top = path.split(".", 1)[0]
    if top in WHOLE_OBJECTS:
        return top
    listed = next((name for name in LIST_PATHS if path == name or path.startswith(f"{name}.")), None)
    return listed or path


def _sent(params: Mapping[str, Any], root: str) -> bool:
    node: Any = params
    parts = [METADATA, root.removeprefix(f"{METADATA}.")] if root.startswith(f"{METADATA}.") else root.split(".")
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def without(params: Mapping[str, Any], root: str) -> dict[str, Any]:
    """``params`` without the part at ``root`` (and without a parent object it leaves empty).

    Without any address left, ``tax[validate_location]`` goes too: it would only ask Stripe to validate a
    location the request no longer sets.
    """
    parts = [METADATA, root.removeprefix(f"{METADATA}.")] if root.startswith(f"{METADATA}.") else root.split(".")
    rest = _drop(params, parts)
    if not any(top in rest for top in WHOLE_OBJECTS):
        rest = _drop(rest, ["tax", "validate_location"])
    return rest


def _drop(node: Mapping[str, Any], parts: list[str]) -> dict[str, Any]:
    head, rest = parts[0], parts[1:]
    result = dict(node)
    if not rest:
        result.pop(head, None)
    elif isinstance(result.get(head), Mapping):
        child = _drop(result[head], rest)
        if child:
            result[head] = child
        else:
            result.pop(head)
    return result
