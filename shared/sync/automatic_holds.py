"""The holds the sync places by itself: refused credentials, and the org's API budget.

Two causes stop every sync of the stack alike, whatever the account, and retrying them message by message
only burns receives toward the DLQ (10 receives × 900 s ≈ 2.5 h, shared/sync/gate.py):

- ``CredentialsRefused``: Stripe or Salesforce refused credentials read fresh from their secret, or a Stripe
  restricted key lacks a permission (``shared.stripe.key_refusal``) → the ``credentials`` hold;
- the org's daily API requests: Salesforce reports the usage on every REST response in the
  ``Sforce-Limit-Info`` header, ``api-usage=USED/MAX`` (REST API Developer Guide, "Limit Info Header":
  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm), and
  answers ``403 REQUEST_LIMIT_EXCEEDED`` once the rolling 24-hour allowance is spent ("API Request Limits and
  Allocations": https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/
  salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm). The allowance is shared by every
  integration of the org, so the sync stops at a share of it (``API_BUDGET_PERCENT``, default 80) → the
  ``api_budget`` hold. Reading the header costs no call: it came with the batch's own query.

``AutomaticHolds.after_batch`` places them after a batch (and names the messages to park at once);
``GateProbe`` (shared/sync/gate_probe.py) releases them when the cause is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.errors import CredentialsRefused, RequestLimitExceeded
from shared.state.holds import HoldReason


@dataclass(frozen=True)
class ApiUsage:
    """The org's API requests in the rolling 24 hours: ``used`` of ``max`` (Salesforce's ``DailyApiRequests``)."""

    used: int
    max: int

    def __str__(self) -> str:
        return f"{self.used}/{self.max}"


def usage_of_limits(limits: dict[str, Any]) -> ApiUsage:
    """The REST API's Limits resource (``GET /services/data/vXX.X/limits``: ``DailyApiRequests`` with ``Max``
    and ``Remaining``, https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm)
    as ApiUsage. KeyError when the answer has no ``DailyApiRequests``."""
    daily = limits["DailyApiRequests"]
    return ApiUsage(int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"]))


@dataclass(frozen=True)
class ApiBudget:
    """The share of the org's daily API requests the sync may use, in percent (1–100).

    The setting ``API_BUDGET_PERCENT``; the admin's Salesforce preference feeds the same number.
    """

    percent: float = 80.0

    def exceeded(self, usage: ApiUsage) -> bool:
        """Whether ``usage`` is at or above the budget (an org reporting no maximum never is)."""
        return usage.max > 0 and usage.used * 100 >= self.percent * usage.max

    def describe(self, usage: ApiUsage) -> str:
        """The hold's note: the usage and the budget (counts only)."""
        return f"Salesforce API requests {usage} in the last 24 h, at or above the budget of {self.percent:g} %"


def budget_in_force(budget: ApiBudget | Callable[[], ApiBudget]) -> ApiBudget:
    """``budget``, or the one its provider gives now."""
    return budget if isinstance(budget, ApiBudget) else budget()


def hold_for(error: Exception) -> tuple[HoldReason, str] | None:
    """The hold a sync's failure calls for, with its note (names the setting, never a secret); None: none."""
    if isinstance(error, CredentialsRefused):
        return HoldReason.CREDENTIALS, f"{error.vendor}: {error.reason}"[:500]
    if isinstance(error, RequestLimitExceeded):
        return HoldReason.API_BUDGET, "Salesforce answered REQUEST_LIMIT_EXCEEDED: the org's daily API requests spent"
    return None


class AutomaticHolds:
    """Places the automatic holds after a batch that ran with the gate open.

    ``place(reason, note)`` puts a hold in place (``HoldStore.place`` with ``by="sync"``); ``usage`` gives the
    API usage the last Salesforce response reported (None: not known, e.g. no REST call yet).
    """

    def __init__(
        self,
        place: Callable[[HoldReason, str], None],
        *,
        usage: Callable[[], ApiUsage | None] | None,
        budget: ApiBudget | Callable[[], ApiBudget],
        logger: Logger,
        metrics: Metrics,
    ) -> None:
        self._place = place
        self._usage = usage
        self._budget = budget  # or what to ask for the one in force (the admin's preference, kept 5 minutes)
        self._logger = logger
        self._metrics = metrics

    @property
    def budget(self) -> ApiBudget:
        """The API budget in force now."""
        return budget_in_force(self._budget)

    def after_batch(self, errors: dict[str, Exception]) -> dict[str, HoldReason]:
        """Place the holds the batch's failures (message id → error) and API usage call for; the messages to
        park now, with their hold (their failure is its cause: retried through receives they'd fail again)."""
        placed: dict[HoldReason, str] = {}
        park: dict[str, HoldReason] = {}
        for message_id, error in errors.items():
            found = hold_for(error)
            if found is not None:
                placed.setdefault(*found)
                park[message_id] = found[0]
        usage = self._usage() if self._usage is not None else None
        if usage is not None and self.budget.exceeded(usage):
            placed.setdefault(HoldReason.API_BUDGET, self.budget.describe(usage))
        for reason, note in placed.items():
            self._place(reason, note)
            self._logger.warning("gate held by the sync", extra={"hold": reason.value, "note": note})
            if reason is HoldReason.API_BUDGET:  # template.yaml's ApiBudgetAlarm
                self._metrics.add_metric(name="api_budget_exceeded", unit=MetricUnit.Count, value=1)
        return park
