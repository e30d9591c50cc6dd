"""The Stripe API versions the emulator speaks, each with its own customer request schemas.

Stripe validates a request against the API version it names in ``Stripe-Version`` (else the account's
default version) and answers with that version in the ``Stripe-Version`` response header
(https://docs.stripe.com/api/versioning). Params removed in a later version are unknown there: ``coupon``
exists in 2023-08-16 and is rejected in the version stripe-python 16 sends.

- the pinned SDK's version: ``shared/stripe/customer_params.json``, generated from stripe-python's param
  types by ``python -m devtools.stripe_params`` (also what the mapping validates against);
- ``2023-08-16``: Stripe's OpenAPI spec of that version (``schemas/openapi-2023-08-16.json``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
SDK_PARAMS_PATH = _ROOT / "shared" / "stripe" / "customer_params.json"
OPENAPI_PATHS = {"2023-08-16": Path(__file__).resolve().parent / "schemas" / "openapi-2023-08-16.json"}

# Operation name (as routed by the server) -> operation key in the OpenAPI copy.
OPENAPI_OPERATIONS = {
    "create": "POST /v1/customers",
    "update": "POST /v1/customers/{customer}",
    "retrieve": "GET /v1/customers/{customer}",
    "delete": "DELETE /v1/customers/{customer}",
    "list": "GET /v1/customers (list)",
    "search": "GET /v1/customers/search",
}


@functools.cache
def sdk_params() -> dict[str, Any]:
    """The generated schema document of the pinned SDK's API version."""
    data: dict[str, Any] = json.loads(SDK_PARAMS_PATH.read_text(encoding="utf-8"))
    return data


def default_version() -> str:
    """The version an account created today defaults to: the one the pinned SDK sends."""
    return str(sdk_params()["api_version"])


def supported_versions() -> tuple[str, ...]:
    return (default_version(), *OPENAPI_PATHS)


@functools.cache
def operation_schema(version: str, operation: str) -> dict[str, Any]:
    """Object schema of an operation's params in ``version``: the form body for POST, the query otherwise."""
    if version == default_version():
        schema: dict[str, Any] = sdk_params()["operations"][operation]
        return schema
    spec = _openapi(version)[OPENAPI_OPERATIONS[operation]]
    if operation in ("create", "update"):
        body: dict[str, Any] = spec["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        return body
    query = [p for p in spec.get("parameters", []) if p.get("in") == "query"]
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {p["name"]: p["schema"] for p in query},
        "required": [p["name"] for p in query if p.get("required")],
    }


@functools.cache
def _openapi(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OPENAPI_PATHS[version].read_text(encoding="utf-8"))
    return data
