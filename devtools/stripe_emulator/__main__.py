"""CLI: ``python -m devtools.stripe_emulator --port 12111 [--api-key sk_test_x]``.

Prints the base URL, then serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading

from devtools.stripe_emulator.server import StripeEmulator


def main(argv: list[str] | None = None) -> int:
    """Start the emulator on 127.0.0.1, print its base URL and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=12111, help="port on 127.0.0.1 (0 = ephemeral)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any sk_test_...)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--timeout-seconds", type=float, default=2.0, help="hold time of timeout faults")
    args = parser.parse_args(argv)

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    emulator = StripeEmulator(port=args.port, api_key=args.api_key)
    emulator.latency = args.latency
    emulator.timeout_seconds = args.timeout_seconds
    emulator.start()
    print(emulator.base_url, flush=True)
    try:
        done.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
