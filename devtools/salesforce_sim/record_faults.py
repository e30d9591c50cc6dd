"""Per-record refusals of API writes, as busy or locked-down orgs answer them.

An sObject Collections call answers record by record ("Collections … results in the same order";
per-record ``errors[]`` with a ``statusCode``). Real orgs refuse single records for reasons the caller can't
see in advance, and Salesforce documents each code (SOAP API Developer Guide, "StatusCode"):

- ``UNABLE_TO_LOCK_ROW`` — "unable to obtain exclusive access to this record": another transaction holds
  the row (routine in busy orgs: a Flow, a batch job, a Data Loader run). Transient: the same write
  succeeds once the lock is gone.
- ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` — a validation rule refused the save; it refuses every write of
  the record until the data or the rule changes, whichever fields the write touches.
- ``INSUFFICIENT_ACCESS_OR_READONLY`` — "insufficient access rights on object id": the integration user
  may not edit this record (sharing).
- ``DUPLICATES_DETECTED`` — a duplicate rule matched the saved record against another. A rule fires on
  create, on edit or both, and either *alerts* or *blocks*; an API write is refused either way unless it
  sends ``Sforce-Duplicate-Rule-Header: allowSave=true``, which saves through *alert* rules only — "block"
  rules still refuse (REST API Developer Guide, "Duplicate Rule Header": "allowSave … For a duplicate rule,
  when the Alert option is enabled, bypass alerts and save duplicate records"). Whether Salesforce evaluates
  a rule when only fields outside its matching rule change is not documented: the simulator evaluates it on
  every write of a matching record (the strict reading).
- ``INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE`` — read-only mode during a maintenance window
  (Salesforce Help, "Read-Only Mode Overview"; about twice a year per instance). How an API write is refused
  then is not documented; the simulator refuses record by record in Collections, the shape the product must
  survive (transient: the same write succeeds after the window).

Faults apply to API writes (REST and Collections), never to the simulator's Python API (the "UI").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SalesforceError

Condition = Callable[[Mapping[str, Any]], bool]  # the record as it would be saved → refuse?


@dataclass
class _Fault:
    sobject: str
    record_id: str | None  # None: every record of the object (a validation rule)
    code: str
    message: str
    fields: tuple[str, ...]
    remaining: int | None  # None: until removed
    condition: Condition | None = None
    on_create: bool = False  # a fault checks creates only when set (duplicate rules); edits unless edit=False
    on_edit: bool = True
    bypassable: bool = False  # allowSave=true saves through it (a duplicate rule that alerts)


class RecordFaults:
    """The org's current per-record refusals; ``check`` is called for each record an API call writes."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.refused: list[tuple[str, str]] = []  # (record id, status code) of every refusal, in order

    def lock_row(self, sobject: str, record_id: str, *, times: int = 1) -> None:
        """The next ``times`` writes of the record fail with UNABLE_TO_LOCK_ROW (another transaction holds it)."""
        message = f"unable to obtain exclusive access to this record or 1 records: {record_id}"
        self._add(_Fault(sobject, record_id, "UNABLE_TO_LOCK_ROW", message, (), times))

    def validation_rule(
        self, sobject: str, message: str, *, error_field: str | None = None, condition: Condition | None = None
    ) -> None:
        """A validation rule: every write of a record (meeting ``condition``, if given) is refused."""
        fields = (error_field,) if error_field else ()
        self._add(_Fault(sobject, None, "FIELD_CUSTOM_VALIDATION_EXCEPTION", message, fields, None, condition))

    def no_access(self, sobject: str, record_id: str) -> None:
        """The integration user may read but not edit the record (sharing)."""
        message = "insufficient access rights on object id"
        self._add(_Fault(sobject, record_id, "INSUFFICIENT_ACCESS_OR_READONLY", message, (), None))

    def duplicate_rule(
        self, sobject: str, matches: Condition, *, action: str = "alert", on_create: bool = True, on_edit: bool = True
    ) -> None:
        """A duplicate rule: a write of a record ``matches`` finds a duplicate of is refused (DUPLICATES_DETECTED),
        unless the rule's ``action`` is ``alert`` and the write sends ``allowSave=true``."""
        if action not in ("alert", "block"):
            raise ValueError("a duplicate rule's action is alert or block")
        message = "Use one of these records?" if action == "alert" else "You're creating a duplicate record."
        fault = _Fault(sobject, None, "DUPLICATES_DETECTED", message, (), None, matches, on_create, on_edit)
        fault.bypassable = action == "alert"
        self._add(fault)

    def read_only_mode(self, sobject: str = "Account") -> None:
        """A maintenance window: every API write of the object is refused until ``clear``."""
        message = "Salesforce is in read-only mode during maintenance; try again later"
        code = "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE"
        self._add(_Fault(sobject, None, code, message, (), None, on_create=True))

    def clear(self) -> None:
        """The org's admins fixed everything: no more refusals."""
        with self._lock:
            self._faults.clear()

    def check(
        self,
        sobject: str,
        record_id: str,
        saved: Mapping[str, Any],
        *,
        creating: bool = False,
        allow_save: bool = False,
    ) -> None:
        """Raise the SalesforceError of the first fault that refuses this write (``saved``: values after it;
        ``allow_save``: the request's ``Sforce-Duplicate-Rule-Header: allowSave=true``)."""
        with self._lock:
            for fault in self._faults:
                if fault.sobject != sobject or (fault.record_id and fault.record_id != record_id):
                    continue
                if not (fault.on_create if creating else fault.on_edit) or (fault.bypassable and allow_save):
                    continue
                if fault.condition is not None and not fault.condition(saved):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                self.refused.append((record_id, fault.code))
                raise SalesforceError(400, fault.code, fault.message, list(fault.fields))

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)
