"""docs/reference/template.md: the template's parameters, alarms and outputs, from ``template.yaml``.

Each parameter's ``Description``, ``Default`` and allowed values; the environment variable it becomes (found
in the functions' ``Environment``); each alarm's ``AlarmDescription`` and the metric it watches, linked to its
runbook section in ``docs/operate/alarms.md`` (``#alarmname``, lower case); the stack's outputs.
"""

from __future__ import annotations

from typing import Any

from devtools.docs.environment import _refs
from devtools.docs.markdown import code, header, table
from devtools.sam.template_tables import load_template


def parameter_variables(template: dict[str, Any]) -> dict[str, list[str]]:
    """Parameter name → the environment variables whose value is drawn from it."""
    found: dict[str, list[str]] = {}
    envs = [template["Globals"]["Function"].get("Environment", {}).get("Variables", {})]
    envs += [
        resource["Properties"].get("Environment", {}).get("Variables", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    for env in envs:
        for variable, value in env.items():
            for ref in _refs(value):
                if ref in template["Parameters"] and variable not in found.setdefault(ref, []):
                    found[ref].append(variable)
    return found


def alarms(template: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(logical id, properties)`` of every CloudWatch alarm, in template order."""
    template = template or load_template()
    return [
        (name, resource["Properties"])
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]


def _allowed(spec: dict[str, Any]) -> str:
    if "AllowedValues" in spec:
        return ", ".join(code(value) for value in spec["AllowedValues"])
    limits = [f"{key.removesuffix('Value').lower()} {spec[key]}" for key in ("MinValue", "MaxValue") if key in spec]
    return "; ".join(limits)


def _metric(props: dict[str, Any]) -> str:
    dimensions = ", ".join(str(d.get("Name")) for d in props.get("Dimensions", []))
    where = f" by {dimensions}" if dimensions else ""
    comparison = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": "≥"}.get(
        props.get("ComparisonOperator", ""), props.get("ComparisonOperator", "")
    )
    return (
        f"`{props.get('Namespace')}` `{props.get('MetricName')}`{where}: {props.get('Statistic')} "
        f"{comparison} {props.get('Threshold')} over {props.get('Period')} s"
    )


def page() -> str:
    """The whole page."""
    template = load_template()
    variables = parameter_variables(template)
    parameter_rows = [
        (
            f"`{name}`",
            code(spec.get("Default")) if "Default" in spec else "required",
            _allowed(spec),
            " ".join(str(spec.get("Description", "")).split()),
            ", ".join(f"`{v}`" for v in variables.get(name, [])) or "—",
        )
        for name, spec in template["Parameters"].items()
    ]
    alarm_rows = [
        (f"[`{name}`](../operate/alarms.md#{name.lower()})", props.get("AlarmDescription", ""), _metric(props))
        for name, props in alarms(template)
    ]
    output_rows = [
        (f"`{name}`", " ".join(str(spec.get("Description", "")).split()))
        for name, spec in template.get("Outputs", {}).items()
    ]
    return "\n".join(
        [
            header(
                "Template parameters, alarms and outputs",
                "`template.yaml`",
                "What `sam deploy --guided` asks, in this order; each parameter becomes the environment variables "
                "named (see [Environment variables](environment.md)); the stack sets the queue, table and token "
                "variables itself.",
            ),
            table(["parameter", "default", "allowed", "meaning", "variables"], parameter_rows),
            "",
            "## Alarms",
            "",
            "Every alarm notifies the SNS topic `AlarmTopicArn` (the `AlarmEmail` parameter subscribes an "
            "address). What to do when one fires: [Alarms runbook](../operate/alarms.md).",
            "",
            table(["alarm", "means", "fires on"], alarm_rows),
            "",
            "## Outputs",
            "",
            table(["output", "what it is"], output_rows),
            "",
        ]
    )
