"""CLI: ``python -m devtools.stripe_params [--check]``."""

from __future__ import annotations

import argparse
import json

from devtools.generated_file import write_or_check
from devtools.stripe_params.generate import OUTPUT_PATH, generate, render


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the customer params schema of the pinned SDK's API version."""
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_params", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is out of date")
    args = parser.parse_args(argv)
    text = render(generate())
    status = write_or_check(OUTPUT_PATH, text, command="devtools.stripe_params", check=args.check)
    if not args.check:
        print(f"wrote {OUTPUT_PATH} (api_version {json.loads(text)['api_version']})")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
