"""docs/reference/metrics-and-alarms.md lists every alarm of the template and every metric of the code, priced."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from devtools.docs import cost_ref
from devtools.sam.template_tables import load_template


def _with_alarm(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    template["Resources"][name] = {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}
    return template


def test_every_alarm_of_the_template_is_listed_with_its_price() -> None:
    # Given the template as it is, and the page made from it
    template = load_template()
    page = cost_ref.page(template)
    alarms = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    # Then each alarm has its row with a monthly price, and the count in the text is the template's
    for name in alarms:
        assert re.search(rf"^\| `{name}` \| .* \| \$\d+\.\d\d \|$", page, re.MULTILINE), name
    assert f"{len(alarms)} alarms" in page


def test_an_alarm_added_to_the_template_appears_priced_per_metric_it_evaluates() -> None:
    # Given an alarm added with metric math over two AWS metrics (what another change might add)
    query = {"MetricStat": {"Metric": {"Namespace": "AWS/SQS", "MetricName": "NumberOfMessagesSent"}, "Period": 300}}
    template = _with_alarm("ExtraMathAlarm", {"Metrics": [{"Id": "a", **query}, {"Id": "b", **query}]})
    # When the page is made
    page = cost_ref.page(template)
    # Then it lists the new alarm at $0.10 for each of its two metrics
    assert re.search(r"^\| `ExtraMathAlarm` \| .* \| \$0\.20 \|$", page, re.MULTILINE)


def test_an_alarm_on_a_metric_the_code_never_publishes_fails_the_page() -> None:
    # Given an alarm on a custom metric no code publishes (it would never fire: a guarantee lost unseen)
    template = _with_alarm(
        "GhostAlarm", {"Namespace": cost_ref.NAMESPACE, "MetricName": "renamed_long_ago", "Period": 300}
    )
    # When the page is made; Then it refuses, naming the metric, so make docs-check and make test fail
    with pytest.raises(cost_ref.UnlistedMetric, match="renamed_long_ago"):
        cost_ref.page(template)


def test_every_custom_metric_the_alarms_watch_is_listed_with_its_alarm() -> None:
    # Given the template's alarms on the sync's own namespace
    template = load_template()
    watched = {
        (name, metric)
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for namespace, metric in cost_ref.alarm_metrics(r)
        if namespace == cost_ref.NAMESPACE
    }
    page = cost_ref.page(template)
    # Then each metric's row names its alarm: the consolidation of metrics kept every alarm's metric
    for alarm, metric in watched:
        assert re.search(rf"^\| `{metric}` \| .*`{alarm}`", page, re.MULTILINE), metric
