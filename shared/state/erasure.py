"""Erase what the stack's tables hold about accounts (``sfsync forget``), and say what is left elsewhere.

Per account: its state item (customer id, versions, field digests, warnings, a pending create's params if a
create never finished), its entries in the contact index, and the idempotency records whose stored result
names it (Powertools keeps the key only as a digest, so the records are found by their stored result, one
Scan of a table whose records expire after ``IDEMPOTENCY_EXPIRY_SECONDS``).

What the stack can't erase is listed by ``NOT_ERASED``: an operator handles those by their own processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from shared.state.account_item import contact_key, state_key
from shared.state.items import from_attr

# Where data about an account may still be after ``forget``, and for how long (template.yaml's settings).
NOT_ERASED = (
    "Stripe: the customer and its history (the sync never deletes a customer: delete or redact it in Stripe, "
    "https://docs.stripe.com/privacy)",
    "Salesforce: the account and its contacts",
    "CloudWatch Logs: log lines naming the account id (no values: logs are redacted) until "
    "FunctionLogRetentionDays (default 30 days)",
    "DynamoDB point-in-time backups of the state and idempotency tables: up to 35 days "
    "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html)",
    "SQS: messages of the sync, held and dead-letter queues naming the account id until processed or expired "
    "(4 days; held and dead-letter queues 14 days)",
)


@dataclass
class Erased:
    """What ``forget`` removed for one account (counts of items) and what it could not (``skipped``)."""

    account_id: str
    state_items: int = 0
    contact_entries: int = 0
    idempotency_records: int = 0
    skipped: list[str] = field(default_factory=list)


class Eraser:
    """Deletes an account's items from the state table and its idempotency records (``client``: DynamoDB)."""

    def __init__(self, client: Any, state_table: str, idempotency_table: str | None) -> None:
        self._client = client
        self._state = state_table
        self._idempotency = idempotency_table

    def forget(self, org_id: str, account_ids: list[str]) -> list[Erased]:
        """Erase each account; one Scan of the idempotency table for all of them."""
        erased = [self._forget_state(org_id, account_id) for account_id in account_ids]
        if self._idempotency:
            found = self._idempotency_records(set(account_ids))
            for entry in erased:
                entry.idempotency_records = self._delete_records(found.get(entry.account_id, []))
        return erased

    def _forget_state(self, org_id: str, account_id: str) -> Erased:
        erased = Erased(account_id)
        key = {"pk": {"S": state_key(org_id, account_id)}}
        response = self._client.get_item(TableName=self._state, Key=key, ConsistentRead=True)
        item = response.get("Item")
        if item is None:
            return erased
        try:
            # Not while a sync holds the lease: its commit would write the item again. Run forget again later.
            self._client.delete_item(
                TableName=self._state,
                Key=key,
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now",
                ExpressionAttributeValues={":now": {"N": str(int(time.time() * 1000))}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            erased.skipped.append("a sync is running for this account: run sfsync forget again in 2 minutes")
            return erased
        erased.state_items = 1
        for contact_id in from_attr(item.get("contact_ids", {"L": []})):
            erased.contact_entries += self._drop_from_contact(org_id, contact_id, account_id)
        return erased

    def _drop_from_contact(self, org_id: str, contact_id: str, account_id: str) -> int:
        key = {"pk": {"S": contact_key(org_id, contact_id)}}
        self._client.update_item(
            TableName=self._state,
            Key=key,
            UpdateExpression="DELETE account_ids :a",
            ExpressionAttributeValues={":a": {"SS": [account_id]}},
        )
        try:  # the contact feeds no other customer: its index item goes too
            self._client.delete_item(
                TableName=self._state, Key=key, ConditionExpression="attribute_not_exists(account_ids)"
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return 1

    def _idempotency_records(self, account_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Keys of the idempotency records whose stored result names one of ``account_ids``, by account."""
        found: dict[str, list[dict[str, Any]]] = {}
        request: dict[str, Any] = {"TableName": self._idempotency, "ProjectionExpression": "id, #d"}
        request["ExpressionAttributeNames"] = {"#d": "data"}
        while True:
            page = self._client.scan(**request)
            for item in page.get("Items", []):
                data = item.get("data", {}).get("S", "")
                for account_id in account_ids:
                    if f'"{account_id}"' in data:
                        found.setdefault(account_id, []).append({"id": item["id"]})
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete_records(self, keys: list[dict[str, Any]]) -> int:
        for key in keys:
            self._client.delete_item(TableName=self._idempotency, Key=key)
        return len(keys)
