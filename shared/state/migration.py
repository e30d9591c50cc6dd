"""``sfsync migrate``: rewrite every account item an earlier release wrote in the current shape, at once.

Items migrate lazily as the sync writes them (``shared.state.state_version``); an account that never changes
again would keep an earlier release's values in clear. This sweep finds those items (one Scan of the state
table for ``applied_fields``) and rewrites each with one conditional update: only if nobody wrote it since it
was read (``updated_at`` unchanged) and no sync holds its lease — otherwise that sync migrates it itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from shared.state.field_digests import FieldDigests
from shared.state.items import from_attr, to_attr_map
from shared.state.state_version import STATE_VERSION, V1_VALUES, migrate


@dataclass
class Swept:
    """How many earlier items were rewritten, and how many were left to the sync (written meanwhile)."""

    migrated: int = 0
    left: int = 0


def sweep(client: Any, table: str, digests: FieldDigests) -> Swept:
    """Rewrite every item that still holds applied values in clear; see the module docstring."""
    swept = Swept()
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "attribute_exists(#v1)",
        "ExpressionAttributeNames": {"#v1": V1_VALUES},
        "ConsistentRead": True,
    }
    while True:
        page = client.scan(**request)
        for item in page.get("Items", []):
            if _rewrite(client, table, item, digests):
                swept.migrated += 1
            else:
                swept.left += 1
        if "LastEvaluatedKey" not in page:
            return swept
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _rewrite(client: Any, table: str, item: dict[str, Any], digests: FieldDigests) -> bool:
    data = migrate({k: from_attr(v) for k, v in item.items()}, digests)
    values: dict[str, Any] = {
        ":f": {"M": to_attr_map(data["field_digests"])},
        ":sv": {"N": str(STATE_VERSION)},
        ":now": {"N": str(int(time.time() * 1000))},
    }
    update = "SET field_digests = :f, state_version = :sv"
    if data.get("params_hash"):
        values[":h"] = {"S": data["params_hash"]}
        update += ", params_hash = :h"
    unchanged = "attribute_not_exists(updated_at)"
    if "updated_at" in item:
        values[":u"] = item["updated_at"]
        unchanged = "updated_at = :u"
    try:
        client.update_item(
            TableName=table,
            Key={"pk": item["pk"]},
            UpdateExpression=f"{update} REMOVE {V1_VALUES}",
            ConditionExpression=f"{unchanged} AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return False
    return True
