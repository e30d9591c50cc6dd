"""Personal data and secrets never reach the logs; the ids operators search for do."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from shared.redaction import EMAIL, PHONE, REDACTED, RedactingFilter, RedactingFormatter, redact, redact_value

KEPT = [
    "001Dq0000000003IAA",  # Salesforce account id (18)
    "001000000000001AAA",  # an id made mostly of digits
    "001000000000001",  # 15-char id: a bare run of digits
    "00D5g000004SAMPEA4",  # org id
    "cus_J6s1fIP2XXvn3Z",  # Stripe customer id
    "cus_123456789012",
    "2026-09-08T23:40:33.000+0000",  # SystemModstamp
    "2026-09-08 23:40:33,123+0000",  # Powertools timestamp
    "1757374833000",  # epoch ms (an applied version)
    "12.3456789",  # a duration
    "192.168.100.200",
    "1-5759e988-bd862e3fe1be46a994272793",  # X-Ray trace id
    "c6af9ac6-7b61-1234-5678-93e8deadbeef",  # a request id with digit-only groups
    "reconcile:4f2a9c1b7d3e:001Dq0000000003IAA",  # an event id
]


@pytest.mark.parametrize("text", KEPT)
def test_ids_dates_and_numbers_are_kept(text: str) -> None:
    # Given a log text that is an id, a timestamp or a number; When redacted; Then it is unchanged
    assert redact(f"value {text} here") == f"value {text} here"


@pytest.mark.parametrize(
    "email", ["ada@example.com", "rechnung@muster.example", "first.last+tag@sub.example.co.uk", "A_B-c@x-y.de"]
)
def test_emails_are_redacted(email: str) -> None:
    # Given a message naming an e-mail address; When redacted; Then only a placeholder remains
    assert (
        redact(f"Order.SBQQ__Quote__r.Email: {email} is invalid") == f"Order.SBQQ__Quote__r.Email: {EMAIL} is invalid"
    )


@pytest.mark.parametrize(
    "phone", ["+49 30 555", "+1 (415) 555-0100", "030 1234567", "(030) 123-4567", "555-123-4567", "+4930123456"]
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    # Given a message with a phone number as people write them; When redacted; Then it is gone
    assert redact(f"phone '{phone}' rejected") == f"phone '{PHONE}' rejected"


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("sk_live_51HxYzAbCdEf", f"sk_live_{REDACTED}"),
        ("sk_test_local", f"sk_test_{REDACTED}"),
        ("rk_live_abc123XYZ", f"rk_live_{REDACTED}"),
        ("rk_test_abc123XYZ", f"rk_test_{REDACTED}"),
        ("whsec_abc123", f"whsec_{REDACTED}"),
        ("Authorization: Bearer 00D5g000004SAMP!AQ4AQLw.x_y", f"Authorization: Bearer {REDACTED}"),
        ("OAuth abc.def-ghi", f"OAuth {REDACTED}"),
        ("POST /outbound-message?token=e2e-token&x=1", f"POST /outbound-message?token={REDACTED}&x=1"),
        ("url=https://h/p?access_token=abc123", f"url=https://h/p?access_token={REDACTED}"),
    ],
)
def test_secrets_are_redacted(secret: str, expected: str) -> None:
    # Given a message carrying a key or token; When redacted; Then the secret part is gone
    assert redact(secret) == expected


def test_values_are_redacted_throughout_and_secret_keys_dropped() -> None:
    # Given structured extra values: nested dicts, lists, an exception, a key named like a secret
    value = {
        "account_id": "001Dq0000000003IAA",
        "customer_id": "cus_J6s1fIP2XXvn3Z",
        "contacts": ["ada@example.com", {"phone": "+49 30 555 1234"}],
        "outbound_token": "abc",
        "count": 3,
        "error": ValueError("bob@example.com is not valid"),
    }
    # When redacted
    clean = redact_value(value)
    # Then personal data and secrets are gone, ids and numbers kept
    assert clean == {
        "account_id": "001Dq0000000003IAA",
        "customer_id": "cus_J6s1fIP2XXvn3Z",
        "contacts": [EMAIL, {"phone": PHONE}],
        "outbound_token": REDACTED,
        "count": 3,
        "error": f"{EMAIL} is not valid",
    }


def _powertools_logger(stream: io.StringIO) -> Logger:
    return Logger(
        service=f"redaction-test-{id(stream)}",
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )


def test_powertools_logger_output_is_redacted() -> None:
    # Given a Powertools logger with the redacting formatter and an appended key
    stream = io.StringIO()
    logger = _powertools_logger(stream)
    logger.append_keys(event_id="04l5g000000SAMPLE1", reply_to="ada@example.com")
    # When a record with personal data in its message, extras and exception is logged
    try:
        raise RuntimeError("Stripe said: email bob@example.com, key sk_live_abc123")
    except RuntimeError:
        logger.exception(
            "sync failed for ada@example.com",
            extra={"account_id": "001Dq0000000003IAA", "customer_id": "cus_J6s1fIP2XXvn3Z", "phone": "+1 415 555 0100"},
        )
    line = json.loads(stream.getvalue())
    # Then the JSON line keeps ids and Powertools' own keys, and nothing personal or secret
    assert line["message"] == f"sync failed for {EMAIL}"
    assert line["account_id"] == "001Dq0000000003IAA" and line["customer_id"] == "cus_J6s1fIP2XXvn3Z"
    assert line["event_id"] == "04l5g000000SAMPLE1" and line["reply_to"] == EMAIL
    assert line["phone"] == PHONE
    assert "bob@example.com" not in stream.getvalue() and "sk_live_abc123" not in stream.getvalue()
    assert line["timestamp"] and line["level"] == "ERROR"


def test_standard_logger_filter_redacts_message_args_and_extras() -> None:
    # Given a standard logger with the filter
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s|%(customer)s"))
    logger = logging.getLogger("redaction-filter-test")
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter())
    # When a record with %-args and an extra is logged
    logger.warning("retrying %s with %s", "001Dq0000000003IAA", "Bearer abc.def", extra={"customer": "x@y.example"})
    # Then both are redacted, the account id kept
    assert stream.getvalue().strip() == f"retrying 001Dq0000000003IAA with Bearer {REDACTED}|{EMAIL}"


def test_oversized_value_is_cut_before_redaction() -> None:
    # Given a hostile value of 300,000 word characters (an Event Relay field; found by `make reliability`'s
    # Event Relay fuzz: the patterns took minutes on it, past the function's timeout)
    value = "x" * 300_000 + "@example.com"
    # When redacted; Then the log keeps its start and says how long it was, and the address beyond is gone
    logged = redact(value)
    assert logged.startswith("x" * 100) and logged.endswith("[cut: 300,012 characters]")
    assert len(logged) < 8300 and "example.com" not in logged
