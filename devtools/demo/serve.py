"""``make serve``: the local stack left running until Ctrl-C, described in ``.local/stack.json``.

Point a Salesforce sandbox at ``outbound_message_url`` (through a tunnel), or POST messages yourself; the
worker polls the queue continuously. Environment variables switch parts to real services (README).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import warnings
from contextlib import redirect_stdout
from typing import Any

from devtools.demo.run import Demo
from devtools.local_runtime.processes import REPO_ROOT
from devtools.local_runtime.stack import LocalStack, StackOptions

STATE_DIR = REPO_ROOT / ".local"
STACK_JSON = STATE_DIR / "stack.json"
LOG_PATH = STATE_DIR / "serve.log"


def main() -> int:
    """Start, seed the simulator's demo org, write stack.json, run until SIGINT/SIGTERM, stop cleanly."""
    out = sys.stdout
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    warnings.filterwarnings("ignore", "No application metrics to publish")
    STATE_DIR.mkdir(exist_ok=True)
    with LOG_PATH.open("w") as log, redirect_stdout(log), LocalStack(StackOptions.from_env()) as stack:
        if stack.sim is not None:
            Demo(stack, out).seed()
        stack.start_polling()
        info: dict[str, Any] = {**stack.info, "log_file": str(LOG_PATH)}
        STACK_JSON.write_text(json.dumps(info, indent=2) + "\n")
        print(f"Local stack is up; details in {STACK_JSON.relative_to(REPO_ROOT)}:", file=out)
        for key in ("outbound_message_url", "stripe_api_base", "salesforce_instance_url", "organization_id"):
            print(f"  {key:<24} {info[key]}", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        stop.wait()
        print("Stopping …", file=out, flush=True)
    STACK_JSON.unlink(missing_ok=True)
    print("Stopped every process.", file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
