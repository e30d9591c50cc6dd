"""GAP_OVERFLOW change events raise an alarm: their changes reach Stripe only through the reconcile.

Change Data Capture Developer Guide, "Gap Events and Overflow Events": a transaction with more changes than
Change Data Capture publishes yields one overflow event per entity, with no record ids.
"""

from __future__ import annotations

from pathlib import Path

from devtools.sam.template_tables import load_template
from shared.salesforce.change_events import GAP_OVERFLOW

TEMPLATE = load_template(Path(__file__).resolve().parents[2] / "template.yaml")


def test_overflow_events_counted_by_the_platform_event_function_raise_an_alarm() -> None:
    # Given the metric the platform-event function counts for an overflow event, under its namespace and service
    alarm = TEMPLATE["Resources"]["GapOverflowAlarm"]["Properties"]
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    # Then one such event notifies the alarm topic, and the alarm tells the operator what to run
    assert alarm["MetricName"] == GAP_OVERFLOW
    assert alarm["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": variables["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert {"Ref": "AlarmTopic"} in alarm["AlarmActions"]
    assert "sfsync reconcile" in alarm["AlarmDescription"]
