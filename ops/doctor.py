"""``sfsync doctor``: a pre-flight check of the org, Stripe and the stack, before the first message and after
every change.

One line per check: ``ok``, ``warning`` or ``error``, what was checked, and for a problem the fix in an
admin's words. Exit status 1 when any check is an error. Every check is read-only: describes and a small
SOQL sample in Salesforce (REST calls count against the org's daily limit: about ten), reads plus one update
of a customer id that can't exist in Stripe (its 404 proves the key may write customers without changing
any), queue and table metadata in AWS, and one Outbound Message whose only notification is of an object
the sync ignores (acknowledged, nothing queued).
"""

from __future__ import annotations

import functools
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ops import doctor_stripe
from ops.checks import ERROR, OK, WARNING, Check
from shared.components import Components
from shared.errors import ConfigurationError, SyncError
from shared.mapping import MappingConfigError
from shared.settings import CreationMode

LOGIN = "Salesforce login"
# The last versions of the 31.0–40.0 range Salesforce deprecates in Summer '27 and retires in Summer '28
# (help.salesforce.com article 005321531).
_DEPRECATED_BELOW = 41.0
_PROBE_OBJECT = "Task"  # an object the sync never syncs: its notification is acknowledged and ignored


def run_checks(components: Components, endpoint: str | None) -> list[Check]:
    """Every check, in the order an admin fixes things: Salesforce, Stripe, AWS, the endpoint."""
    checks = salesforce_checks(components)
    logged_in = not any(check.what == LOGIN and check.status == ERROR for check in checks)
    checks += doctor_stripe.checks(components, salesforce_ok=logged_in)
    checks += aws_checks(components)
    checks.append(endpoint_check(endpoint, components.settings.organization_ids[0]))
    return checks


def salesforce_checks(components: Components) -> list[Check]:
    """Login, API version, the mapping and write-back fields against the org's describes, CPQ."""
    settings = components.settings
    try:
        versions = components.salesforce.api_versions()
    except ConfigurationError as exc:
        return [Check(ERROR, LOGIN, f"{exc} — fix the credentials; the other Salesforce checks wait")]
    except SyncError as exc:
        return [Check(ERROR, LOGIN, f"{exc} — check the instance and domain in the credentials")]
    checks = [Check(OK, LOGIN, f"logged in (API {settings.salesforce_api_version})")]
    checks.append(_api_version(settings.salesforce_api_version, versions))
    try:
        findings = components.org_findings()
    except (MappingConfigError, ConfigurationError) as exc:
        return [*checks, Check(ERROR, "mapping", str(exc))]
    except SyncError as exc:
        return [*checks, Check(ERROR, "Salesforce describe", str(exc))]
    for finding in findings:
        checks.append(Check(finding.level, f"{finding.entry} → {finding.field}", finding.message))
    if not findings:
        mapping = _shown(settings.mapping_config_ssm_parameter or settings.mapping_config)
        checks.append(
            Check(
                OK,
                "mapped and written fields",
                f"mapping {mapping!r}: every field exists, is readable by the "
                "integration user and fits its Stripe field; the write-back fields are editable",
            )
        )
    checks.append(_cpq(components))
    return checks


def _shown(source: str) -> str:
    """A mapping file inside the current folder by its path relative to it; anything else as configured."""
    path = Path(source)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    return source


def _api_version(configured: str, offered: Sequence[str]) -> Check:
    what = "Salesforce API version"
    if configured not in offered:
        newest = offered[-1] if offered else "?"
        return Check(ERROR, what, f"the org does not offer {configured}; set SALESFORCE_API_VERSION to {newest}")
    if float(configured) < _DEPRECATED_BELOW:
        return Check(WARNING, what, f"{configured} is deprecated from Summer '27 and retired in Summer '28; "
                     f"set SALESFORCE_API_VERSION to {offered[-1]}")  # fmt: skip
    return Check(OK, what, f"{configured} is supported (the org offers {offered[0]} to {offered[-1]})")


def _cpq(components: Components) -> Check:
    what = "Salesforce CPQ (quote → primary contact)"
    order = components.org_schema.object("Order")
    quote = components.org_schema.object("SBQQ__Quote__c")
    readable = (
        order is not None
        and quote is not None
        and order.relationship("SBQQ__Quote__r") is not None
        and quote.relationship("SBQQ__PrimaryContact__r") is not None
    )
    if readable:
        return Check(OK, what, "Order.SBQQ__Quote__r and SBQQ__Quote__c.SBQQ__PrimaryContact__r are readable")
    if components.settings.creation_mode is CreationMode.EVERY_ACCOUNT:
        return Check(OK, what, "not found, and not needed with CREATION_MODE every_account")
    return Check(
        WARNING,
        what,
        "not found or not visible to the integration user: customers are still created on activated orders, but "
        "the standard presets' email (the quote's primary contact) can't be read — install CPQ or assign its "
        "permission set, or map the email from another field",
    )


