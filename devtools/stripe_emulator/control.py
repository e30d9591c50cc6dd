"""``/_emulator/*``: the Python API's powers for other processes (unauthenticated: loopback only)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from devtools.stripe_emulator.keys import LIVE, TEST

if TYPE_CHECKING:
    from devtools.stripe_emulator.server import StripeEmulator


def control(emu: StripeEmulator, method: str, path: str, query: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """Run one control request; returns (HTTP status, JSON body)."""
    flags = {k: v.lower() in ("1", "true", "yes") for k, v in parse_qsl(query)}
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError("JSON body must be an object")
        result = _action(emu, method, path, flags, payload)
    except (ValueError, TypeError) as exc:
        return 400, {"error": {"type": "invalid_request_error", "message": str(exc)}}
    if result is None:
        message = f"Unknown emulator endpoint ({method}: {path})"
        return 404, {"error": {"type": "invalid_request_error", "message": message}}
    return 200, result


def _action(
    emu: StripeEmulator, method: str, path: str, flags: dict[str, bool], payload: dict[str, Any]
) -> dict[str, Any] | None:
    endpoint = (method, path.rstrip("/"))
    if endpoint == ("GET", "/_emulator/requests"):
        return {"data": emu.write_requests() if flags.get("writes") else emu.requests}
    if endpoint == ("GET", "/_emulator/customers"):
        mode = LIVE if flags.get("live") else TEST
        return {"data": emu.customers(include_deleted=flags.get("include_deleted", False), mode=mode)}
    if endpoint == ("GET", "/_emulator/stats"):
        return {
            "max_concurrent_writes_per_customer": emu.max_concurrent_writes_per_customer,
            "latency": emu.latency,
            "timeout_seconds": emu.timeout_seconds,
            "clock_offset_seconds": emu.clock.offset,
            "search_lag_seconds": emu.search_lag_seconds,
        }
    if endpoint == ("POST", "/_emulator/reset"):
        emu.reset()
    elif endpoint == ("POST", "/_emulator/faults"):
        emu.timeout_seconds = float(payload.get("timeout_seconds", emu.timeout_seconds))
        emu._faults.add_spec(payload)
    elif endpoint == ("DELETE", "/_emulator/faults"):
        emu.clear_faults()
    elif endpoint == ("POST", "/_emulator/keys"):
        emu.add_key(str(payload.get("key") or ""), payload.get("permissions"))
    elif endpoint == ("POST", "/_emulator/keys/roll"):
        emu.roll_key(str(payload.get("key") or ""), str(payload.get("new_key") or ""),
                     expires_in_seconds=float(payload.get("expires_in_seconds", 0.0)))  # fmt: skip
    elif endpoint == ("POST", "/_emulator/keys/expire"):
        emu.expire_key(str(payload.get("key") or ""))
    elif endpoint == ("POST", "/_emulator/latency"):
        emu.latency = float(payload.get("seconds", 0.0))
    elif endpoint == ("POST", "/_emulator/clock"):
        emu.advance_clock(float(payload.get("advance_seconds", 0.0)))
    elif endpoint == ("POST", "/_emulator/search_lag"):
        emu.search_lag_seconds = float(payload.get("seconds", 0.0))
    else:
        return None
    return {"ok": True}
