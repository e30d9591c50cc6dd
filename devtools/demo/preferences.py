"""``make run``'s steps with the admin's sync preferences (Setup → Custom Settings → Stripe Sync Preferences).

The demo can't wait the 5 minutes a worker instance keeps its reading of the preferences, so each change is
followed by what those minutes do: the worker's reading expires. Turning Live Sync back on is then picked
up by what the scheduled reconcile does on every run: the live switch applied, the held queue redriven.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from devtools.local_runtime.stack import LocalStack
from shared.components import Components
from shared.salesforce.preferences import SETTING
from shared.settings import WorkerSettings
from shared.sync.gate import redrive_held

if TYPE_CHECKING:
    from devtools.demo.run import Demo


def steps(demo: Demo) -> list[tuple[str, str, str, Callable[[], None]]]:
    """(title, account, expected outcome, action) of each step: Live Sync off, on again, an old order."""

    def live_sync_off() -> None:
        save_preferences(demo.stack, Live_Sync__c=False)
        demo._customer_candidate("Pause GmbH", "einkauf@pause.example", BillingCountry="DE")
        demo.sim.update("Order", demo.orders["Pause GmbH"], {"Status": "Activated"})

    def live_sync_on() -> None:
        save_preferences(demo.stack, Live_Sync__c=True)
        scheduled_reconcile_gate(demo.stack)

    def before_start_date() -> None:
        save_preferences(demo.stack, Live_Sync__c=True, Start_Date__c="2026-01-01")
        demo._customer_candidate("Altkunde AG", "alt@altkunde.example", BillingCountry="AT")
        migrated_activation(demo.stack, demo.orders["Altkunde AG"])

    def over_budget() -> None:
        # Other integrations used 93 % of the org's daily requests: this batch's responses report it.
        demo.stack.sim.set_api_usage(14_000, 15_000)
        demo.sim.update("Account", demo.accounts["Pause GmbH"], {"BillingCity": "Köln"})

    def waits_for_budget() -> None:
        demo.sim.update("Account", demo.accounts["Pause GmbH"], {"BillingCity": "Bonn"})

    def budget_refilled() -> None:
        demo.stack.sim.set_api_usage(4_000, 15_000)  # older requests left the rolling 24 h window
        gate_probe(demo.stack)

    return [
        ("Admin unticks Live Sync in Setup; order activated", "Pause GmbH", "held", live_sync_off),
        ("Live Sync ticked again: the waiting activation syncs", "Pause GmbH", "created", live_sync_on),
        ("Order activated before the admin's start date", "Altkunde AG", "no_customer", before_start_date),
        ("Org at 93 % of its API requests (budget 80 %): synced, gate held", "Pause GmbH", "updated", over_budget),
        ("Next change waits for the API budget", "Pause GmbH", "held", waits_for_budget),
        ("Usage back under the budget: the 5-minute probe syncs it", "Pause GmbH", "updated", budget_refilled),
    ]


def save_preferences(stack: LocalStack, **values: Any) -> None:
    """The admin saves the org default; the worker reads it at its next batch (as 5 minutes later)."""
    stack.sim.set_org_default(SETTING, values)
    stack.worker.COMPONENTS.preferences.expire()


def scheduled_reconcile_gate(stack: LocalStack) -> None:
    """What the scheduled reconcile does first: apply the preferences to the gate, redrive when it is open."""
    if not Components(WorkerSettings.from_env()).live_switch.holds(consistent=True):
        redrive_held(stack.sqs, stack.held_queue_url, stack.queue_url)


def gate_probe(stack: LocalStack) -> None:
    """What the worker's 5-minute schedule does: release the automatic holds whose cause is gone, redrive."""
    from devtools.sam.lambda_events import FakeLambdaContext

    stack.worker.lambda_handler({"gate_probe": True}, FakeLambdaContext("worker"))


def migrated_activation(stack: LocalStack, order_id: str) -> None:
    """An order activated in the old system, loaded with its ActivatedDate of 2025 (before the start date)."""
    stack.sim.outbound.pause()
    stack.sim.update("Order", order_id, {"Status": "Activated"})
    stack.sim.load_system_fields("Order", order_id, {"ActivatedDate": datetime(2025, 3, 1, tzinfo=UTC)})
    stack.sim.outbound.resume()
