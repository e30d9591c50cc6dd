"""Mapping the list fields (``preferred_locales``, ``invoice_settings.custom_fields``, ``tax_id_data``).

Each list is replaced whole by Stripe (``list_fields``), so a value Stripe can't take leaves the whole list
out with a field warning naming the Salesforce field: on update Stripe keeps the list it has, as for any
left-out field (``field_warnings``). The result is the list's flat, indexed entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.mapping.config import FieldEntry, MappingConfig
from shared.mapping.field_warnings import FieldWarning, left_out
from shared.mapping.list_fields import (
    CUSTOM_FIELDS,
    MAX_CUSTOM_FIELD_VALUE_LENGTH,
    PREFERRED_LOCALES,
    TAX_ID_DATA,
    locale,
)
from shared.mapping.paths import resolve
from shared.mapping.transforms import TRANSFORMS, to_text


class _LeftOut(ValueError):
    """A list field's value Stripe can't take; ``field`` is the Salesforce source that fed it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


def outside_map(entry: FieldEntry) -> str:
    """The problem of a value the entry's value map has no entry for (never the value: it may be personal)."""
    return f"has a value outside the value map (mapped: {', '.join(sorted(entry.values or {}))})"


def map_list_fields(
    config: MappingConfig,
    record: Mapping[str, Any],
    contact_ids: set[str],
    country: str | None,
    warnings: list[FieldWarning],
) -> dict[str, str]:
    """The flat entries of every mapped list field; problems become ``warnings`` (the list is left out)."""
    flat: dict[str, str] = {}
    builders = [
        (PREFERRED_LOCALES, lambda: _locales(config, record, contact_ids)),
        (CUSTOM_FIELDS, lambda: _custom_fields(config, record, contact_ids)),
        (TAX_ID_DATA, lambda: _tax_id(config, record, contact_ids, country)),
    ]
    for path, build in builders:
        try:
            flat.update(build())
        except _LeftOut as exc:
            warnings.append(left_out(exc.field, path, str(exc)))
    return flat


def _source_text(record: Mapping[str, Any], entry: FieldEntry, contact_ids: set[str]) -> tuple[str, str] | None:
    """(source path, first non-empty value as text with the value map applied); None when all are empty."""
    for source in entry.sources:
        for lookup in source.contact_lookups():
            contact_id = to_text(resolve(record, lookup))
            if contact_id:
                contact_ids.add(contact_id)
        try:
            text = to_text(resolve(record, source))
        except ValueError as exc:
            raise _LeftOut(source.text, str(exc)) from exc
        if text:
            mapped = entry.mapped(text)
            if mapped is None:
                raise _LeftOut(source.text, outside_map(entry))
            return source.text, mapped
    return None


def _locales(config: MappingConfig, record: Mapping[str, Any], contact_ids: set[str]) -> dict[str, str]:
    entry = config.fields.get(PREFERRED_LOCALES)
    found = _source_text(record, entry, contact_ids) if entry else None
    if entry is None or found is None:
        return {}
    source, text = found
    codes: list[str] = []
    for part in (part for part in text.split(";") if part.strip()):  # a multi-select picklist: "de;fr"
        try:
            code = locale(part) if entry.values is None else part.strip()
        except ValueError as exc:
            raise _LeftOut(source, str(exc)) from exc
        if code:
            codes.append(code)
    return {f"{PREFERRED_LOCALES}.{i}": code for i, code in enumerate(dict.fromkeys(codes))}


def _custom_fields(config: MappingConfig, record: Mapping[str, Any], contact_ids: set[str]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for custom in config.custom_fields:
        found = _source_text(record, custom, contact_ids)
        if found is None:
            continue  # an empty value: the pair is not sent
        source, value = found
        transform = TRANSFORMS[custom.transform] if custom.transform and custom.values is None else None
        try:
            value = (transform(value) if transform else value) or ""
        except ValueError as exc:
            raise _LeftOut(source, str(exc)) from exc
        if len(value) > MAX_CUSTOM_FIELD_VALUE_LENGTH:
            problem = (
                f"is {len(value)} characters long; Stripe allows at most {MAX_CUSTOM_FIELD_VALUE_LENGTH} in a "
                "custom field value"
            )
            raise _LeftOut(source, problem)
        if value:
            index = len(flat) // 2
            flat.update({f"{CUSTOM_FIELDS}.{index}.name": custom.name, f"{CUSTOM_FIELDS}.{index}.value": value})
    return flat


def _tax_id(
    config: MappingConfig, record: Mapping[str, Any], contact_ids: set[str], country: str | None
) -> dict[str, str]:
    """The mapped tax ID's type and value; the type given, else derived (``shared.stripe.tax_ids``)."""
    entry = config.fields.get(TAX_ID_DATA)
    found = _source_text(record, entry, contact_ids) if entry else None
    if entry is None or found is None:
        return {}
    source, value = found
    from shared.stripe.tax_ids import derive_tax_id_type  # the SDK only when a tax ID is mapped

    tax_type = entry.type or derive_tax_id_type(value, country)
    if tax_type is None:
        raise _LeftOut(source, "its tax ID type can't be told from the value or the billing country; set 'type'")
    if tax_type.endswith("_vat") and tax_type != "ch_vat":
        # VAT numbers are often typed with spaces or dots ("DE 123 456 789"); Stripe wants them without.
        value = "".join(ch for ch in value if ch.isalnum()).upper()
    return {f"{TAX_ID_DATA}.0.type": tax_type, f"{TAX_ID_DATA}.0.value": value}
