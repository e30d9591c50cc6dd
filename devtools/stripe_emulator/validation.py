"""Request checks: routing, API-key auth, decoding of bracket-encoded form params, schema validation.

The schemas are those of the request's API version (``versions.py``): the emulator rejects exactly the
parameters that version rejects.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from devtools.stripe_emulator import versions

METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500

# Stripe documents parameter_unknown, parameter_missing, parameter_invalid_empty, parameter_invalid_integer
# and email_invalid. For over-long strings real Stripe answers "Invalid string: ...; must be at most N
# characters" without a documented code, so the codes below for length/type/metadata problems follow the
# same parameter_invalid_* naming; match on HTTP 400 + param rather than on these codes.
CODE_STRING_LENGTH = "parameter_invalid_string_length"
CODE_INVALID_STRING = "parameter_invalid_string"
CODE_INVALID_METADATA = "parameter_invalid_metadata"

_CUSTOMER_PATH = re.compile(r"^/v1/customers/(?P<id>[^/]+)$")
_TAX_IDS_PATH = re.compile(r"^/v1/customers/(?P<id>[^/]+)/tax_ids(?:/(?P<tax_id>[^/]+))?$")
_EXPAND = {"type": "array", "items": {"maxLength": 5000, "type": "string"}}
# Params of the customer tax ID endpoints (https://docs.stripe.com/api/tax_ids): the type's allowed values
# and the value's format are checked by tax_ids.check_tax_id, as Stripe answers for them.
TAX_ID_SCHEMAS: dict[str, dict[str, Any]] = {
    "tax_id_create": {
        "type": "object",
        "properties": {"type": {"type": "string"}, "value": {"type": "string"}, "expand": _EXPAND},
        "required": ["type", "value"],
    },
    "tax_id_list": {
        "type": "object",
        "properties": {
            "ending_before": {"maxLength": 5000, "type": "string"},
            "expand": _EXPAND,
            "limit": {"type": "integer"},
            "starting_after": {"maxLength": 5000, "type": "string"},
        },
    },
    "tax_id_retrieve": {"type": "object", "properties": {"expand": _EXPAND}},
    "tax_id_delete": {"type": "object", "properties": {}},
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_INTEGER = re.compile(r"^-?\d+$")


class ApiError(Exception):
    """A Stripe-shaped error response: HTTP status plus the ``{"error": {...}}`` body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
        if param:
            error["param"] = param
        self.body = {"error": error}

    @property
    def code(self) -> str | None:
        return self.body["error"].get("code")


def route(method: str, path: str) -> tuple[str, str | None]:
    """Map a Stripe API request to (operation, customer id) or raise Stripe's 404 for unknown URLs."""
    if path == "/v1/customers" and method in ("GET", "POST"):
        return ("list" if method == "GET" else "create"), None
    if path == "/v1/customers/search" and method == "GET":
        return "search", None
    taxes = _TAX_IDS_PATH.match(path)
    if taxes:
        one = {"GET": "tax_id_retrieve", "DELETE": "tax_id_delete"}
        operation = (
            one.get(method) if taxes.group("tax_id") else {"GET": "tax_id_list", "POST": "tax_id_create"}.get(method)
        )
        if operation:
            return operation, unquote(taxes.group("id"))
    match = _CUSTOMER_PATH.match(path)
    operations = {"GET": "retrieve", "POST": "update", "DELETE": "delete"}
    if match and method in operations:
        return operations[method], unquote(match.group("id"))
    raise ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at "
        "https://support.stripe.com/.",
    )


def tax_id_in(path: str) -> str | None:
    """The tax ID of a ``/v1/customers/{id}/tax_ids/{tax_id}`` path, else None."""
    match = _TAX_IDS_PATH.match(path)
    return unquote(match.group("tax_id")) if match and match.group("tax_id") else None


