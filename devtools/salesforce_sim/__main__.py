"""CLI: `python -m devtools.salesforce_sim --port 0` prints one JSON line (instance_url, ca_bundle_path,
org_id) and serves until SIGINT/SIGTERM. Drive it through the /_sim/ control API."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .simulator import SalesforceSimulator


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devtools.salesforce_sim", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--org-id", default=None, help="18-char 00D… org id (random when omitted)")
    parser.add_argument("--state-country-picklists", action="store_true", help="add Billing/ShippingStateCode…")
    parser.add_argument(
        "--user", action="append", default=[], metavar="USERNAME:PASSWORD[:TOKEN]", help="add a login user"
    )
    parser.add_argument(
        "--connected-app", action="append", default=[], metavar="KEY:SECRET", help="client credentials app"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sim = SalesforceSimulator(port=args.port, org_id=args.org_id, state_country_picklists=args.state_country_picklists)
    for spec in args.user:
        username, password, token = [*spec.split(":", 2), "", ""][:3]
        sim.add_user(username, password, token)
    for spec in args.connected_app:
        key, _, secret = spec.partition(":")
        sim.add_connected_app(key, secret or None)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    sim.start()
    try:
        print(json.dumps(sim.info()), flush=True)
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
