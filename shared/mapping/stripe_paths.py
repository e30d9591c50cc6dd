"""Which Stripe customer dot-paths can be mapped, read from Stripe's own request schema.

The mappable fields are the string leaves of the `POST /v1/customers` request body (Stripe OpenAPI spec,
in `shared/stripe/customer_schemas.json`), plus `metadata.<key>` under Stripe's metadata rules.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

# The project's copy of Stripe's OpenAPI customer schemas (also used by the local Stripe emulator).
SCHEMA_RESOURCE = "customer_schemas.json"
CREATE_OPERATION = "POST /v1/customers"

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
    text = resources.files("shared.stripe").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    body = json.loads(text)[CREATE_OPERATION]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    schema = body["schema"]
    return {leaf.path: leaf for leaf in _walk(schema, "")}


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