def authenticate(authorization: str | None, accept: Callable[[str], bool]) -> str:
    """The API key of a request when ``accept(key)``; raises a 401 ApiError otherwise."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else ""
    if scheme.lower() == "basic":  # curl -u sk_test_...: works against Stripe too
        try:
            key = base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            key = ""
    if not key:
        raise ApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    if not accept(key):
        masked = key[:8] + "*" * (len(key) - 12) + key[-4:] if len(key) > 12 else key
        raise ApiError(401, f"Invalid API Key provided: {masked}")
    return key


def param_error(code: str, param: str, message: str) -> ApiError:
    """A 400 invalid_request_error naming the offending param in bracket form."""
    return ApiError(400, message, code=code, param=param)


def resolve_version(header: str | None) -> str:
    """The API version a request runs under: its ``Stripe-Version`` header, else the account default.

    An unknown version is a 400, as on Stripe (https://docs.stripe.com/api/versioning).
    """
    version = (header or "").strip() or versions.default_version()
    if version not in versions.supported_versions():
        raise ApiError(400, f"Invalid Stripe API version: {version}", param="Stripe-Version")
    return version


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode ``a[b][c]=v`` / ``a[0]=v`` / ``a[]=v`` pairs into nested dicts of strings.

    Array indices stay dict keys here; the validator turns them into lists where the schema says array,
    so ``metadata[0]=x`` remains a metadata key.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        node = root
        path = _split_key(raw_key)
        for segment in path[:-1]:
            child = node.get(segment)
            if not isinstance(child, dict):
                # Why: a later nested key wins over an earlier scalar (e.g. "address=" then "address[city]").
                child = node[segment] = {}
            node = child
        last = path[-1] if path[-1] != "" else str(len(node))  # "expand[]" appends
        node[last] = value
    return root


def _split_key(key: str) -> list[str]:
    head, sep, rest = key.partition("[")
    if not sep:
        return [key]
    rest = "[" + rest
    parts: list[str] = []
    pos = 0
    while pos < len(rest):
        match = _SEGMENT.match(rest, pos)
        if match is None:
            # Why: a key that itself holds brackets (metadata[a[b]]) stays one key so it can be rejected
            # as a metadata key with brackets, as Stripe does, instead of becoming a nested hash.
            return [head, rest[1:-1] if rest.endswith("]") else rest[1:]]
        parts.append(match.group(1))
        pos = match.end()
    return [head, *parts]


def validate_params(operation: str, params: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    """Validate decoded params for an operation in an API version (default: the account's); return them
    coerced (ints, bools, lists) or raise."""
    if operation in TAX_ID_SCHEMAS:
        schema = TAX_ID_SCHEMAS[operation]
    else:
        schema = versions.operation_schema(version or versions.default_version(), operation)
    coerced: dict[str, Any] = validate(schema, params, "")
    if operation in ("create", "update"):
        _check_email(coerced.get("email"))
        _check_metadata(coerced.get("metadata"))
    return coerced


def validate(schema: dict[str, Any], value: Any, param: str) -> Any:
    """Recursive validator for the JSON Schema subset used by Stripe's form-encoded request schemas."""
    if "anyOf" in schema:
        return _validate_any_of(schema["anyOf"], value, param)
    kind = schema.get("type")
    if kind == "object":
        return _validate_object(schema, value, param)
    if kind == "array":
        return _validate_array(schema, value, param)
    if kind == "integer":
        if isinstance(value, str) and _INTEGER.match(value):
            return int(value)
        raise param_error("parameter_invalid_integer", param, f"Invalid integer: {_show(value)}")
    if kind == "boolean":
        if value in ("true", "false"):
            return value == "true"
        raise param_error("parameter_invalid_boolean", param, f"Invalid boolean: {_show(value)}")
    if kind == "string":
        return _validate_string(schema, value, param)
    return value


def _validate_any_of(branches: list[dict[str, Any]], value: Any, param: str) -> Any:
    first_error: ApiError | None = None
    for branch in branches:
        try:
            return validate(branch, value, param)
        except ApiError as exc:
            # Why: report the error of the branch whose shape matches the value (a hash error for a hash),
            # not a confusing "must be empty string" from the unset branch.
            if _shape_matches(branch, value):
                raise
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _shape_matches(schema: dict[str, Any], value: Any) -> bool:
    kind = schema.get("type")
    if isinstance(value, dict):
        return kind in ("object", "array")
    if schema.get("enum") == [""]:  # the "unset" branch only fits an empty string
        return value == ""
    return kind not in ("object", "array")


def _validate_object(schema: dict[str, Any], value: Any, param: str) -> dict[str, Any]:
    if value == "":
        name = param or "params"
        raise param_error(
            "parameter_invalid_empty",
            param,
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to unset a "
            f"parameter; however '{name}' cannot be unset. You should remove '{name}' from your request or "
            "supply a non-empty value.",
        )
    if not isinstance(value, dict):
        raise param_error(CODE_INVALID_STRING, param, f"Invalid hash: {_show(value)}")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    result: dict[str, Any] = {}
    for key, sub in value.items():
        sub_param = f"{param}[{key}]" if param else key
        if key in props:
            result[key] = validate(props[key], sub, sub_param)
        elif isinstance(extra, dict):
            result[key] = validate(extra, sub, sub_param)
        else:
            # Why: nested hashes in Stripe's spec omit additionalProperties, yet the API rejects unknown
            # nested keys (address[foo]) just like top-level ones.
            raise param_error("parameter_unknown", sub_param, f"Received unknown parameter: {sub_param}")
    for key in schema.get("required", []):
        if key not in value:
            sub_param = f"{param}[{key}]" if param else key
            raise param_error("parameter_missing", sub_param, f"Missing required param: {sub_param}.")
    return result


def _validate_array(schema: dict[str, Any], value: Any, param: str) -> list[Any]:
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        items = [value[k] for k in sorted(value, key=int)]
    elif isinstance(value, list):
        items = value
    else:
        raise param_error("parameter_invalid_array", param, f"Invalid array: {_show(value)}")
    item_schema = schema.get("items", {})
    return [validate(item_schema, item, f"{param}[{i}]") for i, item in enumerate(items)]


def _validate_string(schema: dict[str, Any], value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise param_error(CODE_INVALID_STRING, param, f"Invalid string: {_show(value)}")
    enum = schema.get("enum")
    if enum is not None and value not in enum and not schema.get("x-stripeBypassValidation"):
        choices = ", ".join(repr(e) for e in enum)
        raise param_error(CODE_INVALID_STRING, param, f"Invalid {param}: must be one of {choices}")
    limit = schema.get("maxLength")
    if limit is not None and len(value) > limit:
        message = f"Invalid string: {_abbreviate(value)}; must be at most {limit} characters"
        raise param_error(CODE_STRING_LENGTH, param, message)
    return value


def _check_email(email: Any) -> None:
    # "" unsets the email, so only non-empty values are checked.
    if isinstance(email, str) and email and not _EMAIL.match(email):
        raise param_error("email_invalid", "email", f"Invalid email address: {email}")


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        return
    if len(metadata) > METADATA_MAX_KEYS:
        raise param_error(
            CODE_INVALID_METADATA,
            "metadata",
            f"You can have up to {METADATA_MAX_KEYS} metadata keys, but you passed in {len(metadata)}.",
        )
    for key, value in metadata.items():
        check_metadata_entry(key, value)


def check_metadata_entry(key: str, value: Any) -> None:
    """Stripe's documented per-entry metadata limits (key length, no brackets, value length)."""
    if "[" in key or "]" in key:
        raise param_error(
            CODE_INVALID_METADATA, "metadata", f"Metadata keys cannot contain '[' or ']'. Invalid key: {key}"
        )
    if len(key) > METADATA_KEY_MAX:
        raise param_error(
            CODE_INVALID_METADATA,
            "metadata",
            f"Metadata keys can have up to {METADATA_KEY_MAX} characters, but you passed in a key that is "
            f"{len(key)} characters. Invalid key: {key}",
        )
    if isinstance(value, str) and len(value) > METADATA_VALUE_MAX:
        raise param_error(
            CODE_INVALID_METADATA,
            f"metadata[{key}]",
            f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but you passed in a value that "
            f"is {len(value)} characters. Invalid value: {_abbreviate(value)}",
        )


def _abbreviate(value: str) -> str:
    # Stripe echoes long strings as their first and last ten characters.
    return value if len(value) <= 20 else f"{value[:10]}...{value[-10:]}"


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)[:100]
