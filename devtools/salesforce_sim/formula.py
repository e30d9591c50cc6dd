"""Text formula fields: the subset of Salesforce's formula language the package's formulas use.

Supported: string literals (``"…"``), ``&`` concatenation, field references on the record
(``Stripe_Customer_ID__c``), hierarchy custom setting references (``$Setup.Setting__c.Field__c``), and the
functions ``IF(test, then, else)``, ``ISBLANK(value)`` and ``HYPERLINK(url, friendly_name [, target])``
(Salesforce Help, "Formula Operators and Functions",
https://help.salesforce.com/s/articleView?id=sf.customize_functions.htm). Anything else is a ``ValueError``
naming the token, so a formula the simulator can't run fails the test that loads it instead of giving a
wrong value.

A HYPERLINK value is what the API returns for it: the HTML anchor ``<a href="url" target="_blank">name</a>``
(the target defaults to ``_blank`` — help page above, HYPERLINK: "If you do not specify target, the
link opens in a new browser window").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from typing import Any

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<name>\$?[A-Za-z_][\w.]*)|(?P<punct>[(),&]))')
Settings = Callable[[str, str], Any]  # (custom setting, field) -> the org default's value (None if unset)


def evaluate(formula: str, record: Mapping[str, Any], settings: Settings) -> str:
    """The value of a text formula on ``record``; ``""`` stands for blank, as Salesforce's text formulas do."""
    parser = _Parser(formula, record, settings)
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"formula: unexpected {parser.peek()!r}")
    return "" if value is None else str(value)


def _tokens(formula: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while formula[pos:].strip():
        match = _TOKEN.match(formula, pos)
        if match is None:
            raise ValueError(f"formula: unsupported syntax at {formula[pos : pos + 20]!r}")
        tokens.append(match.group().strip())
        pos = match.end()
    return tokens


class _Parser:
    """Evaluates while parsing (the formulas are small; every branch is evaluated, as IF's are cheap here)."""

    def __init__(self, formula: str, record: Mapping[str, Any], settings: Settings) -> None:
        self.tokens = _tokens(formula)
        self.i = 0
        self.record = record
        self.settings = settings

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"formula: expected {expected or 'a value'}, found {token!r}")
        self.i += 1
        return token

    def expression(self) -> Any:
        value = self.term()
        while self.peek() == "&":
            self.take()
            right = self.term()
            value = ("" if value is None else str(value)) + ("" if right is None else str(right))
        return value

    def term(self) -> Any:
        token = self.take()
        if token.startswith('"'):
            return re.sub(r"\\(.)", r"\1", token[1:-1])
        if self.peek() == "(":
            return self.call(token.upper())
        if token.startswith("$Setup."):
            _, setting, field_name = token.split(".")
            return self.settings(setting, field_name)
        if token.startswith("$") or "." in token:
            raise ValueError(f"formula: unsupported reference {token}")
        return self.record.get(token)

    def call(self, function: str) -> Any:
        self.take("(")
        args = [self.expression()]
        while self.peek() == ",":
            self.take()
            args.append(self.expression())
        self.take(")")
        if function == "IF" and len(args) == 3:
            return args[1] if args[0] is True else args[2]
        if function == "ISBLANK" and len(args) == 1:
            return args[0] is None or args[0] == ""
        if function == "HYPERLINK" and len(args) in (2, 3):
            target = args[2] if len(args) == 3 else "_blank"
            url, name = html.escape(str(args[0])), html.escape(str(args[1]))
            return f'<a href="{url}" target="{html.escape(str(target))}">{name}</a>'
        raise ValueError(f"formula: unsupported function {function} with {len(args)} arguments")
