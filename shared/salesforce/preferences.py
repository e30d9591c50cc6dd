"""The Salesforce admin's sync preferences: the ``Stripe_Sync_Preferences__c`` hierarchy custom setting.

Why a hierarchy custom setting, and why the package ships no record of it: an admin edits its org default in
Setup (Custom Settings → Stripe Sync Preferences → Manage) without AWS, and a setting's records are *data*:
deploying or upgrading the package replaces metadata only, never the values an admin saved (Salesforce Help,
"Custom Settings": https://help.salesforce.com/s/articleView?id=platform.cs_about.htm). Custom metadata
records are *metadata*: shipped in the package, a deploy (``sf project deploy start``) writes them back to
the package's values, and in a managed package an upgrade overwrites every field the developer marked
upgradeable (Salesforce Help, "Field Manageability in Custom Metadata Types":
https://help.salesforce.com/s/articleView?id=platform.custommetadatatypes_field_manageability.htm). So the
type ships empty and the defaults live here: no record means "the defaults", and an upgrade can't reset one.

Only the org default counts — the record whose ``SetupOwnerId`` is the org's id (Apex Reference,
``getOrgDefaults()``: https://developer.salesforce.com/docs/atlas.en-us.apexref.meta/apexref/apex_methods_system_custom_settings.htm);
profile and user overrides of the same setting are ignored (the sync is one process, not a user).

Cost: ``PreferencesReader`` reads them with one SOQL query, plus one ``LIMIT 1`` query that checks the order
filter when one is set, at most once per ``max_age_seconds`` (300 s) per instance; every batch in between
uses the kept answer (0 calls). A value the worker can't use is a warning naming the field and its default
is used: a preference never stops the sync. The order filter is the exception that holds: see
``Preferences.order_filter_error``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from shared.errors import TransientSyncError
from shared.salesforce.gateway import ACTIVATED_ORDER

SETTING = "Stripe_Sync_Preferences__c"
LIVE_SYNC = "Live_Sync__c"
START_DATE = "Start_Date__c"
ORDER_FILTER = "Order_Filter__c"
HISTORY_LEVEL = "History_Level__c"
HISTORY_RETENTION_DAYS = "History_Retention_Days__c"
API_BUDGET_PERCENT = "API_Budget_Percent__c"
FIELDS = (LIVE_SYNC, START_DATE, ORDER_FILTER, HISTORY_LEVEL, HISTORY_RETENTION_DAYS, API_BUDGET_PERCENT)
MAX_AGE_SECONDS = 300.0
RETRY_SECONDS = 30.0  # after a failed first read, how long held batches go without asking again
_ORG_PREFIX = "00D"  # key prefix of Organization ids: the org default's SetupOwnerId
_logger = logging.getLogger(__name__)


class HistoryLevel(StrEnum):
    """Which syncs the sync history keeps (text in the setting: custom settings have no picklists). Every level
    but ``off`` also keeps every manual sync: the admin pressed the button and looks for its result."""

    OFF = "off"  # none (the history object need not be deployed)
    ERRORS = "errors"  # failures and refusals, and syncs with field warnings
    CHANGES = "changes"  # what changed something in Stripe, warned or failed (the default)
    EVERYTHING = "everything"  # unchanged and stale deliveries too


@dataclass(frozen=True)
class Preferences:
    """The preferences in force; the defaults are what an org without the setting's org default gets.

    ``start_date``: orders activated before it (UTC midnight) don't count; ``order_filter``: a SOQL condition
    on Order ANDed into the order selection. ``order_filter_error`` is Salesforce's refusal of the filter
    (code and message, e.g. ``INVALID_FIELD: No such column 'Typo__c' on entity 'Order'…``), None when it was
    accepted or is blank. ``warnings`` name each field whose value was ignored (``Setting.Field: why``).
    """

    live_sync: bool = True
    start_date: date | None = None
    order_filter: str | None = None
    history_level: HistoryLevel = HistoryLevel.CHANGES
    history_retention_days: int = 30
    api_budget_percent: int = 80
    order_filter_error: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def order_conditions(self) -> tuple[str, ...]:
        """SOQL conditions on Order the order selection ANDs to ``StatusCode = 'Activated'``.

        Raises ``OrderFilterRefused`` (transient: retried, never dropped) when Salesforce refused the filter:
        syncing without it would create customers the admin meant to exclude, and a Stripe customer is never
        deleted by the sync, while a wait costs nothing (the gate holds the batches meanwhile).
        """
        if self.order_filter_error:
            raise OrderFilterRefused(self.order_filter_error)
        conditions = []
        if self.start_date is not None:
            # ActivatedDate is a dateTime: compare with the start of the day in UTC (SOQL dateTime literal).
            conditions.append(f"ActivatedDate >= {self.start_date.isoformat()}T00:00:00Z")
        if self.order_filter:
            conditions.append(f"({self.order_filter})")
        return tuple(conditions)


class OrderFilterRefused(TransientSyncError):
    """Salesforce refuses the admin's Order Filter: nothing is selected with or without it until it is fixed."""

    def __init__(self, error: str) -> None:
        super().__init__(f"Salesforce refuses the order filter: {error}", field=f"{SETTING}.{ORDER_FILTER}")


