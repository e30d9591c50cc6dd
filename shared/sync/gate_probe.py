"""Releases the sync's own holds once their cause is gone: credentials work again, the API budget refilled.

The worker runs it on a schedule (every 5 minutes, template.yaml's ``GateProbe`` event), not per batch: a
held stack may receive no batch at all, and a probe per batch would spend the org's API requests the budget
hold is there to save. Each probe costs, per hold in place:

- ``credentials``: one Stripe read (a page of customers: a rolled key is re-read from its secret on the
  401, shared/stripe/gateway.py) and one Salesforce call (the Limits resource, after a fresh login when the
  session was refused) — released only when both vendors answer;
- ``api_budget``: one call to Salesforce's Limits resource (``DailyApiRequests``: the allowance is a
  rolling 24 h, so usage falls as old requests age out —
  https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm) —
  released when the usage is under the budget.

An automatic release removes only its own reason (``HoldStore.release(automatic=True)``): an operator's
hold or observe mode stays. A hold still in place counts its metric again, so its alarm stays raised while
the cause lasts. When the gate is open after a release, the caller redrives the held queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.errors import CredentialsRefused, SyncError
from shared.state.holds import HoldReason
from shared.sync.automatic_holds import ApiBudget, ApiUsage, budget_in_force


class GateProbe:
    """``store`` is a ``HoldStore``; ``stripe_read`` makes one cheap Stripe read; ``salesforce_usage`` calls the
    Limits resource and returns the org's API usage. Both raise ``SyncError`` (``CredentialsRefused`` among
    them) when the vendor refuses or can't be reached."""

    def __init__(
        self,
        store: Any,
        *,
        stripe_read: Callable[[], object],
        salesforce_usage: Callable[[], ApiUsage],
        budget: ApiBudget | Callable[[], ApiBudget],
        logger: Logger,
        metrics: Metrics,
    ) -> None:
        self._store = store
        self._stripe_read = stripe_read
        self._salesforce_usage = salesforce_usage
        self._budget = budget
        self._logger = logger
        self._metrics = metrics

    def run(self) -> list[HoldReason]:
        """Probe every automatic hold in place (credentials, API budget); the reasons released."""
        reasons = {hold.reason for hold in self._store.holds(consistent=True)}
        released: list[HoldReason] = []
        if HoldReason.CREDENTIALS in reasons and self._credentials_work():
            released.append(HoldReason.CREDENTIALS)
        if HoldReason.API_BUDGET in reasons and self._budget_refilled():
            released.append(HoldReason.API_BUDGET)
        for reason in released:
            self._store.release(reason, automatic=True)
            self._logger.info("gate hold released: its cause is gone", extra={"hold": reason.value})
        return released

    def _credentials_work(self) -> bool:
        try:
            self._stripe_read()
            self._salesforce_usage()
        except CredentialsRefused as exc:
            # Still refused: CredentialsRefusedAlarm stays raised while the hold lasts.
            self._metrics.add_metric(name="credentials_refused", unit=MetricUnit.Count, value=1)
            self._logger.warning("credentials still refused", extra={"vendor": exc.vendor, "error": exc.reason})
            return False
        except SyncError as exc:  # an outage says nothing about the credentials: ask again next time
            self._logger.warning("credentials probe unanswered", extra={"error": str(exc)})
            return False
        return True

    def _budget_refilled(self) -> bool:
        try:
            usage = self._salesforce_usage()
        except SyncError as exc:  # REQUEST_LIMIT_EXCEEDED itself, or an outage: still held
            self._metrics.add_metric(name="api_budget_exceeded", unit=MetricUnit.Count, value=1)
            self._logger.warning("API budget probe unanswered", extra={"error": str(exc)})
            return False
        if budget_in_force(self._budget).exceeded(usage):
            self._metrics.add_metric(name="api_budget_exceeded", unit=MetricUnit.Count, value=1)
            self._logger.info("API budget still exceeded", extra={"usage": str(usage)})
            return False
        return True
