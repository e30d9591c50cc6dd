"""The emulator's clock: wall time plus an offset tests can move forward.

Stripe behaviour that depends on time — idempotency keys pruned after 24 hours, search results that lag
writes, a customer's ``created`` timestamp and the ``created`` list filter — reads this clock, so a test can
jump a day ahead (``StripeEmulator.advance_clock(25 * 3600)``) without waiting.
"""

from __future__ import annotations

import threading
import time


class EmulatorClock:
    """Seconds since the epoch (float), ``time.time()`` shifted by what :meth:`advance` added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back: Stripe's time does not run backwards)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
