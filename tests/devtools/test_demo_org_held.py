"""``make org`` on a paused stack: the gate's parked batch is reported as held, not as a missing result."""

from __future__ import annotations

import json
import time
from pathlib import Path

from devtools.demo.org import held_reasons, wait_for_results


def test_a_parked_batch_is_reported_held_at_once_instead_of_waiting_for_a_result(tmp_path: Path) -> None:
    # Given the worker's log after a change: the gate parked its batch (an admin unticked Live Sync)
    log = tmp_path / "run.log"
    log.write_text("starting\n")
    offset = log.stat().st_size
    with log.open("a") as out:
        out.write(json.dumps({"message": "batch held", "holds": "live_switch", "parked": 1}) + "\n")
    # When make org waits for the account's result
    started = time.monotonic()
    results = wait_for_results(log, offset, "001000000000001AAA", timeout=10)
    # Then it stops waiting at once and names the hold; nothing before the offset counts
    assert results == [] and time.monotonic() - started < 5
    assert held_reasons(log, offset) == ["live_switch"]
    assert held_reasons(log, log.stat().st_size) == []
