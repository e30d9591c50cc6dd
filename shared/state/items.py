"""DynamoDB attribute values ↔ plain Python values (strings, ints, booleans, lists, maps)."""

from __future__ import annotations

from typing import Any


def to_attr(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value (scalars other than booleans are stored as strings)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, dict):
        return {"M": to_attr_map(value)}
    if isinstance(value, list):
        return {"L": [to_attr(v) for v in value]}
    return {"S": str(value)}


def to_attr_map(value: dict[str, Any]) -> dict[str, Any]:
    """A dict as a DynamoDB map (``{"M": ...}`` content)."""
    return {k: to_attr(v) for k, v in value.items()}


def from_attr(attr: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as a Python value (numbers as int)."""
    ((kind, value),) = attr.items()
    if kind == "M":
        return {k: from_attr(v) for k, v in value.items()}
    if kind == "L":
        return [from_attr(v) for v in value]
    if kind == "N":
        return int(value)
    if kind == "BOOL":
        return bool(value)
    return value
