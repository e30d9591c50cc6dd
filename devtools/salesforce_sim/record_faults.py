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

    def clear(self) -> None:
        """The org's admins fixed everything: no more refusals."""
        with self._lock:
            self._faults.clear()

    def check(self, sobject: str, record_id: str, saved: Mapping[str, Any]) -> None:
        """Raise the SalesforceError of the first fault that refuses this write (``saved``: values after it)."""
        with self._lock:
            for fault in self._faults:
                if fault.sobject != sobject or (fault.record_id and fault.record_id != record_id):
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
