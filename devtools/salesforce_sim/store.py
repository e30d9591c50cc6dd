"""Record storage: validation, system timestamps, computed fields, delete and merge."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import formula, ids
from .errors import SalesforceError, no_such_column_dml, not_found
from .order_status import ACTIVATED, DRAFT
from .schema import FieldDef, ObjectDef, Schema
from .unique import check_unique
from .values import coerce, truncate_ms

Record = dict[str, Any]
ChangeHook = Callable[[str, Record | None, Record], None]  # (sobject, old or None, new)
DeleteHook = Callable[[str, Record], None]  # (sobject, the deleted record)


class Store:
    """All records of the org, guarded by one re-entrant lock (queries read under it too)."""

    def __init__(self, schema: Schema, id_factory: ids.IdFactory) -> None:
        self.schema = schema
        self.lock = threading.RLock()
        self.on_change: ChangeHook | None = None
        self.on_delete: DeleteHook | None = None  # change events fire on delete; outbound messages never do
        self._ids = id_factory
        self._records: dict[str, dict[str, Record]] = {o.name: {} for o in schema.objects()}
        self._last_stamp = datetime.fromtimestamp(0, UTC)
        self._autonumber = 0
        self.org_id = ""  # the org's id: a hierarchy custom setting's org default has it as SetupOwnerId

    # ---- time -------------------------------------------------------------------------------
    def next_stamp(self) -> datetime:
        """Now at ms resolution, strictly after the previous stamp (back-to-back writes differ)."""
        with self.lock:
            now = truncate_ms(datetime.now(UTC))
            self._last_stamp = max(now, self._last_stamp + timedelta(milliseconds=1))
            return self._last_stamp

    # ---- reads --------------------------------------------------------------------------------
    def records(self, sobject: str) -> dict[str, Record]:
        """Live id → record map of one object (hold `lock` while iterating)."""
        return self._records[self.schema.require(sobject).name]

    def find(self, sobject: str, record_id: object) -> Record | None:
        """The live record (deleted ones included) for a 15/18-char id, or None."""
        canonical = ids.canonical(record_id)
        return None if canonical is None else self.records(sobject).get(canonical)

    def get(self, sobject: str, record_id: object) -> Record | None:
        with self.lock:
            record = self.find(sobject, record_id)
            return dict(record) if record is not None else None

    # ---- validation ---------------------------------------------------------------------------
    def validate(
        self,
        obj: ObjectDef,
        fields: Mapping[str, Any],
        *,
        creating: bool,
        access: Callable[[ObjectDef, FieldDef], str] | None = None,
        record_id: str | None = None,
        merged: Collection[str] = (),
    ) -> Record:
        """Map of canonical field name → stored value; SalesforceError on the first bad field.

        ``access(object, field)`` is the running user's field-level security (edit / read / none);
        ``record_id`` the record being updated (it may keep its own value of a unique field); ``merged`` the
        losers of a merge in progress (their unique values may move to the master).
        """
        clean: Record = {}
        for name, value in fields.items():
            if name == "attributes":
                continue
            fdef = obj.field(name)
            level = access(obj, fdef) if access and fdef else "edit"
            if fdef is None or level == "none":
                raise no_such_column_dml(name, obj.name)
            if not fdef.updateable or level == "read":
                raise SalesforceError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security settings of "
                    "this field and verify that it is read/write for your profile or permission set.",
                    [fdef.name],
                )
            target = self.schema.get(fdef.reference_to) if fdef.reference_to else None
            stored = coerce(fdef, value, target.prefix if target else "")
            if target is not None and stored is not None:
                self._check_reference(target, fdef.name, stored)
            clean[fdef.name] = stored
        if obj.name == "Order" and clean.get("Status") is not None:
            self.schema.order_statuses.category(str(clean["Status"]))  # refuses a value the org lacks
        if creating:
            self._check_required(obj, clean)
        check_unique(obj, self._records[obj.name].values(), clean, record_id, ignore=merged)
        return clean

    def _check_reference(self, target: ObjectDef, fname: str, value: object) -> None:
        parent = self._records[target.name].get(str(value))
        if parent is None:
            raise SalesforceError(400, "INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {value}", [fname])
        if parent["IsDeleted"]:
            raise SalesforceError(400, "ENTITY_IS_DELETED", "entity is deleted", [fname])

    def _check_required(self, obj: ObjectDef, clean: Record) -> None:
        # Status has a default, so only the other required fields can really be missing.
        missing = [
            f.name for f in obj.fields.values() if f.required and clean.get(f.name) is None and f.name != "Status"
        ]
        if missing:
            raise SalesforceError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )

    # ---- writes -------------------------------------------------------------------------------
    def create(
        self, sobject: str, fields: Mapping[str, Any], *, enforce_required: bool = False, notify: bool = True
    ) -> str:
        """Insert a record and return its 18-char id (REST enforces required fields, Python callers not)."""
        obj = self.schema.require(sobject)
        with self.lock:
            clean = self.validate(obj, fields, creating=enforce_required)
            record: Record = dict.fromkeys(obj.field_names())
            record.update(clean)
            stamp = self.next_stamp()
            record_id = self._ids.new(obj.prefix)
            record.update(Id=record_id, IsDeleted=False, CreatedDate=stamp, LastModifiedDate=stamp)
            record["SystemModstamp"] = stamp
            self._derive(obj, None, record, stamp)
            self._records[obj.name][record_id] = record
            new = dict(record)
        if notify:
            self._notify(obj.name, None, new)
        return record_id

    def live_record(self, obj: ObjectDef, record_id: object) -> Record:
        """The undeleted record for an update, or NOT_FOUND / ENTITY_IS_DELETED."""
        record = self.find(obj.name, record_id)
        if record is None:
            raise not_found(str(record_id))
        if record["IsDeleted"]:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return record

    def update(self, sobject: str, record_id: object, fields: Mapping[str, Any]) -> None:
        """Update fields; every update bumps LastModifiedDate/SystemModstamp, even without changes."""
        obj = self.schema.require(sobject)
        with self.lock:
            record = self.live_record(obj, record_id)
            clean = self.validate(obj, fields, creating=False, record_id=record["Id"])
            old, new = self.apply(obj, record, clean)
        self._notify(obj.name, old, new)

    def apply(self, obj: ObjectDef, record: Record, clean: Record) -> tuple[Record, Record]:
        """Write already validated values (caller holds the lock); returns (old, new) copies."""
        old = dict(record)
        stamp = self.next_stamp()
        record.update(clean)
        record["LastModifiedDate"] = stamp
        record["SystemModstamp"] = stamp
        self._derive(obj, old, record, stamp)
        return old, dict(record)

    def notify(self, sobject: str, old: Record | None, new: Record) -> None:
        """Tell the outbound dispatcher about a change (call without holding the lock)."""
        self._notify(sobject, old, new)

    def _notify(self, sobject: str, old: Record | None, new: Record) -> None:
        if self.on_change is not None:
            self.on_change(sobject, old, new)

    def delete(self, sobject: str, record_id: object) -> None:
        """Soft delete: IsDeleted = True, only queryAll sees it; never fires outbound messages."""
        obj = self.schema.require(sobject)
        with self.lock:
            record = self.live_record(obj, record_id)
            stamp = self.next_stamp()
            record.update(IsDeleted=True, LastModifiedDate=stamp, SystemModstamp=stamp)
            self._clear_lookups_to(obj.name, record["Id"])
            deleted = dict(record)
        self._notify_delete(obj.name, deleted)

    def _notify_delete(self, sobject: str, record: Record) -> None:
        if self.on_delete is not None:
            self.on_delete(sobject, record)

    def _clear_lookups_to(self, sobject: str, record_id: str) -> None:
        # Salesforce's default for a lookup ("clear the value of this field") when its target is deleted;
        # like Salesforce, this does not count as an edit of the referencing record.
        # A master-detail's details are deleted with their master (Salesforce Help, "Object Relationships
        # Overview": "When a master record is deleted, the related detail records are also deleted").
        for owner, fdef in self.schema.lookups_to(sobject):
            for other in self._records[owner.name].values():
                if other.get(fdef.name) == record_id and not other["IsDeleted"]:
                    if fdef.master_detail:
                        other["IsDeleted"] = True
                    else:
                        other[fdef.name] = None

    def merge(
        self, sobject: str, winner_id: str, loser_ids: list[str], master_fields: Mapping[str, Any] | None = None
    ) -> list[tuple[str, Record, Record]]:
        """Merge up to 2 losers into the winner; returns the winner's (sobject, old, new).

        As the SOAP API's ``merge()`` documents it (MergeRequest: ``masterRecord`` — the master's id and
        optionally "the fields to be updated and their values" — and 1 or 2 ``recordToMergeIds``;
        https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_merge.htm): the
        losers are deleted with ``MasterRecordId`` set to the master, their child records reparented, and the
        master takes ``master_fields`` — e.g. a loser's value the admin picked in the merge wizard.
        """
        obj = self.schema.require(sobject)
        if not 1 <= len(loser_ids) <= 2:
            raise SalesforceError(400, "INVALID_OPERATION", "A merge takes 1 or 2 records to merge")
        with self.lock:
            winner = self.live_record(obj, winner_id)
            losers = [self.live_record(obj, lid) for lid in loser_ids]
            loser_set = {r["Id"] for r in losers}
            if winner["Id"] in loser_set or len(loser_set) != len(losers):
                raise SalesforceError(400, "INVALID_OPERATION", "Duplicate ids in merge request")
            # Checked before anything changes; the master may take a loser's unique value (the losers go).
            clean = self.validate(obj, master_fields or {}, creating=False, record_id=winner["Id"], merged=loser_set)
            for loser in losers:
                stamp = self.next_stamp()
                loser.update(IsDeleted=True, MasterRecordId=winner["Id"])
                loser.update(LastModifiedDate=stamp, SystemModstamp=stamp)
            self._reparent(obj.name, loser_set, winner["Id"])
            deleted = [dict(loser) for loser in losers]
            changes = [(obj.name, *self.apply(obj, winner, clean))]
        for loser in deleted:
            self._notify_delete(obj.name, loser)
        return changes

    def _reparent(self, sobject: str, losers: set[str], winner_id: str) -> None:
        # Contacts, Orders, child Accounts, quotes… of the losers now point at the winner.
        for child_obj, fdef in self.schema.lookups_to(sobject):
            for child in self._records[child_obj.name].values():
                if child.get(fdef.name) in losers and not child["IsDeleted"] and child["Id"] != winner_id:
                    self.apply(child_obj, child, {fdef.name: winner_id})

    # ---- computed fields ------------------------------------------------------------------------
    def calculate_formulas(self, obj: ObjectDef, record: Record) -> None:
        """Formula fields hold their formula's value on ``record`` (blank text is null, as the API returns it)."""
        for fdef in obj.fields.values():
            if fdef.formula is not None:
                value = formula.evaluate(fdef.formula, record, self.setting)
                record[fdef.name] = value or None

    def setting(self, name: str, field_name: str) -> Any:
        """A hierarchy custom setting's org-default value; None when the org has no default record."""
        record = self.org_default(name)
        return None if record is None else record.get(field_name)

    def org_default(self, name: str) -> Record | None:
        """A hierarchy custom setting's org-default record (its ``SetupOwnerId`` is the org id), or None."""
        with self.lock:
            found = (r for r in self.records(name).values() if r["SetupOwnerId"] == self.org_id and not r["IsDeleted"])
            return next(found, None)

    def set_org_default(self, name: str, values: Mapping[str, Any]) -> None:
        """Save a hierarchy custom setting's org default (Setup → Custom Settings → Manage): the first save
        creates the record (``SetupOwnerId`` = the org id), later ones update it; formulas follow.
        A value the field refuses raises like any save (the Setup page shows the same error)."""
        obj = self.schema.require(name)
        with self.lock:
            existing = self.org_default(name)
            if existing is None:
                record_id = self.create(name, values, notify=False)
                self.records(name)[record_id]["SetupOwnerId"] = self.org_id
            else:
                self.apply(obj, existing, self.validate(obj, values, creating=False, record_id=existing["Id"]))
            for other in self.schema.objects():
                for record in self._records[other.name].values():
                    self.calculate_formulas(other, record)

    def _derive(self, obj: ObjectDef, old: Record | None, record: Record, stamp: datetime) -> None:
        self.calculate_formulas(obj, record)
        if obj.name == "Contact":
            parts = [record.get("FirstName"), record.get("LastName")]
            record["Name"] = " ".join(p for p in parts if p) or None
        elif obj.name == "Order":
            # StatusCode is the category of the org's Status value; ActivatedDate marks entering "Activated".
            record["Status"] = record.get("Status") or DRAFT
            record["StatusCode"] = self.schema.order_statuses.category(record["Status"])
            if record["StatusCode"] == ACTIVATED and (old is None or old.get("StatusCode") != ACTIVATED):
                record["ActivatedDate"] = stamp
        elif obj.auto_number and old is None:
            self._autonumber += 1
            record["Name"] = _auto_number(obj.auto_number, self._autonumber)
        elif obj.name == "SBQQ__Quote__c" and old is None:
            self._autonumber += 1
            record["Name"] = f"Q-{self._autonumber:05d}"
        elif obj.name == "Account" and self.schema.state_country_picklists:
            for prefix in ("Billing", "Shipping"):
                _sync_codes(record, old, prefix)