def preferences_soql() -> str:
    """Every record of the setting (the org default and any overrides: a handful at most)."""
    return f"SELECT SetupOwnerId, {', '.join(FIELDS)} FROM {SETTING}"  # noqa: S608 - constants only


def order_filter_check_soql(order_filter: str) -> str:
    """One query placing the filter where the sync uses it: inside the ``Orders`` child subquery (the worker's
    and reconcile's account reads) and inside reconcile's ``Id IN (SELECT AccountId FROM Order …)`` semi-join.
    Salesforce parses and checks the whole statement before reading anything; ``LIMIT 1`` keeps the answer small.
    """
    condition = f"{ACTIVATED_ORDER} AND ({order_filter})"
    # The admin's own SOQL condition, on purpose: Salesforce, not this code, decides whether it is valid.
    child = f"(SELECT Id FROM Orders WHERE {condition} LIMIT 1)"  # noqa: S608
    semi_join = f"Id IN (SELECT AccountId FROM Order WHERE {condition})"  # noqa: S608
    return f"SELECT Id, {child} FROM Account WHERE {semi_join} LIMIT 1"  # noqa: S608


def parse_preferences(records: list[dict[str, Any]]) -> Preferences:
    """The org default among ``records`` (REST query rows) as ``Preferences``; defaults without one.

    Every value is checked on its own: a bad one is replaced by its default and named in ``warnings``.
    """
    record = next((r for r in records if str(r.get("SetupOwnerId") or "").startswith(_ORG_PREFIX)), None)
    if record is None:
        return Preferences()
    warnings: list[str] = []

    def warn(name: str, value: Any, why: str, default: Any) -> None:
        warnings.append(f"{SETTING}.{name}: {value!r} {why}; using {default}")

    defaults = Preferences()
    live = record.get(LIVE_SYNC)
    start = _date(record.get(START_DATE))
    if record.get(START_DATE) and start is None:
        warn(START_DATE, record.get(START_DATE), "is not a date", "no start date")
    order_filter = (record.get(ORDER_FILTER) or "").strip() or None
    level_text = (record.get(HISTORY_LEVEL) or "").strip().lower()
    level = next((lv for lv in HistoryLevel if lv.value == level_text), None)
    if level_text and level is None:
        choices = ", ".join(lv.value for lv in HistoryLevel)
        warn(HISTORY_LEVEL, record.get(HISTORY_LEVEL), f"is none of {choices}", defaults.history_level.value)
    retention = _whole(record.get(HISTORY_RETENTION_DAYS), 1, 3650)
    if record.get(HISTORY_RETENTION_DAYS) is not None and retention is None:
        warn(HISTORY_RETENTION_DAYS, record.get(HISTORY_RETENTION_DAYS), "is not 1 to 3650", 30)
    budget = _whole(record.get(API_BUDGET_PERCENT), 1, 100)
    if record.get(API_BUDGET_PERCENT) is not None and budget is None:
        warn(API_BUDGET_PERCENT, record.get(API_BUDGET_PERCENT), "is not 1 to 100", 80)
    return Preferences(
        live_sync=defaults.live_sync if live is None else bool(live),
        start_date=start,
        order_filter=order_filter,
        history_level=level or defaults.history_level,
        history_retention_days=retention or defaults.history_retention_days,
        api_budget_percent=budget or defaults.api_budget_percent,
        warnings=tuple(warnings),
    )


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _whole(value: Any, low: int, high: int) -> int | None:
    """A whole number within [low, high] (the API returns Number fields as floats), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    return int(value) if low <= value <= high else None


class PreferencesReader:
    """Reads the preferences at most once per ``max_age_seconds``; thread-safe, one per instance.

    ``query(soql) -> records`` is ``SimpleSalesforceGateway.query``: it raises ``TransientSyncError``, chained
    (``__cause__``) to simple-salesforce's ``SalesforceMalformedRequest`` when Salesforce refused the query.
    """

    def __init__(
        self,
        query: Callable[[str], list[dict[str, Any]]],
        *,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._query = query
        self._max_age = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: Preferences | None = None
        self._read_at = 0.0
        self._failed_at = float("-inf")

    def current(self, max_age_seconds: float | None = None, *, retry_seconds: float = 0.0) -> Preferences:
        """The preferences, read again when the kept ones are older than ``max_age_seconds`` (default: the
        reader's, 300 s; a caller that has reason to doubt them asks for fresher ones).

        Salesforce unreachable: the kept preferences stay in force (tried again after ``max_age_seconds``);
        with none kept yet, ``TransientSyncError`` is raised — and, for ``retry_seconds`` after a failed read,
        raised without asking Salesforce again (the gate passes ``RETRY_SECONDS``: batches held meanwhile cost
        no failing call each; the order selection passes 0: its batch reads Salesforce anyway).
        """
        max_age = self._max_age if max_age_seconds is None else max_age_seconds
        with self._lock:
            now = self._clock()
            if self._kept is not None and now - self._read_at < max_age:
                return self._kept
            if self._kept is None and now - self._failed_at < retry_seconds:
                raise TransientSyncError(f"{SETTING} unreadable a moment ago; read again within {retry_seconds:.0f} s")
            try:
                self._kept = self.read()
            except TransientSyncError:
                self._failed_at = self._clock()
                if self._kept is None:
                    raise
                _logger.warning("sync preferences unreadable: the ones read before stay in force")
            self._read_at = self._clock()
            return self._kept

    def expire(self) -> None:
        """Forget the kept preferences: the next ``current`` reads them (as after ``max_age_seconds``)."""
        with self._lock:
            self._read_at = self._failed_at = float("-inf")

    def order_conditions(self) -> tuple[str, ...]:
        """``current().order_conditions()``: what the order selection ANDs in now."""
        return self.current().order_conditions()

    def read(self) -> Preferences:
        """Read the setting (one query) and check the order filter (one more, when set)."""
        try:
            preferences = parse_preferences(self._query(preferences_soql()))
        except TransientSyncError as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            # The package (or the permission set's access to the setting) is missing: the defaults apply.
            warning = f"{SETTING} is not readable ({refusal}): deploy the package and assign Stripe Sync Integration"
            preferences = Preferences(warnings=(warning,))
        if preferences.order_filter:
            preferences = self._checked(preferences)
        for warning in preferences.warnings:
            _logger.warning("sync preference ignored: %s", warning)
        return preferences

    def _checked(self, preferences: Preferences) -> Preferences:
        assert preferences.order_filter
        try:
            self._query(order_filter_check_soql(preferences.order_filter))
        except TransientSyncError as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            error = f"{SETTING}.{ORDER_FILTER} refused by Salesforce: {refusal}"
            _logger.error("sync preference refused, the sync holds until it is fixed: %s", error)
            return replace(preferences, order_filter_error=refusal)
        return preferences


def _refusal(exc: BaseException) -> str | None:
    """Salesforce's refusal of a query as ``CODE: last line of the message`` (the lines before it repeat the
    query, values included), or None when ``exc`` was no refusal (an outage, a timeout)."""
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    cause = exc.__cause__
    if not isinstance(cause, SalesforceMalformedRequest):
        return None
    content = cause.content
    first: dict[str, Any] = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
    code = first.get("errorCode") or first.get("statusCode") or "MALFORMED_QUERY"
    lines = [line.strip() for line in str(first.get("message") or "").splitlines() if line.strip()]
    return f"{code}: {lines[-1]}" if lines else str(code)
