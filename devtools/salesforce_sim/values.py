"""Field value coercion (what the API accepts per type) and wire formatting (REST JSON, SOAP XML)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from . import ids
from .errors import SalesforceError
from .schema import TEXT_TYPES, FieldDef


def parse_datetime(value: str) -> datetime | None:
    """ISO 8601 (`Z`, `+0000`, `+00:00`, with or without ms) → aware UTC datetime, ms resolution."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if "T" not in value:
        return None
    return truncate_ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def truncate_ms(value: datetime) -> datetime:
    """Salesforce keeps milliseconds only."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def _deserialize_error(kind: str, value: object) -> SalesforceError:
    # Real orgs answer a badly typed JSON value with the Jackson-style JSON_PARSER_ERROR.
    return SalesforceError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} "
        "or request may be missing a required field",
    )


def _coerce_text(fdef: FieldDef, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _deserialize_error("string", value)
    text = value if isinstance(value, str) else str(value)
    if fdef.length is not None and len(text) > fdef.length:
        raise SalesforceError(
            400,
            "STRING_TOO_LONG",
            f"{fdef.name}: data value too large: {text[:40]}... (max length={fdef.length})",
            [fdef.name],
        )
    return text


def _coerce_reference(fdef: FieldDef, value: object, target_prefix: str) -> str:
    canonical = ids.canonical(value)
    label = fdef.relationship_name or fdef.name
    if canonical is None:
        raise SalesforceError(400, "MALFORMED_ID", f"{label} ID: id value of incorrect type: {value}", [fdef.name])
    if canonical[:3] != target_prefix:
        # A real id of another object: Salesforce answers FIELD_INTEGRITY_EXCEPTION, not MALFORMED_ID.
        raise SalesforceError(
            400, "FIELD_INTEGRITY_EXCEPTION", f"{label} ID: id value of incorrect type: {value}", [fdef.name]
        )
    return canonical


def coerce(fdef: FieldDef, value: object, target_prefix: str = "") -> object:
    """Convert an API/Python value to the stored value for `fdef`; SalesforceError when invalid."""
    if value is None or (value == "" and fdef.type not in TEXT_TYPES):
        return False if fdef.type == "boolean" else None
    kind = fdef.type
    if kind in TEXT_TYPES:
        return _coerce_text(fdef, value) or None
    if kind == "boolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise _deserialize_error("boolean", value)
        return value
    if kind == "datetime":
        if isinstance(value, datetime):
            return truncate_ms(value)
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _deserialize_error("datetime", value)
        return parsed
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        parsed_date = parse_date(value) if isinstance(value, str) else None
        if parsed_date is None:
            raise _deserialize_error("date", value)
        return parsed_date
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _deserialize_error("double", value)
        try:
            return float(value)
        except ValueError:
            raise _deserialize_error("double", value) from None
    if kind == "reference":
        return _coerce_reference(fdef, value, target_prefix)
    raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {fdef.name}")


def rest_value(value: object) -> object:
    """JSON value as the REST API renders it (datetimes `2026-09-08T23:40:33.000+0000`)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value


def soap_value(value: object) -> str:
    """Text as the SOAP enterprise API renders it (datetimes `…000Z`, booleans `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)
