"""Keep personal data and secrets out of the logs.

Log lines end up in CloudWatch, where more people can read them than can read Salesforce or Stripe. Every
record's message and extra values (and appended keys, exception text) are scrubbed of e-mail addresses,
phone numbers, Stripe keys, bearer/OAuth tokens and ``token=`` query values; values under keys that name a
secret (``token``, ``password``, ...) are dropped whole. Salesforce ids, Stripe customer ids, dates and
plain numbers (versions, counts) are kept: they are what an operator searches for.

    logger = Logger(logger_formatter=RedactingFormatter())   # Powertools, in every function
    logging.getLogger().addFilter(RedactingFilter())           # any standard logger
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "[redacted]"
MAX_LOGGED_CHARS = 8192  # a log value is cut beyond this (tracebacks fit; a 300 KB hostile field doesn't)
EMAIL = "[email]"
PHONE = "[phone]"

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_STRIPE_KEY = re.compile(r"\b((?:sk|rk)_(?:live|test)_|whsec_)[A-Za-z0-9]+")
_BEARER = re.compile(r"(?i)\b(bearer|oauth)(\s+)[A-Za-z0-9\-._~+/=!]+")
_TOKEN_PARAM = re.compile(r"(?i)\b([a-z_]*token=)[^&\s\"',;]+")
# A phone candidate: digits with the separators people write phone numbers with, not glued to a word,
# an id (001…AAA, cus_…), or a longer run of digits and dashes (UUIDs, trace ids).
_PHONE = re.compile(r"(?<![\w.+/-])[+(]?\d[\d ().\-/]{5,}\d(?![\w/-]|\.\d)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_DOTTED = re.compile(r"^\d+(?:\.\d+)+$")  # decimals, IP addresses, version numbers
_SECRET_KEY_NAMES = re.compile(r"(?i)(^|_)(token|secret|password|authorization|private_key|session_id|api_key)$")
# Keys Powertools fills itself: never personal data, and the timestamp looks like a phone number to _PHONE.
_FRAMEWORK_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
    }
)
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 15 or _DATE.match(text) or _DOTTED.match(text):
        return text
    # Without a leading + or ( only a number written with separators is taken for a phone number: a bare
    # run of digits is far more often a version, a timestamp or an amount.
    if text[0] in "+(" or re.search(r"\d[ ()\-/.]\d|\)", text):
        return PHONE
    return text


def redact(text: str) -> str:
    """``text`` without e-mail addresses, phone numbers, Stripe keys, bearer tokens and ``token=`` values.

    A text longer than ``MAX_LOGGED_CHARS`` is cut first (the cut is noted with the length): the patterns take
    time quadratic in a long run of word characters, and a hostile event can carry 300 KB in one field.
    """
    if len(text) > MAX_LOGGED_CHARS:
        text = f"{text[:MAX_LOGGED_CHARS]}…[cut: {len(text):,} characters]"
    text = _STRIPE_KEY.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    text = _TOKEN_PARAM.sub(lambda m: m.group(1) + REDACTED, text)
    text = _EMAIL.sub(EMAIL, text)
    return _PHONE.sub(_phone, text)


def redact_value(value: Any, key: str | None = None) -> Any:
    """``value`` redacted throughout (strings in dicts, lists and tuples); secrets named by ``key`` dropped."""
    if key is not None and value and _SECRET_KEY_NAMES.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact(str(value))
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with every value but Powertools' own keys redacted before serialising."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(
            {key: value if key in _FRAMEWORK_KEYS else redact_value(value, key) for key, value in log.items()}
        )


class RedactingFilter(logging.Filter):
    """For standard loggers: redacts a record's message and its extra attributes in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES:
                setattr(record, name, redact_value(value, name))
        return True
