"""The mapping config file: its pydantic model, loading (preset or file) and validation.

Format (JSON, reviewed like code)::

    {"comment": "...",                              # optional, free text for reviewers
     "fields": {"<stripe dot-path>": "<Salesforce path>"
                                   | ["<path>", "<fallback path>", ...]
                                   | {"from": <path or list>, "transform": "<name>",
                                      "values": {"<Salesforce value>": "<Stripe value>", ...}},
                "tax_id_data": {"from": <path or list>, "type": "<Stripe tax ID type>"},   # type optional
                "preferred_locales": <path or entry>,        # a language (picklist) field
                "invoice_settings.custom_fields": [{"name": "<static name>", "from": ...}, ...]},
     "defaults": {"<stripe dot-path>": "<static value>"}}

A value map (``values``) is checked at load against the Stripe field's allowed values (``tax_exempt``:
exempt, none, reverse); a Salesforce value outside the map is a field warning at sync time.

``defaults["tax.validate_location"]`` (``deferred`` | ``immediately``) is not customer data but Stripe Tax's
per-request flag: it is sent with every create and every update that changes an address
(docs/stripe-tax.md).

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

from shared.mapping.list_fields import (
    CUSTOM_FIELDS,
    LIST_PATHS,
    MAX_CUSTOM_FIELD_NAME_LENGTH,
    MAX_CUSTOM_FIELD_VALUE_LENGTH,
    MAX_CUSTOM_FIELDS,
    PREFERRED_LOCALES,
    TAX_ID_DATA,
    locale,
)
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
    if path in LIST_PATHS:
        return path
    stripe_field(path)
    return path


StripePath = Annotated[str, AfterValidator(_check_stripe_path)]
SourcePath = Annotated[SalesforcePath, PlainValidator(parse_path)]


class FieldEntry(BaseModel):
    """One `fields` entry: ordered fallback sources (first non-empty wins) and an optional transform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: tuple[SourcePath, ...] = Field(alias="from")
    transform: str | None = None
    # Salesforce value (as text: a checkbox is "true"/"false") → Stripe value; matched exactly, then ignoring case.
    values: dict[StrictStr, StrictStr] | None = None
    # The Stripe tax ID type (tax_id_data only); derived from the value's prefix or billing country when absent.
    type: StrictStr | None = None

    def mapped(self, text: str) -> str | None:
        """The value map's Stripe value for ``text``; None when the map has no entry for it."""
        if self.values is None:
            return text
        if text in self.values:
            return self.values[text]
        folded = {key.casefold(): value for key, value in self.values.items()}
        return folded.get(text.casefold())

    @model_validator(mode="before")
    @classmethod
    def _expand_shorthand(cls, data: Any) -> Any:
        # "Path" and ["Path", ...] are shorthands for {"from": [...]}.
        if isinstance(data, str | list):
            data = {"from": data}
        if not isinstance(data, dict):
            raise ValueError('must be a path, a list of paths or {"from": ..., "transform": ..., "values": ...}')
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


class CustomField(FieldEntry):
    """One ``invoice_settings.custom_fields`` pair: a static name and a mapped value."""

    name: StrictStr = Field(min_length=1, max_length=MAX_CUSTOM_FIELD_NAME_LENGTH)


class MappingConfig(BaseModel):
    """A whole, validated mapping config; `defaults` hold values already cleaned by Stripe's rules."""

    model_config = ConfigDict(extra="forbid")

    comment: StrictStr | None = None
    fields: dict[StripePath, FieldEntry] = Field(default_factory=dict)
    defaults: dict[StripePath, StrictStr] = Field(default_factory=dict)
    # fields["invoice_settings.custom_fields"], in order (a list of name/value entries, not a FieldEntry).
    custom_fields: tuple[CustomField, ...] = Field(default=(), max_length=MAX_CUSTOM_FIELDS)

    @model_validator(mode="before")
    @classmethod
    def _split_custom_fields(cls, data: Any) -> Any:
        fields = data.get("fields") if isinstance(data, dict) else None
        if isinstance(fields, dict) and CUSTOM_FIELDS in fields:
            fields = dict(fields)
            entries = fields.pop(CUSTOM_FIELDS)
            if not isinstance(entries, list):
                entries = [entries]  # reported by CustomField's own checks (a name is required)
            data = {**data, "fields": fields, "custom_fields": entries}
        return data

    @model_validator(mode="after")
    def _check_across_entries(self) -> MappingConfig:
        errors = [*_metadata_errors(self), *_shipping_errors(self), *_entry_errors(self)]
        cleaned = {}
        for path, value in self.defaults.items():
            if path in LIST_PATHS:
                errors.append(f"defaults[{path!r}]: a list field takes no default")
                continue
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


def _entry_errors(config: MappingConfig) -> list[str]:
    """Tax ID types and value maps, checked against what Stripe accepts for the field."""
    errors = []
    entries = [*config.fields.items(), *((CUSTOM_FIELDS, entry) for entry in config.custom_fields)]
    for path, entry in entries:
        where = f"fields[{path!r}]"
        if entry.type is not None and path != TAX_ID_DATA:
            errors.append(f"{where}: 'type' applies only to {TAX_ID_DATA}")
        elif entry.type is not None and entry.type not in _tax_id_types():
            errors.append(f"{where}: unknown Stripe tax ID type {entry.type!r}")
        for source, target in (entry.values or {}).items():
            try:
                _check_mapped_value(path, target)
            except ValueError as exc:
                errors.append(f"{where}: value map {source!r} → {target!r}: {exc}")
    names = [entry.name for entry in config.custom_fields]
    if len(set(names)) != len(names):
        errors.append(f"fields[{CUSTOM_FIELDS!r}]: custom field names must be unique")
    return errors


def _tax_id_types() -> frozenset[str]:
    # Imported here: the SDK is heavy and only a mapping with a tax ID type needs it.
    from shared.stripe.tax_ids import tax_id_types

    return tax_id_types()


def _check_mapped_value(path: str, target: str) -> None:
    if path == PREFERRED_LOCALES:
        locale(target)
    elif path == CUSTOM_FIELDS:
        if not 0 < len(target) <= MAX_CUSTOM_FIELD_VALUE_LENGTH:
            raise ValueError(f"a custom field value has 1 to {MAX_CUSTOM_FIELD_VALUE_LENGTH} characters")
    elif path != TAX_ID_DATA:
        clean(stripe_field(path), target)


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
        key, known = loc.pop(), ", ".join(sorted(set(MappingConfig.model_fields) - {"custom_fields"}))
        if loc:
            message = f"unknown key {key!r} (allowed: from, transform, values, type)"
        else:
            message = f"unknown top-level key {key!r} (allowed: {known})"
    if not loc:
        return message
    if loc[0] == "custom_fields":  # written as fields['invoice_settings.custom_fields'][i] in the file
        return f"fields[{CUSTOM_FIELDS!r}]" + "".join(f"[{part!r}]" for part in loc[1:]) + f": {message}"
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
