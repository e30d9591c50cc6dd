"""Salesforce Account record → Stripe customer params, following a validated mapping config."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import PermanentSyncError
from shared.mapping.config import FieldEntry, MappingConfig, load_config, parse_config
from shared.mapping.paths import SalesforcePath, parse_path, resolve
from shared.mapping.rules import clean
from shared.mapping.stripe_paths import ACCOUNT_ID_PATH, METADATA_PREFIX, StripeField, stripe_field
from shared.mapping.transforms import TRANSFORMS, to_text
from shared.salesforce.ids import to_18

_ID = parse_path("Id")
_NAME = parse_path("Name")
_SHIPPING = "shipping."
_SHIPPING_ADDRESS = "shipping.address."


@dataclass(frozen=True)
class MappedCustomer:
    """One account as a Stripe customer: `flat` dot-paths → values, only non-empty values."""

    flat: dict[str, str]
    contact_ids: tuple[str, ...] = ()
    # Stripe fields drawn from a contact when no contact could be reached (the lookup is empty, e.g. the
    # contact was deleted or merged away): R11/R13 say that must not clear what Stripe already has.
    orphaned_paths: tuple[str, ...] = ()

    def keeping(self, previous: Mapping[str, str]) -> MappedCustomer:
        """This customer with the previously applied values of its orphaned fields kept."""
        kept = {path: previous[path] for path in self.orphaned_paths if path in previous}
        if not kept:
            return self
        return MappedCustomer(dict(sorted({**kept, **self.flat}.items())), self.contact_ids, self.orphaned_paths)

    @property
    def params(self) -> dict[str, Any]:
        """Stripe create params, nested, keys sorted at every level."""
        return nest(self.flat)

    @property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of `flat`: equal data ⇒ equal hash."""
        canonical = json.dumps(self.flat, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CustomerMapping:
    """A validated mapping: which Salesforce fields to select and how they become a customer."""

    def __init__(self, config: MappingConfig) -> None:
        self._config = config
        self._targets = {path: stripe_field(path) for path in sorted({*config.fields, *config.defaults})}
        sources = [source for entry in config.fields.values() for source in entry.sources]
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
        """Every Stripe path the mapping can write (dot-paths, ``metadata.<key>`` included)."""
        return (*self._targets, ACCOUNT_ID_PATH)

    def map_account(self, record: Mapping[str, Any]) -> MappedCustomer:
        """Map one REST API Account record; PermanentSyncError for a value that can't be made valid."""
        contact_ids: set[str] = set()
        flat: dict[str, str] = {}
        orphaned: list[str] = []
        for path, field in self._targets.items():
            entry = self._config.fields.get(path)
            value = _mapped_value(record, entry, field, contact_ids) if entry else None
            if value is None and entry and _contact_unreachable(record, entry):
                orphaned.append(path)
                continue
            if value is None:
                value = self._config.defaults.get(path)
            if value is not None:
                flat[path] = value
        flat[ACCOUNT_ID_PATH] = _account_id(record)
        flat = _apply_shipping_rule(flat, record)
        return MappedCustomer(dict(sorted(flat.items())), tuple(sorted(contact_ids)), tuple(orphaned))


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
    record: Mapping[str, Any], entry: FieldEntry, field: StripeField, contact_ids: set[str]
) -> str | None:
    """The first non-empty source value, transformed and cleaned; None when every source is empty."""
    transform = TRANSFORMS[entry.transform] if entry.transform else None
    for source in entry.sources:
        contact_ids.update(_contact_ids(record, source))
        try:
            value = to_text(resolve(record, source))
            if value is not None and transform is not None:
                value = transform(value)
            if value:
                return clean(field, value)
        except ValueError as exc:
            raise PermanentSyncError(str(exc), field=source.text) from exc
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


def _apply_shipping_rule(flat: dict[str, str], record: Mapping[str, Any]) -> dict[str, str]:
    """Stripe needs shipping with an address and a name: drop it without address, else add a name."""
    if not any(path.startswith(_SHIPPING_ADDRESS) for path in flat):
        return {path: value for path, value in flat.items() if not path.startswith(_SHIPPING)}
    if "shipping.name" in flat:
        return flat
    name = flat.get("name") or to_text(resolve(record, _NAME))
    if not name:
        raise PermanentSyncError("a shipping address needs a name, and the account has none", field="Name")
    try:
        return {**flat, "shipping.name": clean(stripe_field("shipping.name"), name)}
    except ValueError as exc:
        raise PermanentSyncError(str(exc), field="Name") from exc


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
