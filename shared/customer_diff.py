"""Which Stripe update params turn the last applied customer fields into the newly mapped ones.

Both sides are *flat* dot-paths (``address.city`` → ``"Berlin"``), as produced by the mapping module.
Only changed fields are sent; a field that became empty is cleared with ``""`` (Stripe's way to unset).
``address`` and ``shipping`` are sent whole when any part changed, so the result does not depend on whether
Stripe merges or replaces a partial sub-object; ``shipping`` needs its name and address together anyway.
``metadata`` keys are merged by Stripe, so changed keys are sent one by one and removed keys as ``""``.
"""

from __future__ import annotations

from typing import Any

# Sub-objects that are always sent whole (or cleared whole with "").
WHOLE_OBJECTS = ("address", "shipping")


def flatten(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested Stripe params → dot-paths (only string leaves; used for a customer read back from Stripe)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{path}."))
        elif isinstance(value, str) and value != "":
            flat[path] = value
    return flat


def nest(flat: dict[str, str]) -> dict[str, Any]:
    """Dot-paths → nested params (the inverse of ``flatten``)."""
    nested: dict[str, Any] = {}
    for path in sorted(flat):
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = flat[path]
    return nested


def update_params(old: dict[str, str], new: dict[str, str]) -> dict[str, Any]:
    """The minimal Stripe update that turns ``old`` into ``new``; empty when nothing changed."""
    changed = {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}
    params: dict[str, Any] = {}
    for top in sorted({path.split(".", 1)[0] for path in changed}):
        if top in WHOLE_OBJECTS:
            params[top] = _whole_object(top, old, new)
        elif top == "metadata" or any(p.startswith(f"{top}.") for p in changed):
            params[top] = _changed_leaves(top, changed, new)
        else:
            params[top] = new.get(top, "")
    return params


def _whole_object(top: str, old: dict[str, str], new: dict[str, str]) -> Any:
    prefix = f"{top}."
    now = {p[len(prefix) :]: v for p, v in new.items() if p.startswith(prefix)}
    if not now:
        return ""
    before = {p[len(prefix) :] for p in old if p.startswith(prefix)}
    # Sub-fields that were set before and are empty now are cleared explicitly ("" unsets a string).
    cleared = {sub: "" for sub in before - now.keys()}
    return nest({**cleared, **now})


def _changed_leaves(top: str, changed: set[str], new: dict[str, str]) -> dict[str, Any]:
    prefix = f"{top}."
    leaves = {p[len(prefix) :]: new.get(p, "") for p in changed if p.startswith(prefix)}
    return nest(leaves)
