"""The code the Lambda handlers share, grouped by port (the architecture, as a tree).

    salesforce/   speaks Salesforce: REST gateway + SOQL, login, ids, datetimes, Outbound Messages, change events
    stripe/       speaks Stripe: customer gateway, request rate, update diffing, customer schema data
    state/        DynamoDB: account state (versions, lease, contact index), reconcile checkpoints
    sync/         the engine: requests, queue, event idempotency, customer sync, batch sync, SQS batch worker
    mapping/      the one place a Salesforce field becomes a Stripe customer field
    reconcile/    the safety net and backfill: compare Salesforce with Stripe, queue what differs
    components    the composition root: builds the adapters and the engine from settings
    settings, errors, secrets, redaction   environment settings, failure classes, secrets, log redaction

Flow: receivers (``functions/outbound_message``, ``functions/platform_event``) → ``sync.SyncQueue`` → worker
(``functions/sync_worker`` → ``sync.SqsBatchWorker`` → ``salesforce`` read → ``mapping`` → ``stripe`` upsert,
``state`` guarded) → write-back to Salesforce.
"""
