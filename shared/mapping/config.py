"""The mapping config file: its pydantic model, loading (preset or file) and validation.

Format (JSON, reviewed like code)::

    {"comment": "...",                              # optional, free text for reviewers
     "fields": {"<stripe dot-path>": "<Salesforce path>"
                                   | ["<path>", "<fallback path>", ...]
                                   | {"from": <path or list>, "transform": "<name>"}},
     "defaults": {"<stripe dot-path>": "<static value>"}}

Every problem is reported as a MappingConfigError naming the entry, e.g.
`fields['address.lin1']: unknown Stripe customer field`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from shared.mapping.paths import SalesforcePath, parse_path
from shared.mapping.rules import clean
from shared.mapping.stripe_paths import (
    ACCOUNT_ID_METADATA_KEY,
    ACCOUNT_ID_PATH,
    MAX_METADATA_KEYS,
    METADATA_PREFIX,
    stripe_field,
)
from shared.mapping.transforms import TRANSFORMS

PACKAGE = "shared.mapping"
PRESETS = ("default", "standard", "standard_picklists")


class MappingConfigError(ValueError):
    """The mapping config is invalid; the message names the offending entry."""


def _check_stripe_path(path: str) -> str:
    if path == ACCOUNT_ID_PATH:
        raise ValueError("reserved: always set to the account Id")
    stripe_field(path)
    return path


StripePath = Annotated[str, AfterValidator(_check_stripe_path)]
SourcePath = Annotated[SalesforcePath, PlainValidator(parse_path)]


class FieldEntry(BaseModel):
    """One `fields` entry: ordered fallback sources (first non-empty wins) and an optional transform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[SourcePath, ...] = Field(alias="from")
    transform: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        # "Path" and ["Path", ...] are shorthands for {"from": [...]}.
        if isinstance(data, str | list):
            data = {"from": data}
        if not isinstance(data, dict):
            raise ValueError('must be a path, a list of paths or {"from": ..., "transform": ...}')
        if isinstance(data.get("from"), str):
            data = {**data, "from": [data["from"]]}
        if data.get("from") == []:
            raise ValueError("empty fallback list: give at least one Salesforce field path")
        return data

    @field_validator("transform")
    @classmethod
    def _known_transform(cls, name: str | None) -> str | None:
        if name is not None and name not in TRANSFORMS:
            raise ValueError(f"unknown transform {name!r} (known: {', '.join(sorted(TRANSFORMS))})")
        return name


class MappingConfig(BaseModel):
    """A whole, validated mapping config; `defaults` hold values already cleaned by Stripe's rules."""

    model_config = ConfigDict(extra="forbid")

    comment: StrictStr | None = None
    fields: dict[StripePath, FieldEntry] = Field(default_factory=dict)
    defaults: dict[StripePath, StrictStr] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_across_entries(self) -> MappingConfig:
        errors = [*_metadata_errors(self), *_shipping_errors(self)]
        cleaned = {}
        for path, value in self.defaults.items():
            try:
                result = clean(stripe_field(path), value)
            except ValueError as exc:
                errors.append(f"defaults[{path!r}]: {exc}")
                continue
            if result.note:
                # A value written into the config is fixed there, not adjusted on every sync.
                errors.append(f"defaults[{path!r}]: {result.note.removesuffix(': cut to fit')}")
            cleaned[path] = result.value
        if errors:
            raise ValueError("; ".join(errors))
        self.defaults = cleaned
        return self


def _metadata_errors(config: MappingConfig) -> list[str]:
    keys = {path for path in [*config.fields, *config.defaults] if path.startswith(METADATA_PREFIX)}
    count = len(keys) + 1  # + the always-added account id
    if count <= MAX_METADATA_KEYS:
        return []
    return [
        f"metadata: {count} keys (including the always-added {ACCOUNT_ID_METADATA_KEY}); "
        f"Stripe allows at most {MAX_METADATA_KEYS}"
    ]


def _shipping_errors(config: MappingConfig) -> list[str]:
    entries = [("fields", path) for path in config.fields] + [("defaults", path) for path in config.defaults]
    shipping = [(where, path) for where, path in entries if path.startswith("shipping.")]
    if not shipping or any(path.startswith("shipping.address.") for _, path in shipping):
        return []
    where, path = shipping[0]
    return [
        f"{where}[{path!r}]: shipping needs at least one shipping.address.* entry "
        "(Stripe requires an address with shipping)"
    ]


def parse_config(data: object) -> MappingConfig:
    """Validate a config dict; MappingConfigError listing every problem found."""
    if not isinstance(data, Mapping):
        raise MappingConfigError("the mapping config must be a JSON object")
    try:
        return MappingConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise MappingConfigError("; ".join(_describe(error) for error in exc.errors())) from exc


def _describe(error: ErrorDetails) -> str:
    """A pydantic error as `<entry>: <problem>`, the entry written as in the JSON file."""
    loc = [part for part in error["loc"] if part != "[key]"]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        key, known = loc.pop(), ", ".join(sorted(MappingConfig.model_fields))
        if loc:
            message = f"unknown key {key!r} (allowed: from, transform)"
        else:
            message = f"unknown top-level key {key!r} (allowed: {known})"
    if not loc:
        return message
    head, *rest = loc
    # Name the entry (fields['email']); the message itself says what inside it is wrong.
    return f"{head}" + "".join(f"[{part!r}]" for part in rest[:1]) + f": {message}"


def load_config(source: str | os.PathLike[str]) -> MappingConfig:
    """Load a preset by name (see PRESETS) or a JSON file by path."""
    return parse_config(_read_json(source))


def _read_json(source: str | os.PathLike[str]) -> Any:
    if isinstance(source, str) and source in PRESETS:
        text = (resources.files(PACKAGE) / "presets" / f"{source}.json").read_text(encoding="utf-8")
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingConfigError(
                f"{os.fspath(source)!r} is neither a preset ({', '.join(PRESETS)}) nor a readable file"
            ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingConfigError(f"{os.fspath(source)}: invalid JSON ({exc.msg}, line {exc.lineno})") from exc
