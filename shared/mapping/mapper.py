"""Salesforce Account record → Stripe customer params, following a validated mapping config."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping.config import FieldEntry, MappingConfig, load_config, parse_config
from shared.mapping.field_warnings import Cleaned, FieldWarning, adjusted, left_out
from shared.mapping.list_fields import CUSTOM_FIELDS, LIST_PATHS, listify
from shared.mapping.list_mapper import map_list_fields, outside_map
from shared.mapping.paths import SalesforcePath, parse_path, resolve
from shared.mapping.rules import clean
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH, METADATA_PREFIX, StripeField, stripe_field
from shared.mapping.tax_location import VALIDATE_LOCATION, without_unplaceable_shipping
from shared.mapping.transforms import TRANSFORMS, to_text
from shared.salesforce.ids import to_18

_ID = parse_path("Id")
_NAME = parse_path("Name")
_SHIPPING = "shipping."
_SHIPPING_ADDRESS = "shipping.address."
_PHONE_PATHS = frozenset({"phone", "shipping.phone"})


@dataclass(frozen=True)
class MappedCustomer:
    """One account as a Stripe customer: `flat` dot-paths → values, only non-empty values.

    ``warnings``: the fields Stripe could not take as they are (``field_warnings``); those left out are not
    in ``flat`` and, like ``orphaned_paths``, keep their previous value on update (``keeping``).
    """

    flat: dict[str, str]
    contact_ids: tuple[str, ...] = ()
    # Stripe fields drawn from a contact when no contact could be reached (the lookup is empty, e.g. the
    # contact was deleted or merged away): R11/R13 say that must not clear what Stripe already has.
    orphaned_paths: tuple[str, ...] = ()
    warnings: tuple[FieldWarning, ...] = ()
    # The hash of what Salesforce mapped to, kept by ``keeping`` (see ``content_hash``).
    source_hash: str | None = field(default=None, compare=False)
    # ``tax[validate_location]`` to send with a create and with updates of the address (a request flag
    # for Stripe Tax, not customer data: never part of ``flat`` or the hash). None: Stripe's default.
    validate_location: str | None = field(default=None, compare=False)

    @property
    def withheld_paths(self) -> tuple[str, ...]:
        """Stripe paths left out because of a field warning: Stripe keeps its value for them on update."""
        return tuple(sorted({warning.stripe_path for warning in self.warnings if warning.left_out}))

    @property
    def kept_paths(self) -> tuple[str, ...]:
        """Paths whose previous value ``keeping`` restores: orphaned and withheld ones."""
        return tuple(sorted({*self.orphaned_paths, *self.withheld_paths}))

    def keeping(self, previous: Mapping[str, str]) -> MappedCustomer:
        """This customer with the previous values (last applied, or Stripe's) of its kept paths restored.

        With warnings, ``content_hash`` stays the hash of what Salesforce mapped to: the same Salesforce data keeps
        giving the same hash, so an account whose warning persists is recognised as unchanged before any write.
        """
        kept = {path: value for path, value in previous.items() if _under_any(path, self.kept_paths)}
        if not kept:
            return self
        flat = {**kept, **self.flat}
        if any(path.startswith(_SHIPPING_ADDRESS) for path in flat) and "shipping.name" not in flat:
            # A kept shipping address comes with the name it was applied with (Stripe needs both).
            flat.update({"shipping.name": previous["shipping.name"]} if "shipping.name" in previous else {})
        return replace(self, flat=dict(sorted(flat.items())), source_hash=self.content_hash if self.warnings else None)

    def left_out(self, roots: Iterable[str], warnings: Iterable[FieldWarning]) -> MappedCustomer:
        """This customer without the flat paths under ``roots`` (Stripe refused them), with ``warnings`` (left
        out: Stripe keeps its values); ``content_hash`` stays that of what Salesforce mapped to."""
        roots = tuple(roots)
        flat = {path: value for path, value in self.flat.items() if not _under_any(path, roots)}
        return replace(self, flat=flat, warnings=(*self.warnings, *warnings), source_hash=self.content_hash)

    @property
    def params(self) -> dict[str, Any]:
        """Stripe create params, nested, keys sorted at every level, list fields as lists (and the
        ``tax[validate_location]`` flag when the mapping sets one)."""
        params = listify(nest(self.flat))
        if self.validate_location:
            params["tax"] = {**params.get("tax", {}), "validate_location": self.validate_location}
        return params

    @property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of what Salesforce mapped to: equal data ⇒ equal hash.

        Just `flat` without warnings; with warnings the kept paths and the warnings are part of it, because
        "left out, keep Stripe's value" and "empty, clear it" are different data.
        """
        if self.source_hash is not None:
            return self.source_hash
        data: Any = self.flat
        if self.warnings:
            data = {"flat": self.flat, "kept": self.kept_paths, "warnings": [str(w) for w in self.warnings]}
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CustomerMapping:
    """A validated mapping: which Salesforce fields to select and how they become a customer."""

    def __init__(self, config: MappingConfig) -> None:
        self._config = config
        paths = sorted({*config.fields, *config.defaults} - set(LIST_PATHS) - {VALIDATE_LOCATION})
        self._validate_location = config.defaults.get(VALIDATE_LOCATION)
        self._targets = {path: stripe_field(path) for path in paths}
        entries = [*config.fields.values(), *config.custom_fields]
        sources = [source for entry in entries for source in entry.sources]
        account = [_ID, _NAME, *(source for source in sources if not source.on_order)]
        order = [_ID, *(source for source in sources if source.on_order)]
        self._account_fields = _soql_fields(account)
        self._order_fields = _soql_fields(order)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerMapping:
        """Validate a config dict (e.g. fetched from SSM); MappingConfigError when invalid."""
        return cls(parse_config(data))

    @property
    def config(self) -> MappingConfig:
        """The validated config this mapping follows."""
        return self._config

    @property
    def account_fields(self) -> tuple[str, ...]:
        """Fields to select on Account: Id, Name and every non-Order path (sorted, deduplicated)."""
        return self._account_fields

    @property
    def order_fields(self) -> tuple[str, ...]:
        """Fields to select in the Orders subquery: Id, Order paths and contact lookup ids."""
        return self._order_fields

    @property
    def stripe_paths(self) -> tuple[str, ...]:
        """Every Stripe path the mapping can write (dot-paths, ``metadata.<key>`` included, list fields by name)."""
        lists = [
            path
            for path in LIST_PATHS
            if path in self._config.fields or (path == CUSTOM_FIELDS and self._config.custom_fields)
        ]
        return (*self._targets, *lists, ACCOUNT_ID_PATH)

    def source_of(self, stripe_path: str) -> str:
        """The (first) Salesforce field a Stripe path is mapped from, as written in the config."""
        entry = self._config.fields.get(stripe_path)
        return entry.sources[0].text if entry else stripe_path

    def map_account(self, record: Mapping[str, Any]) -> MappedCustomer:
        """Map one REST API Account record.

        A field Stripe can't take is a ``FieldWarning`` in the result (left out, or sent adjusted), never an
        error; only an account Id that is no Salesforce Id raises PermanentSyncError (a record-level problem).
        """
        contact_ids: set[str] = set()
        flat: dict[str, str] = {}
        orphaned: list[str] = []
        warnings: list[FieldWarning] = []
        # Phones last: they are read in the account's country when written without a country code.
        for path in sorted(self._targets, key=lambda path: path in _PHONE_PATHS):
            entry = self._config.fields.get(path)
            region = flat.get("address.country") or flat.get("shipping.address.country")
            value = _mapped_value(record, entry, self._targets[path], contact_ids, warnings, region) if entry else None
            if value is None and entry and _contact_unreachable(record, entry):
                orphaned.append(path)
                continue
            if value is None and not any(w.stripe_path == path for w in warnings):
                value = self._config.defaults.get(path)
            if value is not None:
                flat[path] = value
        flat.update(map_list_fields(self._config, record, contact_ids, flat.get("address.country"), warnings))
        flat[ACCOUNT_ID_PATH] = _account_id(record)
        flat = _apply_shipping_rule(flat, record, warnings)
        flat = without_unplaceable_shipping(flat, warnings, self.source_of)
        return MappedCustomer(
            dict(sorted(flat.items())),
            tuple(sorted(contact_ids)),
            tuple(orphaned),
            tuple(warnings),
            validate_location=self._validate_location,
        )


def _under_any(path: str, roots: tuple[str, ...]) -> bool:
    # A kept root may be a whole object ("shipping", when its name was unusable).
    return any(path == root or path.startswith(f"{root}.") for root in roots)


def load_mapping(source: str | os.PathLike[str]) -> CustomerMapping:
    """A mapping from a preset name (default, standard, standard_picklists) or a JSON file path."""
    return CustomerMapping(load_config(source))


def load_configured_mapping(source: str, ssm_parameter: str | None = None) -> CustomerMapping:
    """The deployment's mapping: the JSON in the SSM parameter when one is named, else ``load_mapping(source)``."""
    if not ssm_parameter:
        return load_mapping(source)
    # Imported here: only deployments that keep the mapping in SSM pay for the Parameters utility (boto3).
    from aws_lambda_powertools.utilities import parameters

    return CustomerMapping.from_dict(parameters.get_parameter(ssm_parameter, transform="json", max_age=300))


def _soql_fields(paths: Iterable[SalesforcePath]) -> tuple[str, ...]:
    # Hops through a Contact also select its lookup id, so callers learn which contact fed the customer.
    expanded = [soql for path in paths for soql in (path.soql, *(p.soql for p in path.contact_lookups()))]
    unique: dict[str, str] = {}
    for soql in sorted(expanded):
        # SOQL rejects a field selected twice, even in different case.
        unique.setdefault(soql.casefold(), soql)
    return tuple(sorted(unique.values()))


def _mapped_value(
    record: Mapping[str, Any],
    entry: FieldEntry,
    target: StripeField,
    contact_ids: set[str],
    warnings: list[FieldWarning],
    region: str | None,
) -> str | None:
    """The first non-empty source value, transformed and cleaned; None when every source is empty.

    When that value can't be made valid it is left out: None, with a warning naming the source field.
    """
    transform = TRANSFORMS[entry.transform] if entry.transform and entry.values is None else None
    for source in entry.sources:
        contact_ids.update(_contact_ids(record, source))
        try:
            value = to_text(resolve(record, source))
            if value is not None and entry.values is not None:
                mapped = entry.mapped(value)
                if mapped is None:
                    raise ValueError(outside_map(entry))
                value = mapped
            if value is not None and transform is not None:
                value = transform(value)
            if not value:
                continue
            cleaned: Cleaned = clean(target, value, region=region)
        except ValueError as exc:
            warnings.append(left_out(source.text, target.path, str(exc)))
            return None
        if cleaned.note:
            warnings.append(adjusted(source.text, target.path, cleaned.note))
        return cleaned.value
    return None


def _contact_ids(record: Mapping[str, Any], source: SalesforcePath) -> set[str]:
    ids = (to_text(resolve(record, lookup)) for lookup in source.contact_lookups())
    return {contact_id for contact_id in ids if contact_id}


def _contact_unreachable(record: Mapping[str, Any], entry: FieldEntry) -> bool:
    """True when the entry reads through contact lookups and none of them names a contact."""
    lookups = [lookup for source in entry.sources for lookup in source.contact_lookups()]
    return bool(lookups) and not any(to_text(resolve(record, lookup)) for lookup in lookups)


def _account_id(record: Mapping[str, Any]) -> str:
    try:
        return to_18(to_text(resolve(record, _ID)) or "")
    except ValueError as exc:
        raise PermanentSyncError(str(exc), field="Id") from exc


def _apply_shipping_rule(
    flat: dict[str, str], record: Mapping[str, Any], warnings: list[FieldWarning]
) -> dict[str, str]:
    """Stripe needs shipping with an address and a name: drop it without address, else add a name."""
    if not any(path.startswith(_SHIPPING_ADDRESS) for path in flat):
        # No shipping is sent: warnings about its name or phone don't apply (its address's still do).
        warnings[:] = [w for w in warnings if not w.stripe_path.startswith(_SHIPPING) or _is_address(w)]
        return {path: value for path, value in flat.items() if not path.startswith(_SHIPPING)}
    if "shipping.name" in flat:
        return flat
    target = stripe_field("shipping.name")
    name = flat.get("name") or to_text(resolve(record, _NAME))
    try:
        if not name:
            raise ValueError("a shipping address needs a name, and the account has none")
        cleaned = clean(target, name)
    except ValueError as exc:
        # Without a name Stripe refuses the whole shipping object: it is left out, the rest is sent.
        warnings.append(left_out("Name", "shipping", f"{exc}; shipping"))
        return {path: value for path, value in flat.items() if not path.startswith(_SHIPPING)}
    if cleaned.note:
        warnings.append(adjusted("Name", target.path, cleaned.note))
    return {**flat, "shipping.name": cleaned.value}


def _is_address(warning: FieldWarning) -> bool:
    return warning.stripe_path.startswith(_SHIPPING_ADDRESS)


def nest(flat: Mapping[str, str]) -> dict[str, Any]:
    """Dot-paths → nested Stripe params, keys sorted at every level (metadata keys may contain dots)."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        # Metadata keys may contain dots: only the first one separates.
        if path.startswith(METADATA_PREFIX):
            parts = ["metadata", path.removeprefix(METADATA_PREFIX)]
        else:
            parts = path.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _sorted(nested)


def _sorted(node: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted(value) if isinstance(value, dict) else value for key, value in sorted(node.items())}
