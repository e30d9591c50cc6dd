"""The `make run` and `make serve` samples in the docs are what they print today (ids, durations, ports aside)."""

from __future__ import annotations

import difflib

import pytest

from devtools.docs.make_run import SAMPLE, SERVE_SAMPLE, normalise, run_demo, serve_until_ready

pytestmark = pytest.mark.integration


def test_the_docs_make_run_sample_is_what_make_run_prints_now() -> None:
    # When the demo runs, as `make run` runs it
    result = run_demo()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # Then its output, with per-run ids, durations and ports set aside, is the sample the docs include
    fresh, sample = normalise(result.stdout).splitlines(), normalise(SAMPLE.read_text()).splitlines()
    diff = "\n".join(difflib.unified_diff(sample, fresh, "docs sample", "make run now", lineterm="", n=0))
    assert fresh == sample, f"run: .venv/bin/python -m devtools.docs --make-run\n{diff}"


def test_the_docs_make_serve_sample_is_what_make_serve_prints_now() -> None:
    # When make serve starts (and is stopped with Ctrl-C once it says it is up)
    fresh = normalise(serve_until_ready()).splitlines()
    # Then what it printed, per-run values aside, is the sample the docs include
    sample = normalise(SERVE_SAMPLE.read_text()).splitlines()
    diff = "\n".join(difflib.unified_diff(sample, fresh, "docs sample", "make serve now", lineterm="", n=0))
    assert fresh == sample, f"run: .venv/bin/python -m devtools.docs --make-run\n{diff}"


def test_normalise_sets_aside_only_what_differs_per_run() -> None:
    # Given two lines of two runs that differ only in ids and timing, and one that differs in what happened
    first = "Muster GmbH  cus_FBcIkv8xdLbBY8  stale [1]\nThe run took 16.1 s. 001mU0000000009QAA ?token=5498cd"
    second = "Muster GmbH  cus_u42U9dmwsCSxqw  stale [1]\nThe run took 19.4 s. 001Mc000000000KIAQ ?token=e256f4"
    changed = "Muster GmbH  cus_u42U9dmwsCSxqw  updated\nThe run took 19.4 s. 001Mc000000000KIAQ ?token=e256f4"
    # Then the first two compare equal and the third does not
    assert normalise(first) == normalise(second) != normalise(changed)
