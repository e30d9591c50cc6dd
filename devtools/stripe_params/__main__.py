"""CLI: ``python -m devtools.stripe_params [--check]``."""

from __future__ import annotations

import argparse
import json
import sys

from devtools.stripe_params.generate import OUTPUT_PATH, generate, render


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the customer params schema of the pinned SDK's API version."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_params", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is out of date")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        current = OUTPUT_PATH.read_text(encoding="utf-8") if OUTPUT_PATH.exists() else ""
        if current != text:
            print(f"{OUTPUT_PATH} is out of date: run python -m devtools.stripe_params", file=sys.stderr)
            return 1
        return 0
    OUTPUT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT_PATH} (api_version {json.loads(text)['api_version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
