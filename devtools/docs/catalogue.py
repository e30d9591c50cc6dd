"""docs/reference/glossary.md: every word, metric, fault and failure class the product emits, with its fix.

Sources, all the code's own: the outcomes and verdicts of ``ops/glossary.py`` (the same words ``sfsync --help``
and ``make run`` print); the metric names the functions publish, found by scanning ``shared/`` and
``functions/`` for ``add_metric(name=…)`` / ``count(…)`` calls; the SOAP faults the receiver answers with,
found by scanning for ``_reject(status, …)`` and ``MalformedMessage(…)``; the failure classes (subclasses of
``shared.errors.SyncError``) with their docstrings. The meanings and fixes of metrics and faults are kept
here, beside the scan: a metric or fault added to the code without one makes the generator fail.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

from devtools.docs.markdown import header, table
from devtools.local_runtime.processes import REPO_ROOT
from ops import glossary
from shared.errors import SyncError

METRICS: dict[str, str] = {
    "enqueued": "sync requests put on the queue (receiver, Event Relay function)",
    "ignored": "notifications or events of objects the sync does not use: nothing to do",
    "rejected_message": "Outbound Messages refused with a SOAP fault (table below); Salesforce retries them",
    "enqueue_failed": "the queue refused the requests: the receiver answered 503 / the event is retried",
    "unusable_notification": "a notification without its record, kept in the DLQ (Troubleshooting)",
    "dropped": "Event Relay events the function can't use, kept in `PlatformEventFailureQueue` with the reason",
    "writeback_error": "Salesforce refused a write-back of the Stripe ID / status / error fields "
    "(`WriteBackErrorAlarm`; `sfsync status` shows why)",
    "field_warning": "fields Stripe could not take as they are (one per field): the customer was synced without "
    "them or with an adjusted value",
    "dead_lettered": "messages moved to the DLQ at once because they are not sync requests (poison messages)",
    "not_reached": "messages the worker did not start before its deadline: retried, never timed out",
    "transient_error": "syncs that failed on an outage, rate limit or lock: retried",
    # Named kinds of transient_error (the failure class's ``metric``), counted beside it:
    "credentials_refused": "Stripe or Salesforce refused the credentials also after the secret was read again, "
    "or a restricted key lacks a permission (`CredentialsRefusedAlarm`; the log line names the fix)",
    "api_version_retired": "Salesforce answered 410 GONE: `SALESFORCE_API_VERSION` is retired (set a version the "
    "org serves)",
    "request_limit_exceeded": "Salesforce's `REQUEST_LIMIT_EXCEEDED`: the org's 24-hour API allowance, shared by "
    "all its integrations, is spent; retried",
    "concurrent_request_limit_exceeded": "Salesforce's `REQUEST_LIMIT_EXCEEDED` for the org's concurrent "
    "long-running requests (25 of 20 s or longer in production, all integrations together), not the daily "
    "allowance: clears in minutes; retried",
    "reconcile_queued": "syncs the scheduled reconcile queued",
    "reconcile_identity_damage": "accounts the scheduled reconcile found with identity damage (`duplicate_customers`, "
    "`claimed_by_other_customer`, `customer_of_other_account`), 0 included (`ReconcileIdentityAlarm`)",
    "writeback_refused_…": "one per write-back record Salesforce refused, named by its code (e.g. "
    "`writeback_refused_DUPLICATES_DETECTED`; transient ones such as `UNABLE_TO_LOCK_ROW` included)",
    "org_not_allowed": "Event Relay events from an org not in `AllowedOrganizationIds`, kept in "
    "`PlatformEventFailureQueue`",
    "malformed_event": "Event Relay events that are not what Salesforce sends (e.g. an org id with a wrong checksum), "
    "kept in `PlatformEventFailureQueue` as a reference",
    "gap_overflow": "`GAP_OVERFLOW` change events: Salesforce could not say which records changed; the reconcile "
    "repairs them (`GapOverflowAlarm`)",
    "wildcard_record_ids": "change events naming every record of a type (`001*`, a field type conversion): left "
    "to the reconcile",
    "mapping_refused": "a mapping published to SSM does not fit the org: the worker goes on with the last version "
    "that fits (`MappingRefusedAlarm`; `sfsync mapping check` names the entry)",
    "held": "messages parked in the held queue because the gate has a hold (`sfsync status` names it)",
    "held_redriven": "held messages the scheduled reconcile moved back to the sync queue once the gate was open",
}
# The outcome metrics (one per synced change) and the reconcile verdict metrics are named by the glossary.
OUTCOME_METRIC = (
    "one per sync, named after its outcome (the table of outcomes on this page): `created`, `updated`, …, `duplicate`"
)
VERDICT_METRIC = "`reconcile_<verdict>`: the scheduled reconcile's count per verdict"

# What a receiver fault means and what to do, by HTTP status (Salesforce shows the fault text as the
# message's Delivery Failure Reason: Setup → Environments → Monitoring → Outbound Messages).
FAULTS: dict[int, tuple[str, str]] = {
    400: (
        "the body is not a Salesforce Outbound Message (a proxy rewrote it, or something else posts to the URL)",
        "point only Outbound Messages at the endpoint",
    ),
    401: (
        "the Endpoint URL lacks `?token=` or carries an old token",
        "copy the URL again ([Deploy](../deploy.md) step 4) into every Outbound Message",
    ),
    403: (
        "the message comes from an org not in `AllowedOrganizationIds`, typically a refreshed sandbox (new id)",
        "add the id, `sam deploy`",
    ),
    404: ("a request to another path or method than `POST /outbound-message`", "use the `OutboundMessageUrl` output"),
    413: ("the body is over `MAX_BODY_BYTES` (1 MiB)", "send fewer fields: only the ids are needed"),
    503: (
        "the queue refused the requests (an AWS outage or a permissions change); `ReceiverServerErrorsAlarm` fires",
        "nothing: Salesforce delivers it again",
    ),
}
# A fault whose cause differs from its status's usual one, by the fault's text.
FAULTS_BY_TEXT: dict[str, tuple[str, str]] = {
    "client certificate not allowed: not Salesforce's (ClientCertificateSubject)": (
        "with `EndpointProtection` `mutual_tls`: the TLS client certificate is not Salesforce's (another subject)",
        "set `ClientCertificateSubject` to the subject of Salesforce's client certificate (the repository's "
        'SECURITY.md, "Endpoint protection")',
    ),
}
FAULT_SOURCES = ("shared/sync/intake.py", "shared/salesforce/outbound_message.py")
METRIC_SOURCES = ("shared", "functions")
FAILURE_MODULES = ("shared.errors", "shared.stripe.gateway", "shared.state.account_item")


class UncataloguedMessage(ValueError):
    """The code emits a metric or fault this catalogue does not explain."""


def _text(node: ast.expr) -> str | None:
    """A string literal, or an f-string with each placeholder shown as ``…``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "…"
            for part in node.values
        )
    return None


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _on_self(call: ast.Call) -> bool:
    """``self.count(…)``: the intakes' metric helpers (not ``str.count`` and the like)."""
    func = call.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"


