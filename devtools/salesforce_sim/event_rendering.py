"""The two JSON renderings Salesforce documents for change events and platform events.

- ``streaming`` — the Streaming API (CometD) rendering: ISO-8601 datetimes, field *names* in
  ``changedFields`` / ``nulledFields`` / ``diffFields``, and on UPDATE only the changed fields in the body.
- ``pubsub`` — the Pub/Sub API (Avro) rendering as JSON: datetimes as epoch milliseconds, dates as days
  since the epoch, ``changedFields`` / ``nulledFields`` / ``diffFields`` as hex bitmaps over the event's
  schema (``"0x1C"`` for top-level fields; ``"3-0x04"`` for the fields inside compound field 3), and every
  field of the schema present, unchanged ones null (Change Data Capture Developer Guide, "Event
  Deserialization Considerations" and "Change Event Header Fields"; Pub/Sub API, "Bitmap Fields").

Which one Event Relay puts on EventBridge is not documented; public Event Relay payloads show epoch dates.
``EventRelay.rendering`` picks one, so every consumer test can run against both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

STREAMING = "streaming"
PUBSUB = "pubsub"
RENDERINGS = (STREAMING, PUBSUB)
_EPOCH = date(1970, 1, 1)


def epoch_value(value: Any) -> Any:
    """A Streaming-rendered value as the Pub/Sub rendering carries it (datetimes, dates; nested too)."""
    if isinstance(value, Mapping):
        return {key: epoch_value(item) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return (date.fromisoformat(value) - _EPOCH).days
        except ValueError:
            return value
    if "T" in value and value.endswith("Z"):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return int(moment.astimezone(UTC).timestamp() * 1000)
    return value


def bitmap(positions: Iterable[int]) -> str:
    """``"0x…"``: bit ``n`` set for each position ``n``."""
    bits = 0
    for position in positions:
        bits |= 1 << position
    return f"0x{bits:X}"


def pubsub_change_payload(
    payload: Mapping[str, Any], schema: list[str], parts: Mapping[str, list[str]]
) -> dict[str, Any]:
    """The Pub/Sub rendering of a Streaming-rendered change event payload.

    ``schema``: the top-level body fields in schema order (compound fields by their compound name, e.g.
    ``BillingAddress``); ``parts``: each compound field's parts in order (``Street``, ``City``…).
    """
    header = dict(payload["ChangeEventHeader"])
    body: dict[str, Any] = {}
    for name in schema:
        value = payload.get(name)
        if name in parts:
            given = value if isinstance(value, Mapping) else {}
            body[name] = {part: epoch_value(given.get(part)) for part in parts[name]} if given else None
        else:
            body[name] = epoch_value(value)
    for key in ("changedFields", "nulledFields", "diffFields"):
        header[key] = _field_bitmaps(header.get(key) or [], schema, parts)
    return {"ChangeEventHeader": header, **body}


def _field_bitmaps(names: list[str], schema: list[str], parts: Mapping[str, list[str]]) -> list[str]:
    if not names:
        return []
    top: set[int] = set()
    nested: dict[int, set[int]] = {}
    for name in names:
        compound, _, part = name.partition(".")
        if compound not in schema:
            continue
        index = schema.index(compound)
        top.add(index)
        if part and part in parts.get(compound, []):
            nested.setdefault(index, set()).add(parts[compound].index(part))
    return [bitmap(top), *(f"{index}-{bitmap(bits)}" for index, bits in sorted(nested.items()))]
