"""One glossary of the words the sync reports: complete, unambiguous, and the same in the docs and --help.

The docs' copy is generated from it: tests/docs/test_generated_pages.py.
"""

from __future__ import annotations

from ops import glossary
from ops.cli import parser
from shared.reconcile import Verdict
from shared.sync import Outcome


def test_every_outcome_and_verdict_is_explained() -> None:
    # Given the worker's outcomes (plus duplicates, which it counts) and reconcile's verdicts
    # Then each has exactly one entry in the glossary
    assert set(glossary.OUTCOMES) == {o.value for o in Outcome} | {"duplicate"}
    assert set(glossary.VERDICTS) == {v.value for v in Verdict}


def test_no_word_means_two_things() -> None:
    # Then an outcome and a verdict never share a word (the worker's "stale" and reconcile's used to mean
    # opposites: an older event with nothing to do, and a customer that needs a sync)
    assert set(glossary.OUTCOMES).isdisjoint(glossary.VERDICTS)


def test_sfsync_help_ends_with_the_glossary() -> None:
    help_text = parser().format_help()
    for word in (*glossary.OUTCOMES, *glossary.VERDICTS):
        assert f"  {word} " in help_text
