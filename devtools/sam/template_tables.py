"""Create the DynamoDB tables (and SQS queues) of ``template.yaml`` in a local emulator.

Tests and local runs build their tables from the template's own definitions, so the key schema used in
tests can't drift from what is deployed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from devtools.local_runtime.processes import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"


class _TemplateLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation's short-form intrinsics (!Ref, !Sub, ...) as plain data."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)  # type: ignore[arg-type]
    return {f"Fn::{tag_suffix}" if tag_suffix != "Ref" else "Ref": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a dict, intrinsics kept as ``{"Ref": ...}`` / ``{"Fn::X": ...}``."""
    with path.open() as handle:
        return yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass


def table_definition(logical_id: str, table_name: str, path: Path = TEMPLATE) -> dict[str, Any]:
    """CreateTable arguments for the template's table ``logical_id``, under the given name."""
    props = load_template(path)["Resources"][logical_id]["Properties"]
    definition: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in props:
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return definition


def create_table(client: Any, logical_id: str, table_name: str) -> str:
    """Create the table from the template (TTL is skipped: dynalite rejects UpdateTimeToLive)."""
    client.create_table(**table_definition(logical_id, table_name))
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.05})
    return table_name


def queue_attributes(logical_id: str, path: Path = TEMPLATE) -> dict[str, str]:
    """SQS attributes of the template's queue that a local queue should share (visibility, retention)."""
    props = load_template(path)["Resources"][logical_id]["Properties"]
    names = ("VisibilityTimeout", "MessageRetentionPeriod")
    return {name: str(props[name]) for name in names if name in props}


def parameter_default(name: str, path: Path = TEMPLATE) -> Any:
    """The template parameter's ``Default`` (e.g. ``StripeRequestsPerSecondPerWorker`` → 4)."""
    return load_template(path)["Parameters"][name]["Default"]


def function_memory_mb(logical_id: str | None = None, path: Path = TEMPLATE) -> int:
    """The memory a function is billed for (MB): its own ``MemorySize``, else ``Globals.Function.MemorySize``
    (every function's without ``logical_id``)."""
    template = load_template(path)
    own = template["Resources"][logical_id]["Properties"].get("MemorySize") if logical_id else None
    return int(own if own is not None else template["Globals"]["Function"]["MemorySize"])
