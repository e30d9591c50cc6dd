"""Salesforce: the port the worker uses and its simple-salesforce adapter.

Reads are batched — one SOQL (``queryAll``, so merged-away and deleted accounts are seen as such) for all
accounts of a batch, with the latest activated order and the fields the mapping needs — and write-back uses
sObject Collections (≤ 200 records per call). Every REST call counts against the org's daily API limit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from shared.errors import TransientSyncError
from shared.salesforce import composite
from shared.salesforce.call_options import CALL_OPTIONS_HEADER
from shared.salesforce.failures import classify_failure, host_moved
from shared.salesforce.ids import to_18

_CHUNK = 200  # records per SOQL IN-list and per Collections call
# Per-record codes Salesforce documents as transient: the same write succeeds once the cause is gone.
# UNABLE_TO_LOCK_ROW: "unable to obtain exclusive access to this record" — another transaction (a Flow, a
# batch job, a Data Loader run) holds the row (SOAP API Developer Guide, StatusCode).
# INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE: read-only mode during a maintenance window (Salesforce
# Help, "Read-Only Mode Overview"); writes succeed again after it.
TRANSIENT_RECORD_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE"})
# Every write-back asks to save through duplicate rules that only *alert*: writing a customer id must not be
# refused because the account resembles another. Rules that *block* still refuse (REST API Developer Guide,
# "Duplicate Rule Header": allowSave "for a duplicate rule, when the Alert option is enabled").
DUPLICATE_RULE_HEADER = {"Sforce-Duplicate-Rule-Header": "allowSave=true"}
WRITE_BACK_HEADERS = {**DUPLICATE_RULE_HEADER, **CALL_OPTIONS_HEADER}
# What the admin must know about a permanent code beyond Salesforce's message.
_RECORD_ERROR_HINTS = {
    "DUPLICATES_DETECTED": "a duplicate rule that blocks saving refused it (allowSave=true only passes rules "
    "that alert): let the integration user bypass the rule, or merge the duplicates",
}


@dataclass(frozen=True)
class RecordError:
    """Salesforce's refusal of one record of a Collections call: its ``statusCode`` and message.

    Permanent codes (``FIELD_CUSTOM_VALIDATION_EXCEPTION`` from a validation rule,
    ``INSUFFICIENT_ACCESS_OR_READONLY``, ``ENTITY_IS_DELETED``, ``STRING_TOO_LONG``, ``DUPLICATE_VALUE``…)
    need a change in the org; ``transient`` ones are worth the same write again later.
    """

    status_code: str
    message: str = ""

    @property
    def transient(self) -> bool:
        return self.status_code in TRANSIENT_RECORD_ERRORS

    def __str__(self) -> str:
        hint = _RECORD_ERROR_HINTS.get(self.status_code)
        return f"{self.status_code}: {self.message}{f' — {hint}' if hint else ''}".strip()


@dataclass(frozen=True)
class WriteResult:
    """What one batch's write did: per account id None or Salesforce's refusal (as ``update_accounts``), and
    the refusals of history records (``shared.sync.history``), which cost only themselves."""

    accounts: dict[str, RecordError | None]
    history_refused: tuple[RecordError, ...] = ()


@dataclass(frozen=True)
class AccountQuery:
    """What to select: account fields and fields of the latest activated order (relative to Order).

    ``order_conditions``: SOQL conditions on Order ANDed to the activated one — the admin's start date and
    order filter (``shared.salesforce.preferences``): an order they exclude is no order to the sync.
    """

    account_fields: tuple[str, ...]
    order_fields: tuple[str, ...]
    order_conditions: tuple[str, ...] = ()


class SalesforceGateway(ABC):
    """What the worker needs from Salesforce."""

    @abstractmethod
    def read_accounts(self, account_ids: Sequence[str], query: AccountQuery) -> dict[str, dict[str, Any]]:
        """Current Account records by 18-char id, including deleted and merged-away ones."""

    @abstractmethod
    def order_accounts(self, order_ids: Sequence[str]) -> dict[str, str | None]:
        """The AccountId of each order (None when the order has none); missing orders are left out."""

    @abstractmethod
    def quote_accounts(self, quote_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """For each CPQ quote, the accounts with an activated order on it (quotes without one are left out)."""

    @abstractmethod
    def update_accounts(self, updates: Sequence[dict[str, Any]]) -> dict[str, RecordError | None]:
        """Write field values (``{"Id": ..., field: value}``); per account id: None or Salesforce's refusal."""

    def write_back(self, updates: Sequence[dict[str, Any]], history: Sequence[dict[str, Any]]) -> WriteResult:
        """Account updates and history inserts (``Stripe_Sync_Record__c``) in one API call.

        This default (gateways without the Composite resource) writes the accounts only.
        """
        return WriteResult(self.update_accounts(updates) if updates else {})