def emitted_metrics() -> set[str]:
    """Every literal metric name published in ``shared/`` and ``functions/``."""
    found: set[str] = set()
    for folder in METRIC_SOURCES:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for call in _calls(path):
                name = _name(call)
                if name == "add_metric":
                    value = next((kw.value for kw in call.keywords if kw.arg == "name"), None)
                elif name in ("count", "_count") and call.args and _on_self(call):
                    value = call.args[0]
                else:
                    continue
                text = _text(value) if value is not None else None
                if text and "…" not in text:
                    found.add(text)
    return found


def receiver_faults() -> list[tuple[int, str]]:
    """``(HTTP status, fault text)`` of every refusal the Outbound Message receiver can answer with."""
    faults: set[tuple[int, str]] = set()
    for source in FAULT_SOURCES:
        for call in _calls(REPO_ROOT / source):
            name = _name(call)
            if name == "_reject" and len(call.args) == 2:
                status, text = call.args[0], _text(call.args[1])
                if isinstance(status, ast.Constant) and isinstance(status.value, int) and text:
                    faults.add((int(status.value), text))
            elif name == "MalformedMessage" and call.args and (text := _text(call.args[0])):
                faults.add((413 if "larger than" in text else 400, text))
            elif name == "fault" and call.args and (text := _text(call.args[0])):
                faults.add((503, text))
    return sorted(faults)


