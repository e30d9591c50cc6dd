"""Hostile input: generated bodies straight into the receiver's ``lambda_handler`` (fast), plus a few
hundred through the real HTTP gateway → no 5xx, no unhandled exception, nothing enqueued, and every answer
one Salesforce can read: an Ack, or a SOAP fault in ``text/xml``.

Why the last one: Salesforce's delivery monitor (Setup → Outbound Messages) shows the fault string of a
refused delivery, and shows nothing useful for a body it can't parse as XML (a public report of exactly
that: aspnet/WebHooks#101, JSON error bodies for a wrong org id). An admin fixing a wrong token or org id
has only that page to go by.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, Phase, given, settings

from devtools.reliability.figures import Figures
from devtools.reliability.harness import Harness
from devtools.reliability.hostile_bodies import HostileRequest, hostile_requests
from devtools.reliability.sizes import Size
from devtools.sam.lambda_events import FakeLambdaContext, http_api_event

_EXAMPLES_KEPT = 5
_SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
_OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"


def readable_by_salesforce(status: int, body: bytes | str, content_type: str | None) -> bool:
    """An Ack (200) or a SOAP fault with a fault string (any other status), served as ``text/xml``."""
    if content_type is not None and not content_type.startswith("text/xml"):
        return False
    try:
        body_element = fromstring(body).find(f"{_SOAP_ENV}Body")
    except (ParseError, ValueError):
        return False
    if body_element is None:
        return False
    if status == 200:
        return body_element.findtext(f"{_OUTBOUND}notificationsResponse/{_OUTBOUND}Ack") == "true"
    return bool(body_element.findtext(f"{_SOAP_ENV}Fault/faultstring"))


@dataclass
class Tally:
    """What the receiver answered, by kind and status; the first few failures for the report."""

    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    crashes: int = 0
    unreadable: int = 0
    failures: list[str] = field(default_factory=list)

    def record(
        self, case: HostileRequest, status: int, body: bytes | str = b"", content_type: str | None = None
    ) -> None:
        """One answer (status 0: no HTTP answer at all)."""
        self.kinds[case.kind] += 1
        self.statuses[status] += 1
        if status >= 500 or status == 0:
            self.server_errors += 1
            self._keep(f"{case.kind}: HTTP {status}")
        elif not readable_by_salesforce(status, body, content_type):
            self.unreadable += 1
            self._keep(f"{case.kind}: HTTP {status} answer is not a SOAP Ack or fault")

    def crash(self, case: HostileRequest, error: BaseException) -> None:
        """The handler raised: in Lambda an unhandled error (and a 500 from API Gateway)."""
        self.kinds[case.kind] += 1
        self.crashes += 1
        self._keep(f"{case.kind}: {type(error).__name__}: {str(error)[:120]}")

    def _keep(self, text: str) -> None:
        if len(self.failures) < _EXAMPLES_KEPT:
            self.failures.append(text)


def _generate(count: int, h: Harness, check: Callable[[HostileRequest], None]) -> None:
    """Run ``check`` on ``count`` generated requests (reproducible: derandomized, no shrinking)."""

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(hostile_requests(h.stack.token, h.org_id))
    def run(case: HostileRequest) -> None:
        check(case)

    run()


def hostile_input(h: Harness, size: Size) -> Figures:
    """Throw generated hostile requests at the receiver, in process and over HTTP."""
    started = time.monotonic()
    h.outbound(active=False)
    h.settle()
    depth_before = h.queue_depth()
    kept_before = h.queue_depth(h.stack.dlq_url)
    direct, over_http = Tally(), Tally()

    def call_handler(case: HostileRequest) -> None:
        event = http_api_event(case.body, query=case.query)
        try:
            response = h.stack.receiver.lambda_handler(event, FakeLambdaContext("receiver"))
        except Exception as error:  # exactly what this scenario looks for
            direct.crash(case, error)
            return
        headers = response.get("headers") or {}
        direct.record(case, int(response.get("statusCode", 0)), response.get("body", ""), headers.get("Content-Type"))

    def post(case: HostileRequest) -> None:
        status, body = h.post(case.body, url=f"{h.stack.gateway.url}/outbound-message?{case.query}")
        over_http.record(case, status, body)

    _generate(size.hostile_direct, h, call_handler)
    _generate(size.hostile_http, h, post)
    enqueued = h.queue_depth() - depth_before
    if enqueued:
        print(f"hostile input: {enqueued} messages were enqueued; purging them", flush=True)
        h.sqs.purge_queue(QueueUrl=h.stack.queue_url)
    # Authentic messages whose notifications carry no usable record are acknowledged and those notifications
    # kept in the DLQ with the reason (nothing else reaches it here): counted, then cleared.
    kept = h.queue_depth(h.stack.dlq_url) - kept_before
    if kept:
        h.sqs.purge_queue(QueueUrl=h.stack.dlq_url)
    statuses = direct.statuses + over_http.statuses
    failures = direct.failures + over_http.failures
    total = sum(direct.kinds.values()) + sum(over_http.kinds.values())
    return Figures(
        scenario="hostile input",
        size=(
            f"{sum(direct.kinds.values()):,} generated requests via lambda_handler + "
            f"{sum(over_http.kinds.values())} over HTTP, {len(direct.kinds)} kinds"
        ),
        zero={
            "5xx": direct.server_errors + over_http.server_errors,
            "unhandled_exceptions": direct.crashes,
            "enqueued": enqueued,
            "not_soap": direct.unreadable + over_http.unreadable,
        },
        other={
            "requests": total,
            "unusable_notifications_kept_in_dlq": kept,
            **{f"http_{status}": n for status, n in sorted(statuses.items())},
            **({"first_failures": " / ".join(failures)} if failures else {}),
        },
        seconds=time.monotonic() - started,
    )
