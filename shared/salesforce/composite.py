"""One Composite request for a batch's writes: the account write-back and the sync history together.

Salesforce REST API Developer Guide, "Send Multiple Requests Using Composite"
(https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html):
``POST /services/data/vXX.X/composite`` with ``{"allOrNone": false, "compositeRequest": [...]}``; "the entire
series of requests counts as a single call toward your API limits"; up to 25 subrequests, up to 5 of them
sObject Collections or query operations; each subrequest may carry its own ``httpHeaders``. The answer holds
one ``{"body", "httpHeaders", "httpStatusCode", "referenceId"}`` per subrequest, in order. An sObject
Collections subrequest (≤ 200 records, its own ``allOrNone: false``) answers per record
(``{"id", "success", "errors": [{"statusCode", "message"}]}``), so one refused account or history record
costs only itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

COLLECTION_RECORDS = 200  # records per sObject Collections subrequest
COLLECTIONS_PER_COMPOSITE = 5  # sObject Collections (or query) subrequests per Composite request
_ACCOUNTS = "accounts"
_HISTORY = "history"


@dataclass(frozen=True)
class Subrequest:
    """One sObject Collections subrequest: which records (``kind`` accounts or history) it carries."""

    reference_id: str
    kind: str
    records: Sequence[dict[str, Any]]


@dataclass
class CompositePlan:
    """The Composite request bodies for a batch (usually one: ≤ 5 × 200 records)."""

    bodies: list[dict[str, Any]] = field(default_factory=list)
    subrequests: list[list[Subrequest]] = field(default_factory=list)


def plan(
    version: str,
    updates: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]],
    account_headers: dict[str, str],
) -> CompositePlan:
    """Account updates (PATCH, with ``account_headers``) then history inserts (POST), ≤ 5 subrequests a body."""
    url = f"/services/data/v{version}/composite/sobjects"
    subrequests = [
        Subrequest(f"{kind}{index}", kind, records[start : start + COLLECTION_RECORDS])
        for kind, records in ((_ACCOUNTS, list(updates)), (_HISTORY, list(history)))
        for index, start in enumerate(range(0, len(records), COLLECTION_RECORDS))
    ]
    result = CompositePlan()
    for start in range(0, len(subrequests), COLLECTIONS_PER_COMPOSITE):
        group = subrequests[start : start + COLLECTIONS_PER_COMPOSITE]
        result.subrequests.append(group)
        result.bodies.append(
            {
                "allOrNone": False,
                "compositeRequest": [
                    {
                        "method": "PATCH" if sub.kind == _ACCOUNTS else "POST",
                        "url": url,
                        "referenceId": sub.reference_id,
                        "body": {
                            "allOrNone": False,
                            "records": [
                                {"attributes": {"type": "Account"}, **r} if sub.kind == _ACCOUNTS else r
                                for r in sub.records
                            ],
                        },
                        **({"httpHeaders": account_headers} if sub.kind == _ACCOUNTS else {}),
                    }
                    for sub in group
                ],
            }
        )
    return result


@dataclass
class CompositeAnswer:
    """Per subrequest kind, each record's result (``None`` = written, else the per-record error dict), and the
    subrequests refused as a whole (their ``[{"errorCode", "message"}]`` body) by kind."""

    accounts: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    history: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    refused: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def read_answer(group: Sequence[Subrequest], response: Any, answer: CompositeAnswer) -> None:
    """Add one Composite response's results to ``answer`` (subrequests matched by ``referenceId``)."""
    by_reference = {item.get("referenceId"): item for item in (response or {}).get("compositeResponse") or [] if item}
    for sub in group:
        item = by_reference.get(sub.reference_id) or {}
        body = item.get("body")
        target = answer.accounts if sub.kind == _ACCOUNTS else answer.history
        if int(item.get("httpStatusCode") or 0) >= 300 or not isinstance(body, list) or len(body) != len(sub.records):
            error = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
            answer.refused.setdefault(sub.kind, []).append(error)
            target.extend((record, _whole(error)) for record in sub.records)
            continue
        for record, result in zip(sub.records, body, strict=True):
            errors = result.get("errors") or [] if isinstance(result, dict) else []
            ok = isinstance(result, dict) and result.get("success")
            target.append((record, None if ok else (errors[0] if errors else {"statusCode": "UNKNOWN_ERROR"})))


def _whole(error: dict[str, Any]) -> dict[str, Any]:
    """A subrequest refused as a whole, as the error of each of its records."""
    return {"statusCode": error.get("errorCode") or error.get("statusCode") or "UNKNOWN_ERROR", **error}
