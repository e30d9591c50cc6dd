"""docs/reference/environment.md: every environment variable the functions read, from the settings models.

Each row comes from a pydantic field of ``shared/settings.py``: its alias (the variable), default and
``description``. A field without a description is an error, so a variable can't be added undocumented.
The template's own values (``template.yaml``: Globals and each function's ``Environment``) are listed beside.
"""

from __future__ import annotations

import inspect
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from devtools.docs.markdown import code, header, table
from devtools.sam.template_tables import load_template
from shared import settings

# Which function reads each settings model (a subclass reads its parents' variables too).
READERS: dict[type[BaseModel], str] = {
    settings.CommonSettings: "all",
    settings.ReceiverSettings: "outbound_message",
    settings.PlatformEventSettings: "platform_event",
    settings.WorkerSettings: "sync_worker, reconcile, `sfsync`",
    settings.ReconcileSettings: "reconcile",
}
# Read by Powertools itself, not by our settings: documented here, set in the template's Globals.
POWERTOOLS = {
    "POWERTOOLS_SERVICE_NAME": "The service name on every log line and metric (Powertools).",
    "POWERTOOLS_METRICS_NAMESPACE": "The CloudWatch namespace of the functions' metrics (Powertools).",
    "POWERTOOLS_LOG_LEVEL": "The log level (Powertools).",
    "POWERTOOLS_TRACE_DISABLED": "`true` switches the Powertools Tracer off (the `Tracing` parameter).",
}


class UndocumentedSetting(ValueError):
    """A settings field has no ``description=``: the docs can't say what its variable does."""


def variables() -> list[tuple[str, str, str, str]]:
    """``(variable, read by, default, meaning)`` for every settings field, in declaration order."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    for model, reader in READERS.items():
        own = {name: f for name, f in model.model_fields.items() if _declared_in(model, name)}
        for name, field in own.items():
            if not field.description:
                raise UndocumentedSetting(f"{model.__name__}.{name} ({field.alias}) has no description=")
            variable = field.alias or name.upper()
            if variable in rows:  # declared again by a subclass (e.g. SYNC_DLQ_URL): both read it
                previous = rows[variable]
                rows[variable] = (variable, f"{previous[1]}; {reader}", previous[2], previous[3])
                continue
            rows[variable] = (variable, reader, _default(field.default, field.is_required()), field.description)
    return list(rows.values())


def _declared_in(model: type[BaseModel], name: str) -> bool:
    """True when ``model`` itself declares the field (not only inherits it)."""
    return name in inspect.get_annotations(model)


def _default(value: Any, required: bool) -> str:
    if required or value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    return code(getattr(value, "value", value))


def _template_value(value: Any) -> str:
    """A template environment value in words: a parameter, a resource or an expression."""
    if isinstance(value, dict) and "Ref" in value:
        return f"`{value['Ref']}`"
    if isinstance(value, dict):
        refs = sorted(set(_refs(value)))
        return "from " + ", ".join(f"`{ref}`" for ref in refs) if refs else "an expression"
    return code(value)


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["Ref"]] if "Ref" in value and isinstance(value["Ref"], str) else []
        return found + [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def template_rows() -> list[tuple[str, str, str]]:
    """``(function, variable, value)`` the template sets: Globals (every function), then each function."""
    template = load_template()
    rows = [
        ("every function", name, _template_value(value))
        for name, value in template["Globals"]["Function"]["Environment"]["Variables"].items()
    ]
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        env = resource["Properties"].get("Environment", {}).get("Variables", {})
        rows += [(logical_id, name, _template_value(value)) for name, value in env.items()]
    return rows


def page() -> str:
    """The whole page."""
    settings_rows = variables()
    known = {row[0] for row in settings_rows}
    powertools = [(name, "all", "set by the template", meaning) for name, meaning in POWERTOOLS.items()]
    unknown = [name for _, name, _ in template_rows() if name not in known and name not in POWERTOOLS]
    if unknown:
        raise UndocumentedSetting(f"template.yaml sets variables no settings model reads: {', '.join(unknown)}")
    return "\n".join(
        [
            header(
                "Environment variables",
                "the settings models in `shared/settings.py` (field descriptions) and `template.yaml`",
                "Every variable the functions read, validated once at cold start: a missing or malformed value "
                "fails with the variable's name (`invalid environment for WorkerSettings: …`). Deployed, the "
                "template sets them from its [parameters](template.md); locally `make run` / `make serve` set "
                "them, and `sfsync` reads a stack's own (`--stack`, `--stack-name`) or these variables.",
            ),
            table(["variable", "read by", "default", "meaning"], [(f"`{r[0]}`", *r[1:]) for r in settings_rows]),
            "",
            "Read by Powertools:",
            "",
            table(["variable", "read by", "default", "meaning"], [(f"`{r[0]}`", *r[1:]) for r in powertools]),
            "",
            "## What the template sets",
            "",
            "Each function's variables in `template.yaml` and where their values come from (a parameter, or a "
            "resource of the stack). A variable not listed here keeps its default when deployed.",
            "",
            table(["function", "variable", "value"], [(f, f"`{v}`", val) for f, v, val in template_rows()]),
            "",
        ]
    )
