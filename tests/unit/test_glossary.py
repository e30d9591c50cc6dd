"""One glossary of the words the sync reports: complete, unambiguous, and the same in README and --help."""

from __future__ import annotations

from pathlib import Path

from ops import glossary
from ops.cli import parser
from shared.reconcile import Verdict
from shared.sync import Outcome

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_outcome_and_verdict_is_explained() -> None:
    # Given the worker's outcomes (plus duplicates, which it counts) and reconcile's verdicts
    # Then each has exactly one entry in the glossary
    assert set(glossary.OUTCOMES) == {o.value for o in Outcome} | {"duplicate"}
    assert set(glossary.VERDICTS) == {v.value for v in Verdict}


def test_no_word_means_two_things() -> None:
    # Then an outcome and a verdict never share a word (the worker's "stale" and reconcile's used to mean
    # opposites: an older event with nothing to do, and a customer that needs a sync)
    assert set(glossary.OUTCOMES).isdisjoint(glossary.VERDICTS)


def test_readme_holds_the_glossary_word_for_word() -> None:
    # Given README's "Glossary" section
    text = README.read_text()
    # Then it holds the glossary's tables exactly
    assert glossary.markdown_table() in text


def test_sfsync_help_ends_with_the_glossary() -> None:
    help_text = parser().format_help()
    for word in (*glossary.OUTCOMES, *glossary.VERDICTS):
        assert f"  {word} " in help_text