def _auto_number(display_format: str, number: int) -> str:
    """An AutoNumber's value: ``SSR-{0000000}`` → ``SSR-0000042`` (the braces' zeros give the width)."""
    return re.sub(r"\{(0+)\}", lambda m: f"{number:0{len(m[1])}d}", display_format)


def _pick(record: Record, old: Record | None, name_field: str, code_field: str) -> tuple[Any, Any]:
    """(name, code) to resolve from: the one that just changed wins, the code on a tie."""
    name, code = record.get(name_field), record.get(code_field)
    if old is None:
        return (None, code) if code else (name, None)
    if code != old.get(code_field):
        return None, code
    if name != old.get(name_field):
        return name, None
    return None, None


def _sync_codes(record: Record, old: Record | None, prefix: str) -> None:
    """With State/Country picklists, the name and the ISO code of a country/state fill each other."""
    import pycountry  # runtime dependency of the product; only needed with picklists on

    country, code = _pick(record, old, f"{prefix}Country", f"{prefix}CountryCode")
    found: Any = None
    if country or code:
        try:
            found = pycountry.countries.lookup(code or country)
        except LookupError:
            found = None
    if found is not None:
        record[f"{prefix}Country"], record[f"{prefix}CountryCode"] = found.name, found.alpha_2
    alpha_2 = record.get(f"{prefix}CountryCode")
    state, scode = _pick(record, old if found is None else None, f"{prefix}State", f"{prefix}StateCode")
    if not alpha_2 or not (state or scode):
        return
    for sub in pycountry.subdivisions.get(country_code=alpha_2) or []:
        short = sub.code.split("-", 1)[1]
        if (scode and short.lower() == str(scode).lower()) or (state and sub.name.lower() == str(state).lower()):
            record[f"{prefix}State"], record[f"{prefix}StateCode"] = sub.name, short
            return