def failure_classes() -> list[type[SyncError]]:
    """Every ``SyncError`` subclass the product defines, base classes first."""
    for module in FAILURE_MODULES:
        importlib.import_module(module)
    found: list[type[SyncError]] = []
    pending: list[type[SyncError]] = [SyncError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending += sorted(cls.__subclasses__(), key=lambda c: c.__name__)
    return [cls for cls in found if cls.__module__.startswith("shared.")]


def page() -> str:
    """The whole page."""
    metrics = emitted_metrics() - {"duplicate"}
    unexplained = sorted(metrics - set(METRICS))
    faults = receiver_faults()
    unknown_status = sorted({status for status, _ in faults} - set(FAULTS))
    if unexplained or unknown_status:
        raise UncataloguedMessage(f"no meaning in devtools/docs/catalogue.py for {unexplained or unknown_status}")
    metric_rows = [(f"`{name}`", meaning) for name, meaning in METRICS.items()]
    metric_rows += [("`created`, `updated`, …", OUTCOME_METRIC), ("`reconcile_…`", VERDICT_METRIC)]
    fault_rows = [(f"`{text}`", status, *FAULTS_BY_TEXT.get(text, FAULTS[status])) for status, text in faults]
    failure_rows = [
        (f"`{cls.__name__}`", "permanent" if cls.permanent else "transient", inspect.getdoc(cls) or "")
        for cls in failure_classes()
    ]
    return "\n".join(
        [
            header(
                "Glossary and error catalogue",
                "`ops/glossary.py`, the metric and fault calls in `shared/` and `functions/`, and the failure "
                "classes of `shared/`",
                "The words the sync reports, in the worker's log lines (`synced`), its metrics, `sfsync status`, "
                "`make run` and the dashboard (outcomes), and in `sfsync reconcile` (verdicts). `sfsync --help` "
                "prints the same list. For symptoms and their fixes, see [Troubleshooting](../troubleshooting.md).",
            ),
            "## Outcomes",
            "",
            glossary.markdown_table().split("\n\n")[0],
            "",
            "## Verdicts",
            "",
            glossary.markdown_table().split("\n\n")[1],
            "",
            "## Metrics",
            "",
            "Published to CloudWatch in the `SalesforceStripeSync` namespace (`POWERTOOLS_METRICS_NAMESPACE`); "
            "the dashboard (output `DashboardUrl`) shows them.",
            "",
            table(["metric", "counts"], metric_rows),
            "",
            "## Faults the Outbound Message endpoint answers with",
            "",
            "Salesforce shows the fault text as the message's *Delivery Failure Reason* (Setup → Environments → "
            "Monitoring → Outbound Messages) and retries anything but an Ack for 24 hours.",
            "",
            table(["fault", "HTTP status", "meaning", "fix"], fault_rows),
            "",
            "## Failure classes",
            "",
            "A *permanent* failure is recorded, written back to the account's error field and acknowledged; a "
            "*transient* one is retried until it passes or lands in the DLQ.",
            "",
            table(["class", "kind", "what it is"], failure_rows),
            "",
        ]
    )