def soql_quote(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def with_version_fields(paths: Iterable[str]) -> list[str]:
    """``paths`` plus ``SystemModstamp`` of the record and of every relationship they pass through.

    A change to a related record (the primary contact's email) changes the customer without touching the
    account, so its SystemModstamp must be part of the version the engine compares.
    """
    result = {"SystemModstamp"}
    for path in paths:
        result.add(path)
        hops = path.split(".")[:-1]
        for depth in range(1, len(hops) + 1):
            result.add(".".join([*hops[:depth], "SystemModstamp"]))
    return sorted(result)


# An order counts as activated by its status *category*: orgs define their own Status values (e.g.
# "Provisioned", "Fulfilled") inside the category Activated, and StatusCode carries the category
# (Object Reference, Order: "StatusCode — the status category for the order").
ACTIVATED_ORDER = "StatusCode = 'Activated'"


def activated_order_condition(query: AccountQuery) -> str:
    """The WHERE condition on Order that selects the orders that count: activated, and the admin's conditions."""
    return " AND ".join((ACTIVATED_ORDER, *query.order_conditions))


def latest_activated_order_subquery(query: AccountQuery) -> str:
    """The ``Orders`` child subquery selecting an account's latest activated order.

    SOQL sorts nulls first by default, descending too, and returns ties in no fixed order (SOQL reference,
    ORDER BY): ``ActivatedDate`` is empty on migrated orders, so ``NULLS LAST`` keeps an undated old order
    from winning, and ``Id`` (unique) makes the choice between orders activated at the same moment stable.
    """
    order_fields = with_version_fields({"Id", *query.order_fields})
    return (
        f"(SELECT {', '.join(order_fields)} FROM Orders WHERE {activated_order_condition(query)}"
        " ORDER BY ActivatedDate DESC NULLS LAST, Id DESC LIMIT 1)"
    )


def account_select(query: AccountQuery) -> str:
    """``SELECT … FROM Account``: what a sync maps from an account (its fields, their SystemModstamps, and the
    latest activated order); the worker's read and reconcile's pages select the same."""
    account_fields = with_version_fields({"Id", "Name", "IsDeleted", "MasterRecordId", *query.account_fields})
    return f"SELECT {', '.join(account_fields)}, {latest_activated_order_subquery(query)} FROM Account"


def account_soql(account_ids: Sequence[str], query: AccountQuery) -> str:
    """The batched Account read with the latest activated order as a child subquery."""
    ids = ", ".join(soql_quote(account_id) for account_id in account_ids)
    return f"{account_select(query)} WHERE Id IN ({ids})"


class SimpleSalesforceGateway(SalesforceGateway):
    """``SalesforceGateway`` on simple-salesforce; the client is built lazily and rebuilt once when the login
    is refused, the host moved or the session expired (``shared.salesforce.failures``).

    ``fresh_client_factory`` builds the rebuilt client: the worker's re-reads the connection secret bypassing
    its cache (a rotated consumer secret or certificate); without it ``client_factory`` is used again.
    """

    def __init__(
        self, client_factory: Callable[[], Any], fresh_client_factory: Callable[[], Any] | None = None
    ) -> None:
        self._factory = client_factory
        self._fresh_factory = fresh_client_factory or client_factory
        self._client: Any = None

    def read_accounts(self, account_ids: Sequence[str], query: AccountQuery) -> dict[str, dict[str, Any]]:
        records: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(account_ids))):
            result = self._query_all(account_soql(chunk, query))
            records.update({record["Id"]: record for record in result["records"]})
        return records

    def order_accounts(self, order_ids: Sequence[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for chunk in _chunks(sorted(set(order_ids))):
            soql = f"SELECT Id, AccountId FROM Order WHERE Id IN ({', '.join(soql_quote(i) for i in chunk)})"
            result = self._query_all(soql)
            found.update({record["Id"]: record.get("AccountId") for record in result["records"]})
        return found

    def quote_accounts(self, quote_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(set(quote_ids))):
            ids = ", ".join(soql_quote(i) for i in chunk)
            # Only activated orders feed a customer (the worker reads the latest activated order).
            soql = f"SELECT AccountId, SBQQ__Quote__c FROM Order WHERE SBQQ__Quote__c IN ({ids}) AND {ACTIVATED_ORDER}"
            for record in self._query_all(soql)["records"]:
                if record.get("AccountId") and record.get("SBQQ__Quote__c"):
                    found.setdefault(to_18(record["SBQQ__Quote__c"]), set()).add(record["AccountId"])
        return {quote: tuple(sorted(accounts)) for quote, accounts in found.items()}

    def update_accounts(self, updates: Sequence[dict[str, Any]]) -> dict[str, RecordError | None]:
        outcome: dict[str, RecordError | None] = {}
        for chunk in _chunks(list(updates)):
            body = {
                "allOrNone": False,
                "records": [{"attributes": {"type": "Account"}, **update} for update in chunk],
            }
            results = self._collections_patch(body)
            for update, result in zip(chunk, results or [], strict=False):
                errors = result.get("errors") or []
                outcome[update["Id"]] = None if result.get("success") else _record_error(errors)
        return outcome

    def write_back(self, updates: Sequence[dict[str, Any]], history: Sequence[dict[str, Any]]) -> WriteResult:
        """One Composite call (``shared.salesforce.composite``) for up to 5 × 200 records; more records take
        one more call per 1,000. An account subrequest refused as a whole raises TransientSyncError (the
        batch's write-back is retried, as when a Collections call fails); a history subrequest refused as a
        whole (the object not deployed, no access) refuses only its records."""
        version = self._version_for_composite()
        planned = composite.plan(version, updates, history, WRITE_BACK_HEADERS)
        answer = composite.CompositeAnswer()
        for body, group in zip(planned.bodies, planned.subrequests, strict=True):
            response = self._call(partial(_composite_post, body=body))
            composite.read_answer(group, response, answer)
        if "accounts" in answer.refused:
            raise TransientSyncError(f"Salesforce refused the write-back: {_error_text(answer.refused['accounts'])}")
        accounts = {
            record["Id"]: None if error is None else _record_error([error]) for record, error in answer.accounts
        }
        refused = tuple(_record_error([error]) for _, error in answer.history if error is not None)
        return WriteResult(accounts, refused)

    def delete_records(self, record_ids: list[str]) -> int:
        """sObject Collections delete (≤ 200 ids, ``allOrNone=false``); how many were deleted."""
        ids = ",".join(record_ids[:_CHUNK])
        results = self._call(
            lambda sf: sf.restful("composite/sobjects", method="DELETE", params={"ids": ids, "allOrNone": "false"})
        )
        return sum(1 for result in results or [] if isinstance(result, dict) and result.get("success"))

    def _version_for_composite(self) -> str:
        if self._client is None:
            self._call(lambda sf: None)  # log in: the subrequests' URLs carry the client's API version
        return self._api_version()

    def describe(self, sobject: str) -> dict[str, Any] | None:
        """The sObject's describe as the integration user sees it; None when absent or not accessible."""
        from simple_salesforce.exceptions import SalesforceResourceNotFound

        def request(sf: Any) -> Any:
            try:
                return sf.restful(f"sobjects/{sobject}/describe")
            except SalesforceResourceNotFound as exc:
                if host_moved(exc):
                    raise  # a web page, not the REST API's "NOT_FOUND": the host moved (``_call``)
                return None

        result = self._call(request)
        return dict(result) if result else None

    def query(self, soql: str) -> list[dict[str, Any]]:
        """The records of one SOQL query (every page; live records only: deleted ones are never wanted)."""
        return list(self._call(lambda sf: sf.query_all(soql))["records"])

    def query_batches(self, soql: str, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        """``query`` then ``queryMore`` (``nextRecordsUrl``) with ``Sforce-Query-Options: batchSize=N``.

        Salesforce REST API, "Query Options Header": 200 to 2,000 rows a batch, child rows counted; a query
        locator stays valid 15 minutes after its last use. Only one batch is held at a time.
        """
        headers = {"Sforce-Query-Options": f"batchSize={int(batch_size)}"}  # Salesforce keeps it in 200-2,000
        page = self._call(lambda sf: sf.query(soql, headers=headers))
        while True:
            yield list(page["records"])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._call(partial(_query_more, url=next_url, headers=headers))

    def api_versions(self) -> list[str]:
        """The API versions the org serves (``GET /services/data/``, Salesforce's Versions resource), oldest first."""

        def request(sf: Any) -> Any:
            response = sf.session.get(f"https://{sf.sf_instance}/services/data/", headers=sf.headers, timeout=30)
            response.raise_for_status()
            return response.json()

        return [str(entry["version"]) for entry in self._call(request)]

    def api_usage(self) -> tuple[int, int] | None:
        """(used, max) of the org's API requests in the last 24 h, as the latest REST response's
        ``Sforce-Limit-Info`` header said (simple-salesforce parses it into ``api_usage``; REST API Developer
        Guide, "Limit Info Header"); no call is made. None before the first response."""
        usage = (getattr(self._client, "api_usage", None) or {}).get("api-usage")
        return (int(usage.used), int(usage.total)) if usage is not None else None

    def limits(self) -> dict[str, Any]:
        """The org's Limits resource (``GET /services/data/vXX.X/limits``; ``DailyApiRequests``: Max, Remaining)."""
        return dict(self._call(lambda sf: sf.limits()))

    def _query_all(self, soql: str) -> Any:
        # queryAll: merged-away and deleted accounts must be seen as such, not as missing.
        return self._call(lambda sf: sf.query_all(soql, include_deleted=True))

    def _collections_patch(self, body: dict[str, Any]) -> Any:
        return self._call(
            # Tagged with the sync's client id: the change events of the write-back name it in changeOrigin.
            lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body, headers=WRITE_BACK_HEADERS)
        )

    def _call(self, request: Callable[[Any], Any]) -> Any:
        """Run ``request`` on the client; a refused login, a moved host or an expired session get one fresh
        client (``_retry_after``) before the failure counts. Raises TransientSyncError (or a subclass)."""
        from simple_salesforce import exceptions as sf_errors

        for attempt in range(2):
            if self._client is None:
                self._client = self._factory() if attempt == 0 else self._fresh_factory()
            try:
                return request(self._client)
            except sf_errors.SalesforceMalformedRequest as exc:
                # A configuration problem (a mapped field missing in this org), not bad data: keep the
                # messages (retry → DLQ, redrivable once the mapping is fixed) instead of dropping them.
                raise TransientSyncError(
                    f"Salesforce rejected the query{_hint(exc.content)}: {_error_text(exc.content)}"
                ) from exc
            except (sf_errors.SalesforceError, OSError) as exc:
                error = classify_failure(exc, self._api_version(), last_try=attempt == 1)
                if error is not None:
                    raise error from exc
                self._client = None  # a fresh login: new credentials, the current instance URL
        raise TransientSyncError("Salesforce session expired")  # pragma: no cover - loop always returns/raises

    def _api_version(self) -> str:
        return str(getattr(self._client, "sf_version", "") or "")


def _composite_post(sf: Any, *, body: dict[str, Any]) -> Any:
    # The write-back's headers on the Composite request too (its account subrequests carry them as well).
    return sf.restful("composite", method="POST", json=body, headers=WRITE_BACK_HEADERS)


def _query_more(sf: Any, *, url: str, headers: dict[str, str]) -> Any:
    return sf.query_more(url, identifier_is_url=True, headers=headers)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _record_error(errors: Any) -> RecordError:
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_ERROR")
    return RecordError(code, str(first.get("message") or "")[:300])


def _hint(errors: Any) -> str:
    """What to check, by Salesforce's error code: only INVALID_FIELD is about the mapped field names."""
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("errorCode") or first.get("statusCode")
    if code == "INVALID_FIELD":
        return " (check the mapped field names)"
    if code == "INVALID_QUERY_FILTER_OPERATOR" and "invalid ID field" in str(first.get("message")):
        return " (an id asked for is not a Salesforce record id)"
    return ""


def _error_text(errors: Any) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"{first.get('statusCode') or first.get('errorCode')}: {first.get('message', '')}".strip()
    return str(errors)[:300]
