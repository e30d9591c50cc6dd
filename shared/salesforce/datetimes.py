"""Salesforce datetimes (REST ``…+0000``, SOAP ``…Z``, CDC epoch ms) as epoch milliseconds."""

from __future__ import annotations

from datetime import datetime


def parse_salesforce_datetime(value: str) -> int:
    """``2026-09-08T23:40:33.000+0000`` or ``2026-09-08T23:40:33.000Z`` → epoch milliseconds."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    return int(datetime.fromisoformat(text).timestamp() * 1000)
