"""``sfsync doctor`` against the whole local stack: one test per check, each with the configuration it catches.

Every check reads the real local parts (org simulator with field-level security, Stripe emulator with test
and live mode, moto's SQS, dynalite, the receiver behind the HTTP gateway) and prints one line:
ok / warning / error, what was checked, the fix.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import stripe

from ops import cli
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack

LIVE_KEY = "sk_live_doctor_test_key"
INTEGRATION_USER = "integration@example.com"  # the JWT user of the test stack's credentials


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """Run ``sfsync doctor`` with the stack's environment; (exit status, report lines)."""
    status = cli.main(["doctor", *args])
    # The in-process receiver logs to stdout too (JSON lines): keep the report's own lines, each check's
    # wrapped continuation lines joined back to it.
    lines: list[str] = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        elif not line.startswith("{"):
            lines.append(line)
    return status, lines


def line_of(lines: list[str], what: str) -> str:
    found = [line for line in lines if what in line]
    assert found, f"no line about {what!r} in:\n" + "\n".join(lines)
    return found[0]


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], list[str]]:
    """``--endpoint URL --token-secret NAME`` for a URL and token: the token stored in (moto's) Secrets Manager."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    client = boto3.client("secretsmanager", endpoint_url=moto_endpoint)

    def arguments(url: str, token: str) -> list[str]:
        name = f"sfsync/endpoint-token-{uuid.uuid4().hex[:8]}"
        client.create_secret(Name=name, SecretString=token)
        return ["--endpoint", url, "--token-secret", name]

    return arguments


def split(url: str) -> tuple[str, str]:
    """(the URL without its query, the token) of the local stack's endpoint URL."""
    base, _, query = url.partition("?")
    return base, query.removeprefix("token=")


@pytest.fixture
def healthy(stack_factory: StackFactory, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """A stack told its Stripe mode, with its DLQ configured: what `make run` checks."""
    stack = stack_factory(STRIPE_MODE="test")
    monkeypatch.setenv("SYNC_DLQ_URL", stack.dlq_url)
    return stack


def test_a_healthy_stack_passes_every_check(
    healthy: Stack, capsys: pytest.CaptureFixture[str], endpoint: Callable[[str, str], list[str]]
) -> None:
    # Given a stack where everything is configured; When the doctor runs
    status, lines = doctor(capsys, *endpoint(*split(healthy.endpoint_url)))
    # Then every line is ok, each check is there, and the exit status is 0
    checks = lines[:-1]
    assert status == 0, "\n".join(lines)
    assert all(line.startswith("ok") for line in checks), "\n".join(lines)
    for what in ("Salesforce login", "Salesforce API version", "mapped and written fields", "Salesforce CPQ",
                 "Stripe key", "Stripe customer write access", "Stripe ids in Account", "sync queue",
                 "dead-letter queue", "table", "Outbound Message endpoint"):  # fmt: skip
        line_of(checks, what)
    assert lines[-1].startswith("all ") and "checks passed" in lines[-1]


def test_a_mapped_field_the_org_lacks_is_an_error_naming_the_entry(
    stack_factory: StackFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a mapping that reads a VAT number field the org does not have
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"name": "Name", "metadata.vat": "VAT_Number__c"}}))
    stack_factory(MAPPING_CONFIG=str(mapping), STRIPE_MODE="test")
    # When the doctor runs; Then it names the mapping entry and the field, says how to fix it, and fails
    status, lines = doctor(capsys)
    line = line_of(lines, "fields['metadata.vat']")
    assert line.startswith("error") and "Account.VAT_Number__c" in line
    assert "no field VAT_Number__c on Account" in line and "create the field" in line
    assert status == 1


def test_a_field_hidden_by_field_level_security_is_an_error(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the standard mapping, and Phone hidden from the integration user by field-level security
    stack = stack_factory(STRIPE_MODE="test")
    stack.sim.set_field_access("Account", "Phone", "none", user=INTEGRATION_USER)
    # When the doctor runs; Then fields['phone'] is an error pointing at Read access
    status, lines = doctor(capsys)
    line = line_of(lines, "fields['phone']")
    assert line.startswith("error") and "Account.Phone" in line and "Read access" in line
    assert status == 1


def test_a_read_only_write_back_field_is_an_error(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the Stripe ID field readable but not editable for the integration user
    stack = stack_factory(STRIPE_MODE="test")
    stack.sim.set_field_access("Account", "Stripe_Customer_ID__c", "read", user=INTEGRATION_USER)
    # When the doctor runs; Then the setting that names it is an error asking for Edit access
    status, lines = doctor(capsys)
    line = line_of(lines, "SALESFORCE_STRIPE_ID_FIELD")
    assert line.startswith("error") and "can read but not edit it" in line and "Edit access" in line
    assert status == 1


def test_a_checkbox_mapped_to_tax_exempt_without_a_value_map_is_an_error(
    stack_factory: StackFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"fields": {"name": "Name", "tax_exempt": "Tax_Exempt__c"}}))
    stack = stack_factory(MAPPING_CONFIG=str(mapping), STRIPE_MODE="test")
    stack.sim.add_field("Account", "Tax_Exempt__c", "boolean")
    status, lines = doctor(capsys)
    line = line_of(lines, "fields['tax_exempt']")
    assert line.startswith("error") and "a checkbox gives true/false" in line and "value map" in line
    assert status == 1