def aws_checks(components: Components) -> list[Check]:
    """The queue, the DLQ (with its depth) and the two tables, by the configured names."""
    settings = components.settings
    checks = [_queue("sync queue (SYNC_QUEUE_URL)", components, settings.sync_queue_url, dlq=False)]
    if settings.sync_dlq_url:
        checks.append(_queue("dead-letter queue (SYNC_DLQ_URL)", components, settings.sync_dlq_url, dlq=True))
    else:
        checks.append(Check(WARNING, "dead-letter queue", "SYNC_DLQ_URL is not set: sfsync redrive can't work"))
    for setting, name in (("STATE_TABLE_NAME", settings.state_table_name),
                          ("IDEMPOTENCY_TABLE_NAME", settings.idempotency_table_name)):  # fmt: skip
        checks.append(_aws(f"table {name} ({setting})", functools.partial(_table, components, name)))
    return checks


def _queue(what: str, components: Components, url: str, *, dlq: bool) -> Check:
    def depth() -> Check:
        attributes = components.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        count = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
        if dlq and count:
            return Check(WARNING, what, f"{count} message(s) waiting: see why with `sfsync redrive --dry-run`, fix, "
                         "then `sfsync redrive`")  # fmt: skip
        return Check(OK, what, f"reachable, {count} message(s) waiting")

    return _aws(what, depth)


def _table(components: Components, name: str) -> Check:
    status = components.dynamodb.describe_table(TableName=name)["Table"].get("TableStatus", "ACTIVE")
    return Check(OK if status == "ACTIVE" else WARNING, f"table {name}", f"reachable ({status.lower()})")


def _aws(what: str, check: Callable[[], Check]) -> Check:
    try:
        result = check()
        return Check(result.status, what, result.detail)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        return Check(ERROR, what, f"{code}: check the name and the AWS region and credentials this runs with")
    except BotoCoreError as exc:
        return Check(ERROR, what, f"AWS unreachable ({type(exc).__name__}): check the region and credentials")


def endpoint_check(url: str | None, org_id: str) -> Check:
    """POST an Outbound Message the sync ignores; the answer tells which of URL, token and allow-list is wrong."""
    what = "Outbound Message endpoint"
    if not url:
        return Check(
            WARNING, what, "not checked: give --stack-name, or --endpoint URL (no token) and --token-secret NAME"
        )
    headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}  # as Salesforce sends it
    try:
        response = requests.post(url, data=_probe_message(org_id), headers=headers, timeout=30)
    except requests.RequestException as exc:
        return Check(ERROR, what, f"can't be reached ({type(exc).__name__}): check the URL's host and scheme")
    if response.status_code != 200:
        return Check(ERROR, what, _endpoint_fix(response.status_code, org_id))
    if "<Ack>true</Ack>" not in response.text:
        return Check(ERROR, what, "answered 200 without an Ack: the URL does not point at this stack's receiver")
    return Check(OK, what, "an authenticated test message was acknowledged (nothing was queued)")


def _endpoint_fix(status: int, org_id: str) -> str:
    fixes = {
        401: "the token is wrong: the secret read is not the receiver's (the stack's OutboundTokenSecretArn output)",
        403: f"the org {org_id} is not in the receiver's ORGANIZATION_IDS: add it and redeploy",
        404: "the path is wrong: the URL must end /outbound-message (the OutboundMessageUrl output)",
    }
    return fixes.get(status, f"answered HTTP {status}: check the receiver's logs")


def _probe_message(org_id: str) -> bytes:
    org15 = org_id[:15]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
        'envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications '
        f'xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org_id}</OrganizationId>'
        '<ActionId>04k000000000000AAA</ActionId><SessionId xsi:nil="true"/>'
        f"<EnterpriseUrl>https://sfsync-doctor.invalid/services/Soap/c/59.0/{org15}</EnterpriseUrl>"
        f"<PartnerUrl>https://sfsync-doctor.invalid/services/Soap/u/59.0/{org15}</PartnerUrl>"
        f'<Notification><Id>04l000000000000AAA</Id><sObject xsi:type="sf:{_PROBE_OBJECT}" '
        'xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00T000000000000AAA</sf:Id></sObject>'
        "</Notification></notifications></soapenv:Body></soapenv:Envelope>"
    ).encode()


def endpoint_from_stack(path: Path | None) -> str | None:
    """The Outbound Message URL the local stack (``make serve``'s stack.json) serves, if any."""
    if path is None:
        return None
    try:
        info: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    url = info.get("outbound_message_url") if isinstance(info, dict) else None
    return str(url) if url else None


def report(checks: Sequence[Check], out: TextIO | None = None) -> int:
    """Print one line per check and a summary; 1 when any check is an error, else 0."""
    out = out or sys.stdout
    for check in checks:
        # 120 columns, continuation lines indented under the text: readable in a terminal and in CI logs.
        print(textwrap.fill(check.line(), width=120, subsequent_indent=" " * 8, break_on_hyphens=False), file=out)
    errors = sum(c.status == ERROR for c in checks)
    warnings = sum(c.status == WARNING for c in checks)
    if errors:
        print(f"{errors} error(s), {warnings} warning(s): fix the errors before the first message", file=out)
    else:
        print(f"all {len(checks)} checks passed" + (f", {warnings} warning(s)" if warnings else ""), file=out)
    return 1 if errors else 0
