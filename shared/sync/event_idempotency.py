"""Event-level idempotency: a redelivered Salesforce notification or event is processed once.

Powertools' ``idempotent_function`` records each (org, event id, record id, account id, version) in DynamoDB
before the sync and stores the result after it; a replay returns the stored result without touching Stripe.
The record outlives Salesforce's 24 h retry window. Transient failures delete the record, so the retry runs
again. Powertools stores only a digest of the key (an MD5 of its JSON), never the ids themselves.

The version (an Outbound Message's ``SystemModstamp``, an event's commit time) is part of the key, so a
notification id alone can't be claimed in advance: a token holder who forges a notification under the id
Salesforce will use next can't guess the record's version to the millisecond, and the real notification still
runs. A Salesforce retry that carries a newer version ("only the latest data is sent", Outbound Messaging)
is processed again; that costs one re-read, and the state's version-conditional writes keep it harmless.

The stored result holds ids, the outcome, Stripe paths and Salesforce field names — no mapped value. Its texts
(the error, each warning's problem) never quote a value by policy (``shared.mapping.field_warnings``); they
are still scrubbed of e-mail addresses and phone numbers (``shared.redaction``) before they are stored, so a
custom transform's message that quotes its input can't put one in the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from shared.redaction import redact
from shared.sync.customer_sync import AccountSnapshot, CustomerSync, SyncResult
from shared.sync.models import SyncRequest

# Fixed prefix: without it the key would include this module's and function's names, and moving or
# renaming them would silently make every stored key miss.
_KEY_PREFIX = "sfsync-event"


class EventProcessor:
    """Runs ``CustomerSync`` at most once per (org, event id, record id, account id, version)."""

    def __init__(self, sync: CustomerSync, persistence: BasePersistenceLayer, *, expiry_seconds: int) -> None:
        self._sync = sync
        self._config = config = IdempotencyConfig(
            event_key_jmespath="[org_id, event_id, record_id, account_id, version]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=expiry_seconds,
            # Called only when a stored result is returned: marks the replay, so it is counted as a duplicate.
            response_hook=lambda response, _record: {**response, "duplicate": True},
        )
        self._idempotent: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="request",
            persistence_store=persistence,
            config=config,
            key_prefix=_KEY_PREFIX,
        )(self._run)

    def register_lambda_context(self, context: Any) -> None:
        """Let Powertools expire an in-progress record when the Lambda times out mid-sync."""
        self._config.register_lambda_context(context)

    def process(self, request: SyncRequest, snapshot: AccountSnapshot, *, may_create: bool) -> SyncResult:
        """Sync the account behind ``request`` unless this request was already processed."""
        stored = self._idempotent(request=request.model_dump(mode="json"), snapshot=snapshot, may_create=may_create)
        return SyncResult.from_dict(stored)

    def _run(self, request: dict[str, Any], snapshot: AccountSnapshot, may_create: bool) -> dict[str, Any]:
        return without_values(self._sync.sync(snapshot, may_create=may_create).to_dict())


def without_values(result: dict[str, Any]) -> dict[str, Any]:
    """A ``SyncResult.to_dict()`` with its texts scrubbed of e-mail addresses and phone numbers (as stored)."""
    warnings = [{**warning, "problem": redact(str(warning["problem"]))} for warning in result.get("warnings", ())]
    error = result.get("error")
    return {**result, "error": redact(error) if error else error, "warnings": warnings}
