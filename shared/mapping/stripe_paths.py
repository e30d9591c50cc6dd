"""Which Stripe customer dot-paths can be mapped, read from Stripe's own request schema.

The mappable fields are the string leaves of the `POST /v1/customers` params of the API version the pinned
stripe-python sends (`shared/stripe/customer_params.json`, generated from the SDK's own param types by
`python -m devtools.stripe_params`), plus `metadata.<key>` under Stripe's metadata rules. So a field Stripe
removed in that version (`coupon`) is refused when the mapping loads, and a new one (`business_name`,
`individual_name`) can be mapped.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

# Generated from stripe-python's param types (also what the local Stripe emulator validates against).
SCHEMA_RESOURCE = "customer_params.json"
CREATE_OPERATION = "create"

METADATA_PREFIX = "metadata."
# Stripe's documented metadata limits; the OpenAPI schema does not encode them.
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY_LENGTH = 40
MAX_METADATA_VALUE_LENGTH = 500

# Always written by the mapper: reconcile and support find customers by it.
ACCOUNT_ID_METADATA_KEY = "salesforce_account_id"
ACCOUNT_ID_PATH = METADATA_PREFIX + ACCOUNT_ID_METADATA_KEY


@dataclass(frozen=True)
class StripeField:
    """One mappable Stripe customer field."""

    path: str
    max_length: int | None = None
    # Allowed non-empty values when the schema restricts them (e.g. tax_exempt).
    choices: tuple[str, ...] = ()

    @property
    def is_metadata(self) -> bool:
        return self.path.startswith(METADATA_PREFIX)


def _walk(node: Mapping[str, Any], prefix: str) -> Iterator[StripeField]:
    """Yield every string leaf below `node`; `anyOf` branches are walked alike."""
    if "anyOf" in node:
        for branch in node["anyOf"]:
            yield from _walk(branch, prefix)
        return
    if node.get("type") == "object":
        for name, child in node.get("properties", {}).items():
            yield from _walk(child, f"{prefix}{name}.")
        return
    enum = node.get("enum")
    # `{"enum": [""]}` is only Stripe's way of saying "send '' to unset": not a field of its own.
    if node.get("type") != "string" or enum == [""]:
        return
    choices = tuple(value for value in enum or () if value)
    yield StripeField(prefix.rstrip("."), node.get("maxLength"), choices)


@functools.cache
def schema_fields() -> dict[str, StripeField]:
    """All mappable non-metadata fields by dot-path."""
    return {leaf.path: leaf for leaf in _walk(schema_document()["operations"][CREATE_OPERATION], "")}


@functools.cache
def schema_document() -> dict[str, Any]:
    """The generated params document: ``{"api_version", "sdk_version", "operations": {...}}``."""
    text = resources.files("shared.stripe").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def schema_api_version() -> str:
    """The Stripe API version the mappable fields belong to (must equal ``stripe.api_version``)."""
    return str(schema_document()["api_version"])


def stripe_field(path: str) -> StripeField:
    """The Stripe field for a dot-path; ValueError when Stripe has no such (string) customer field."""
    if path.startswith(METADATA_PREFIX):
        _check_metadata_key(path.removeprefix(METADATA_PREFIX))
        return StripeField(path, MAX_METADATA_VALUE_LENGTH)
    field = schema_fields().get(path)
    if field is None:
        raise ValueError("unknown Stripe customer field")
    return field


def _check_metadata_key(key: str) -> None:
    if not key:
        raise ValueError("metadata key must not be empty")
    if len(key) > MAX_METADATA_KEY_LENGTH:
        raise ValueError(f"metadata key longer than {MAX_METADATA_KEY_LENGTH} characters")
    if "[" in key or "]" in key:
        raise ValueError("metadata key must not contain '[' or ']'")
