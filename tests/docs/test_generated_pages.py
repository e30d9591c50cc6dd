"""The generated reference pages: current, and a drift in their sources fails (``python -m devtools.docs``)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from devtools.docs import catalogue, environment, layout, pages, template_ref
from devtools.local_runtime.processes import REPO_ROOT
from ops import glossary
from shared import settings

RUNBOOK = REPO_ROOT / "docs" / "operate" / "alarms.md"


def test_every_generated_page_is_what_its_generator_writes_now() -> None:
    # Given the committed pages under docs/reference/ and what the code produces now
    stale = pages.stale()
    # Then none differs: a changed setting, parameter, alarm, outcome, command or marked test was regenerated
    assert [str(path.relative_to(REPO_ROOT)) for path in stale] == [], "run: .venv/bin/python -m devtools.docs"


def test_a_settings_field_added_without_a_description_fails_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker setting added without description= (what a developer forgets)
    class Drifted(settings.WorkerSettings):
        new_knob: int = Field(default=1, alias="NEW_KNOB")

    monkeypatch.setitem(environment.READERS, Drifted, "sync_worker")
    # When the environment page is generated
    # Then it refuses, naming the variable, so `make test` fails until the field is documented
    with pytest.raises(environment.UndocumentedSetting, match="NEW_KNOB"):
        environment.page()


def test_every_variable_the_template_sets_is_a_documented_setting() -> None:
    # Given the variables template.yaml sets on each function
    known = {row[0] for row in environment.variables()} | set(environment.POWERTOOLS)
    # Then each is read (and documented) by a settings model
    assert [name for _, name, _ in environment.template_rows() if name not in known] == []


def _with_extra_alarm(template: dict[str, Any]) -> dict[str, Any]:
    resources = dict(template["Resources"])
    resources["QueueAgeAlarm"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmDescription": "The oldest message is older than an hour.", "MetricName": "Age"},
    }
    return {**template, "Resources": resources}


def test_an_alarm_added_to_the_template_makes_the_committed_page_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an alarm added to template.yaml
    original = template_ref.load_template()
    monkeypatch.setattr(template_ref, "load_template", lambda: _with_extra_alarm(original))
    # When the template page is generated
    text = template_ref.page()
    # Then it lists the new alarm, linked to its runbook section, and so differs from the committed page
    assert "[`QueueAgeAlarm`](../operate/alarms.md#queueagealarm)" in text
    assert (REPO_ROOT / "docs" / "reference" / "template.md").read_text() != text.rstrip("\n") + "\n"


def test_every_alarm_the_template_creates_has_a_runbook_section() -> None:
    # Given the template's CloudWatch alarms
    alarms = [name for name, _ in template_ref.alarms()]
    # Then the runbook has a section for each (what it means, what to check, what to do), so an admin who
    # gets the e-mail can look it up
    runbook = RUNBOOK.read_text()
    assert alarms and [name for name in alarms if f"\n## {name}\n" not in runbook] == []
    for name in alarms:
        section = runbook.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert "**Means**" in section and "**Check**" in section and "**Do**" in section, name


def test_a_metric_added_without_a_catalogue_entry_fails_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the code publishing a metric the catalogue does not explain
    emitted = catalogue.emitted_metrics()
    monkeypatch.setattr(catalogue, "emitted_metrics", lambda: emitted | {"new_counter"})
    # Then the glossary page can't be generated
    with pytest.raises(catalogue.UncataloguedMessage, match="new_counter"):
        catalogue.page()


def test_the_catalogue_finds_the_receivers_faults_and_metrics_in_the_code() -> None:
    # Then the scan sees what the receiver really answers and counts (a scan that finds nothing proves nothing)
    faults = dict((text, status) for status, text in catalogue.receiver_faults())
    assert faults["missing or wrong token"] == 401 and faults["organization not allowed"] == 403
    assert faults["body larger than … bytes"] == 413
    assert {"writeback_error", "field_warning", "rejected_message"} <= catalogue.emitted_metrics()


def test_the_glossary_page_holds_the_glossary_word_for_word() -> None:
    # Given the glossary page of the site
    text = (REPO_ROOT / "docs" / "reference" / "glossary.md").read_text()
    # Then it holds the glossary's tables (the words sfsync --help and make run print) exactly
    for table in glossary.markdown_table().split("\n\n"):
        assert table in text


def test_a_top_level_entry_nobody_describes_fails_the_layout_page(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a new top-level folder in the repository that the layout page does not describe
    tracked = layout.tracked_top_level()
    monkeypatch.setattr(layout, "tracked_top_level", lambda: tracked | {"scripts"})
    # Then the layout page can't be generated until it is described
    with pytest.raises(layout.UndescribedEntry, match="scripts"):
        layout.page()
