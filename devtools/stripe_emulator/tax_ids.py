"""Customer tax IDs: Stripe's documented value formats and the tax ID objects under each customer.

Stripe, https://docs.stripe.com/billing/customer/tax-ids ("Supported tax ID types"): each type has a
documented format, shown by an example (``eu_vat`` per member state: ``ATU12345678``, ``DE123456789``,
``FRAB123456789``, ...; ``gb_vat`` ``GB123456789``; ``ch_vat`` ``CHE-123.456.789 MWST``). A value that does
not have its type's format is refused with HTTP 400, code ``tax_id_invalid``, "Invalid value for <type>."
(on ``POST /v1/customers`` with param ``tax_id_data[i][value]``, on ``POST /v1/customers/{id}/tax_ids``
with param ``value``), and the customer is then not created. Types without a format here accept any
non-empty value (not modelled). Tax IDs are immutable: create, retrieve, list and delete, never update
(https://docs.stripe.com/api/tax_ids).
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from typing import Any

from devtools.stripe_emulator.store import Check, CustomerStore
from devtools.stripe_emulator.validation import ApiError, param_error
from shared.stripe.tax_ids import tax_id_types

# eu_vat formats by VAT prefix, after the examples of Stripe's table (digit counts as the member states use).
_EU_VAT = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-Z]{1,2}|\d[A-Z+*]\d{5}[A-Z]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"\d{2,10}",
    "SE": r"\d{12}",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
FORMATS: dict[str, re.Pattern[str]] = {
    "eu_vat": re.compile("^(?:" + "|".join(f"{p}(?:{f})" for p, f in _EU_VAT.items()) + ")$"),
    "gb_vat": re.compile(r"^GB(?:\d{9}|\d{12}|GD\d{3}|HA\d{3})$"),
    "ch_vat": re.compile(r"^CHE-\d{3}\.\d{3}\.\d{3} (?:MWST|TVA|IVA)$"),
    "no_vat": re.compile(r"^\d{9}MVA$"),
    "us_ein": re.compile(r"^\d{2}-\d{7}$"),
    "au_abn": re.compile(r"^\d{11}$"),
    "ca_bn": re.compile(r"^\d{9}$"),
}
_ID_CHARS = string.ascii_letters + string.digits


def check_tax_id(tax_type: Any, value: Any, within: str = "") -> None:
    """Refuse an unknown type or a value without its type's documented format, as Stripe does.

    ``within`` names the enclosing param (``tax_id_data[0]``) so the error names ``tax_id_data[0][value]``.
    """

    def param(name: str) -> str:
        return f"{within}[{name}]" if within else name

    if tax_type not in tax_id_types():
        choices = ", ".join(sorted(tax_id_types()))
        raise param_error(
            "parameter_invalid_string", param("type"), f"Invalid {param('type')}: must be one of {choices}"
        )
    pattern = FORMATS.get(str(tax_type))
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)):
        raise ApiError(400, f"Invalid value for {tax_type}.", code="tax_id_invalid", param=param("value"))


def _country(tax_type: str, value: str) -> str | None:
    if tax_type == "eu_vat":
        return "GR" if value.startswith("EL") else value[:2]
    return tax_type.split("_", 1)[0].upper()


def tax_id_missing(tax_id: str) -> ApiError:
    """The 404 Stripe answers for an unknown (or already deleted) tax ID."""
    return ApiError(404, f"No such tax id: '{tax_id}'", code="resource_missing", param="id")


class TaxIdStore:
    """Tax ID objects by customer, oldest first (Stripe lists them newest first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_customer: dict[str, dict[str, dict[str, Any]]] = {}

    def reset(self) -> None:
        with self._lock:
            self._by_customer.clear()

    def create(self, customer_id: str, tax_type: str, value: str) -> dict[str, Any]:
        """A new tax ID object (the params must already have passed :func:`check_tax_id`)."""
        tax_id = "txi_" + "".join(secrets.choice(_ID_CHARS) for _ in range(14))
        obj = {
            "id": tax_id,
            "object": "tax_id",
            "country": _country(tax_type, value),
            "created": int(time.time()),
            "customer": customer_id,
            "livemode": False,
            "type": tax_type,
            "value": value,
            "verification": {"status": "pending", "verified_address": None, "verified_name": None},
        }
        with self._lock:
            self._by_customer.setdefault(customer_id, {})[tax_id] = obj
        return dict(obj)

    def retrieve(self, customer_id: str, tax_id: str) -> dict[str, Any]:
        with self._lock:
            obj = self._by_customer.get(customer_id, {}).get(tax_id)
        if obj is None:
            raise tax_id_missing(tax_id)
        return dict(obj)

    def delete(self, customer_id: str, tax_id: str) -> dict[str, Any]:
        with self._lock:
            obj = self._by_customer.get(customer_id, {}).pop(tax_id, None)
        if obj is None:
            raise tax_id_missing(tax_id)
        return {"id": tax_id, "object": "tax_id", "deleted": True}

    def list_page(self, customer_id: str, limit: int = 10, starting_after: str | None = None) -> dict[str, Any]:
        """``GET /v1/customers/{id}/tax_ids``: newest first, cursor pagination."""
        with self._lock:
            rows = [dict(obj) for obj in self._by_customer.get(customer_id, {}).values()][::-1]
        if starting_after is not None:
            ids = [row["id"] for row in rows]
            if starting_after not in ids:
                raise tax_id_missing(starting_after)
            rows = rows[ids.index(starting_after) + 1 :]
        url = f"/v1/customers/{customer_id}/tax_ids"
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}

    def of(self, customer_id: str) -> list[dict[str, Any]]:
        """The customer's tax IDs, oldest first (for tests)."""
        with self._lock:
            return [dict(obj) for obj in self._by_customer.get(customer_id, {}).values()]


def create_customer(
    customers: CustomerStore, tax_ids: TaxIdStore, params: dict[str, Any], check: Check | None = None
) -> dict[str, Any]:
    """``POST /v1/customers``; ``tax_id_data`` entries are checked first (a bad one creates nothing), then
    ``check`` (Stripe Tax's location validation) on the customer the params describe."""
    tax_data = params.get("tax_id_data") or []
    for index, item in enumerate(tax_data):
        check_tax_id(item.get("type"), item.get("value"), f"tax_id_data[{index}]")
    customer = customers.create({k: v for k, v in params.items() if k != "tax_id_data"}, check)
    for item in tax_data:
        tax_ids.create(customer["id"], item["type"], item["value"])
    return customer


def tax_id_operation(
    customers: CustomerStore, tax_ids: TaxIdStore, action: str, customer_id: str, tax_id: str, params: dict[str, Any]
) -> dict[str, Any]:
    """One ``/v1/customers/{id}/tax_ids`` call: ``action`` is create, list, retrieve or delete."""
    # Tax IDs of an unknown or deleted customer: Stripe answers "No such customer".
    if customers.retrieve(customer_id).get("deleted"):
        raise ApiError(404, f"No such customer: '{customer_id}'", code="resource_missing", param="customer")
    if action == "create":
        check_tax_id(params["type"], params["value"])
        return tax_ids.create(customer_id, params["type"], params["value"])
    if action == "list":
        limit = params.get("limit", 10)
        if not 1 <= limit <= 100:
            raise param_error(
                "parameter_invalid_integer", "limit", f"Invalid limit: must be between 1 and 100, got {limit}"
            )
        return tax_ids.list_page(customer_id, limit, params.get("starting_after"))
    if action == "retrieve":
        return tax_ids.retrieve(customer_id, tax_id)
    return tax_ids.delete(customer_id, tax_id)
