"""``python -m devtools.docs [--check] [--make-run]``: write (or check) the generated pages under docs/reference/.

``--check`` changes nothing and exits 1 naming each stale page. ``--make-run`` also runs ``make run`` (the
demo, about a minute) and ``make serve`` (until it is up) and writes what they print to
``docs/reference/make-run.txt`` and ``make-serve.txt``, which the docs include.
"""

from __future__ import annotations

import argparse
import sys

from devtools.docs import make_run, pages
from devtools.local_runtime.processes import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when every page is current (or was written), 1 when ``--check`` found stale ones."""
    args = argparse.ArgumentParser(prog="python -m devtools.docs", description=__doc__.split("\n\n")[0])
    args.add_argument("--check", action="store_true", help="only compare; exit 1 when a page is stale")
    args.add_argument("--make-run", action="store_true", help="also rerun make run and make serve for their samples")
    options = args.parse_args(argv)
    try:
        return _run(options)
    except ValueError as error:  # a source the docs can't describe (undocumented setting, uncatalogued metric…)
        print(f"error: {error}", file=sys.stderr)
        return 1


def _run(options: argparse.Namespace) -> int:
    if options.check:
        stale = pages.stale()
        for path in stale:
            print(f"stale: {path.relative_to(REPO_ROOT)} (run python -m devtools.docs)", file=sys.stderr)
        return 1 if stale else 0
    for path in pages.write():
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    if options.make_run:
        for path in make_run.write():
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
