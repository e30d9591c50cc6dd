"""Which Stripe update params turn the last applied customer fields into the newly mapped ones.

Both sides are *flat* dot-paths (``address.city`` → ``"Berlin"``), as produced by the mapping module.
Only changed fields are sent; a field that became empty is cleared with ``""`` (Stripe's way to unset).
``address`` and ``shipping`` are sent whole when any part changed, so the result does not depend on whether
Stripe merges or replaces a partial sub-object; ``shipping`` needs its name and address together anyway.
``metadata`` keys are merged by Stripe, so changed keys are sent one by one and removed keys as ``""``.
List fields (``preferred_locales``, ``invoice_settings.custom_fields``; flat as indexed paths) are replaced
whole by Stripe, so they are sent whole when any item changed; ``tax_id_data`` is create-only and never part
of an update (tax IDs are objects of their own: ``shared.sync.tax_id_sync``).
"""

from __future__ import annotations

from typing import Any

from shared.mapping.list_fields import CLEARABLE, TAX_ID_DATA, items_of, list_path_of, listify
from shared.mapping.mapper import nest

# Sub-objects that are always sent whole (or cleared whole with "").
WHOLE_OBJECTS = ("address", "shipping")


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested Stripe params → dot-paths (only string leaves; used for a customer read back from Stripe)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            # Metadata keys may contain dots: they are leaves, never nested further.
            flat.update(flatten(value, f"{path}.") if key != "metadata" or prefix else _metadata_leaves(value))
        elif isinstance(value, list):
            flat.update(flatten({str(index): item for index, item in enumerate(value)}, f"{path}."))
        elif isinstance(value, str) and value != "":
            flat[path] = value
    return flat


def _metadata_leaves(metadata: dict[str, Any]) -> dict[str, str]:
    return {f"metadata.{key}": value for key, value in metadata.items() if isinstance(value, str) and value != ""}


def mapped_subset(baseline: dict[str, str], mapped: dict[str, str]) -> dict[str, str]:
    """The part of a customer read back from Stripe (flattened) that the mapping owns.

    Fields the mapping does not produce (e.g. metadata keys set by other tools) are left alone; address and
    shipping are owned whole once any of their parts is mapped, because they are always sent whole.
    """
    owned_objects = {path.split(".", 1)[0] for path in mapped} & set(WHOLE_OBJECTS)
    return {path: value for path, value in baseline.items() if path in mapped or path.split(".", 1)[0] in owned_objects}


def update_params(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """The minimal Stripe update that turns ``old`` into ``new``; empty when nothing changed."""
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    lists: dict[str, Any] = {}
    for top in sorted({t for t in map(list_path_of, changed) if t and t != TAX_ID_DATA}):
        now = items_of(new, top)
        if now or top in CLEARABLE:
            # Merged with the other params at the end (invoice_settings holds custom_fields beside footer).
            lists = _merge(lists, listify(nest(now)) if now else nest({top: ""}))
    params: dict[str, Any] = {}
    changed = {path for path in changed if list_path_of(path) is None}
    for top in sorted({path.split(".", 1)[0] for path in changed}):
        if top in WHOLE_OBJECTS:
            params[top] = _whole_object(top, old, new)
        elif top == "metadata" or any(p.startswith(f"{top}.") for p in changed):
            params[top] = _changed_leaves(top, changed, new)
        else:
            params[top] = new.get(top, "")
    return _merge(params, lists)


def _merge(params: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    merged = dict(params)
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _whole_object(top: str, old: dict[str, str], new: dict[str, str]) -> Any:
    prefix = f"{top}."
    now = {p: v for p, v in new.items() if p.startswith(prefix)}
    if not now:
        return ""
    before = {p for p in old if p.startswith(prefix)}
    # Sub-fields that were set before and are empty now are cleared explicitly ("" unsets a string).
    cleared = {path: "" for path in before - now.keys()}
    return dict(nest({**cleared, **now})[top])


def _changed_leaves(top: str, changed: set[str], new: dict[str, str]) -> dict[str, Any]:
    prefix = f"{top}."
    leaves = {p: new.get(p, "") for p in changed if p.startswith(prefix)}
    return dict(nest(leaves)[top])
