"""The admin's Live Sync preference (and a refused Order Filter) as the gate's ``live_switch`` hold.

``LiveSwitch.holds`` stands in for ``HoldStore.holds`` wherever the gate is read (the worker per batch, the
scheduled reconcile per run): it reads the preferences (``PreferencesReader``: one Salesforce query per
5 minutes at most, 0 per batch in between), then the holds (one GetItem, as before), and brings the
``live_switch`` hold in line only when the two disagree — one more write when the admin flips the switch,
none otherwise:

- Live Sync off → the hold is placed (``by="salesforce preferences"``): automatic triggers wait in the held
  queue, nothing is dropped;
- the Order Filter refused by Salesforce → the same hold, its note naming the preference: syncing without
  the filter would create customers the admin meant to exclude (the sync never deletes one), waiting costs
  nothing and ends by itself once the admin fixes the filter;
- Live Sync on and the filter accepted → the hold is released as an automatic release (``HoldStore.release``,
  ``automatic=True``), which can never release the operator's ``sfsync pause``; the scheduled reconcile
  redrives the held messages on its next run. A ``live_switch`` hold placed by anyone else is left alone.

The hold is the switch's shared memory: when Salesforce can't be read and no preferences were read yet, the
hold stays as the last reading left it. Instances keep their reading up to 5 minutes, so right after the admin
flips the switch one instance may act on it while another still holds the old reading: an instance whose kept
reading disagrees with the hold reads the preferences afresh (at most once per ``RECHECK_SECONDS``) before
changing the hold, so a stale instance doesn't undo a fresh one's release (or placement) for 5 minutes.
"""

from __future__ import annotations

import logging

from shared.errors import TransientSyncError
from shared.salesforce.preferences import (
    LIVE_SYNC,
    ORDER_FILTER,
    RETRY_SECONDS,
    SETTING,
    Preferences,
    PreferencesReader,
)
from shared.state.holds import Hold, HoldReason, HoldStore

PLACED_BY = "salesforce preferences"
RECHECK_SECONDS = 30.0  # how fresh a reading must be to change a hold another instance set
_logger = logging.getLogger(__name__)


def switch_note(preferences: Preferences) -> str | None:
    """Why the preferences hold the sync (no personal data: field names and Salesforce's error code), or None."""
    if preferences.order_filter_error:
        code = preferences.order_filter_error.split(":", 1)[0]
        return f"{SETTING}.{ORDER_FILTER} refused by Salesforce ({code}): fix it in Setup, Custom Settings"
    if not preferences.live_sync:
        return f"{SETTING}.{LIVE_SYNC} is off (Setup, Custom Settings)"
    return None


class LiveSwitch:
    """The gate's holds with the admin's preferences applied (see the module docstring)."""

    def __init__(self, preferences: PreferencesReader, store: HoldStore) -> None:
        self._preferences = preferences
        self._store = store

    def holds(self, consistent: bool = False) -> list[Hold]:
        """Every hold in place after applying the preferences (empty: the gate is open)."""
        try:
            preferences: Preferences | None = self._preferences.current(retry_seconds=RETRY_SECONDS)
        except TransientSyncError as exc:
            _logger.warning("sync preferences unreadable, the live switch stays as it was: %s", exc)
            preferences = None
        holds = self._store.holds(consistent=consistent)
        if preferences is None:
            return holds
        placed = next((hold for hold in holds if hold.reason is HoldReason.LIVE_SWITCH), None)
        if placed is not None and placed.by != PLACED_BY:
            return holds  # placed by someone else: only they (or sfsync resume) release it
        others = [hold for hold in holds if hold.reason is not HoldReason.LIVE_SWITCH]
        note = switch_note(preferences)
        if note != (placed.note if placed else None):
            # Disagreement with the hold: a flip since this instance's reading, or another instance's stale one.
            note = switch_note(self._fresh(preferences))
        if note is None:
            if placed is not None:
                self._store.release(HoldReason.LIVE_SWITCH, automatic=True)
                _logger.info("live sync on in the Salesforce preferences: live_switch hold released")
            return others
        if placed is None or placed.note != note:
            self._store.place(HoldReason.LIVE_SWITCH, by=PLACED_BY, note=note)
            _logger.info("sync held by the Salesforce preferences: %s", note)
            placed = Hold(HoldReason.LIVE_SWITCH, by=PLACED_BY, note=note)
        return [*others, placed]

    def _fresh(self, kept: Preferences) -> Preferences:
        try:
            return self._preferences.current(max_age_seconds=RECHECK_SECONDS)
        except TransientSyncError:
            return kept  # unreachable: act on the kept reading (what the worker would do without the hold)