def test_an_api_version_the_org_does_not_offer_is_an_error(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_factory(STRIPE_MODE="test", SALESFORCE_API_VERSION="67.0")
    status, lines = doctor(capsys)
    line = line_of(lines, "Salesforce API version")
    assert line.startswith("error") and "does not offer 67.0" in line and "66.0" in line
    assert status == 1


def test_a_key_of_the_wrong_stripe_mode_is_an_error(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack told it runs in live mode, but holding a test-mode key
    stack_factory(STRIPE_MODE="live")
    # When the doctor runs; Then the Stripe key line says so
    status, lines = doctor(capsys)
    line = line_of(lines, "Stripe key")
    assert line.startswith("error") and "holds a test-mode key but STRIPE_MODE is live" in line
    assert status == 1


def test_a_restricted_key_without_customer_write_is_an_error(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a restricted key that may only read customers
    stack = stack_factory(STRIPE_MODE="test", STRIPE_API_KEY="rk_test_doctor_read_only")
    stack.stripe.add_key("rk_test_doctor_read_only", {"customers": "read"})
    status, lines = doctor(capsys)
    assert line_of(lines, "Stripe key").startswith("ok")
    line = line_of(lines, "Stripe customer write access")
    assert line.startswith("error") and "Write on Customers" in line
    assert status == 1


def test_live_mode_ids_in_a_test_mode_stack_are_an_error_saying_how_to_clear_them(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a refreshed sandbox: an account holding a production (live-mode) customer id, a test-mode stack
    stack = stack_factory(STRIPE_MODE="test")
    stack.stripe.add_key(LIVE_KEY)
    live = stripe.StripeClient(LIVE_KEY, base_addresses={"api": stack.stripe.base_url}).v1.customers.create()
    stack.sim.outbound.pause()
    account = stack.sim.create("Account", {"Name": "Copied AG", "Stripe_Customer_ID__c": live.id})
    # When the doctor runs; Then the sample says the ids belong to live mode and how to clear them
    status, lines = doctor(capsys)
    line = line_of(lines, "Stripe ids in Account.Stripe_Customer_ID__c")
    assert line.startswith("error") and "belong to live mode" in line and account in line
    assert "Clear Stripe_Customer_ID__c" in line and "STRIPE_REPLACE_OTHER_MODE_IDS" in line
    assert status == 1


def test_a_wrong_token_is_named(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str], endpoint: Callable[[str, str], list[str]]
) -> None:
    stack = stack_factory(STRIPE_MODE="test")
    url, _ = split(stack.endpoint_url)
    status, lines = doctor(capsys, *endpoint(url, "not-the-token"))
    line = line_of(lines, "Outbound Message endpoint")
    assert line.startswith("error") and "the token is wrong" in line
    assert status == 1


def test_an_org_outside_the_allow_list_and_a_wrong_path_are_named(
    stack_factory: StackFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    endpoint: Callable[[str, str], list[str]],
) -> None:
    stack = stack_factory(STRIPE_MODE="test")
    url, token = split(stack.endpoint_url)
    _, lines = doctor(capsys, *endpoint(url.replace("/outbound-message", "/outbound"), token))
    assert "the path is wrong" in line_of(lines, "Outbound Message endpoint")
    # The receiver allows only the stack's org: the doctor's message from another org is refused
    monkeypatch.setenv("ORGANIZATION_IDS", "00D000000000001EAA")
    _, lines = doctor(capsys, *endpoint(url, token))
    assert "is not in the receiver's ORGANIZATION_IDS" in line_of(lines, "Outbound Message endpoint")


def test_an_unknown_queue_is_an_error(stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]) -> None:
    stack = stack_factory(STRIPE_MODE="test")
    missing = stack.queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    stack_env: dict[str, Any] = {"SYNC_QUEUE_URL": missing}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in stack_env.items():
            patch.setenv(name, value)
        status, lines = doctor(capsys)
    line = line_of(lines, "sync queue (SYNC_QUEUE_URL)")
    assert line.startswith("error") and "NonExistentQueue" in line
    assert status == 1


def test_the_token_is_never_taken_from_the_command_line(
    stack_factory: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the endpoint URL with its token on the command line (visible in ps, kept in the shell's history)
    stack = stack_factory(STRIPE_MODE="test")
    status = cli.main(["doctor", "--endpoint", stack.endpoint_url])
    # Then doctor refuses it as a usage error, says where the token comes from, and does not echo it
    err = capsys.readouterr().err
    assert status == 2
    assert "--endpoint must not carry the token" in err and "--token-secret" in err
    assert split(stack.endpoint_url)[1] not in err
