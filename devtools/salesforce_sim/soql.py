"""SOQL subset: tokenizer and parser producing a small AST (evaluation lives in query.py).

Grammar: SELECT items FROM obj [WHERE cond] [ORDER BY path [ASC|DESC] [NULLS FIRST|LAST], …]
[LIMIT n] [OFFSET n]; items are field paths, child subqueries `(SELECT … FROM Rel …)` or `COUNT()`;
cond = comparisons joined by AND or OR (mixing them needs parentheses, as in Salesforce), NOT,
`IN`/`NOT IN` lists or semi-join subqueries, LIKE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import SalesforceError
from .values import parse_date, parse_datetime

KEYWORDS = frozenset(
    [
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "OFFSET",
        "TRUE",
        "FALSE",
        "NULL",
    ]
)
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2}(?![\w:]))
    |(?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}


@dataclass
class Token:
    kind: str  # ident, string, number, date, datetime, op, punct, eof
    text: str
    pos: int
    value: Any = None

    def is_kw(self, *words: str) -> bool:
        return self.kind == "ident" and self.text.upper() in words


@dataclass
class Path:
    """A field path such as `SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email`."""

    parts: list[str]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass
class Literal:
    kind: str  # string, number, boolean, null, date, datetime
    value: Any
    pos: int
    text: str


@dataclass
class Comparison:
    path: Path
    op: str  # = != < > <= >= IN NOT IN LIKE
    value: Literal | list[Literal] | Select
    pos: int


@dataclass
class BoolOp:
    op: str  # AND / OR
    items: list[Cond]


@dataclass
class Not:
    item: Cond


Cond = Comparison | BoolOp | Not


@dataclass
class OrderItem:
    path: Path
    desc: bool
    nulls_first: bool


@dataclass
class Select:
    items: list[Path | Select]
    sobject: str
    sobject_pos: int
    where: Cond | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    count: bool = False
    pos: int = 0


def malformed(soql: str, pos: int, message: str, code: str = "MALFORMED_QUERY") -> SalesforceError:
    """Salesforce's caret layout: the offending line, a caret, `ERROR at Row:r:Column:c`, message."""
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : line_end if line_end >= 0 else len(soql)]
    col = pos - line_start + 1
    return SalesforceError(400, code, f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}")


def tokenize(soql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(soql):
        if soql[pos] == "'":
            token, pos = _string(soql, pos)
            tokens.append(token)
            continue
        match = _TOKEN.match(soql, pos)
        if match is None:
            raise malformed(soql, pos, f"unexpected token: {soql[pos]}")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(soql)))
    return tokens


def _string(soql: str, start: int) -> tuple[Token, int]:
    out: list[str] = []
    pos = start + 1
    while pos < len(soql):
        ch = soql[pos]
        if ch == "\\" and pos + 1 < len(soql):
            nxt = soql[pos + 1]
            # \_ and \% stay escaped: they only mean something inside LIKE patterns.
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            pos += 2
            continue
        if ch == "'":
            return Token("string", soql[start : pos + 1], start, "".join(out)), pos + 1
        out.append(ch)
        pos += 1
    raise malformed(soql, start, "line 1:0 no viable alternative at character ''' (unterminated string)")


class Parser:
    """Recursive-descent parser over the token list."""

    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, token: Token | None = None, message: str | None = None) -> SalesforceError:
        token = token or self.tok
        return malformed(self.soql, token.pos, message or f"unexpected token: {token.text}")

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect_kw(self, *words: str) -> Token:
        if not self.tok.is_kw(*words):
            raise self.fail()
        return self.take()

    def expect_punct(self, text: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != text:
            raise self.fail()
        return self.take()

    def parse(self) -> Select:
        select = self.select(nested=False)
        if self.tok.kind != "eof":
            raise self.fail()
        return select

    def select(self, nested: bool) -> Select:
        start = self.expect_kw("SELECT")
        items, count = self.select_items(nested)
        self.expect_kw("FROM")
        name = self.take()
        if name.kind != "ident" or name.text.upper() in KEYWORDS - {"ORDER"}:
            raise self.fail(name)
        query = Select(items, name.text, name.pos, count=count, pos=start.pos)
        if self.tok.is_kw("WHERE"):
            self.take()
            query.where = self.condition()
        if self.tok.is_kw("ORDER"):
            self.take()
            self.expect_kw("BY")
            query.order = self.order_items()
        if self.tok.is_kw("LIMIT"):
            self.take()
            query.limit = self.integer()
        if self.tok.is_kw("OFFSET"):
            self.take()
            query.offset = self.integer()
        return query

    def select_items(self, nested: bool) -> tuple[list[Path | Select], bool]:
        if self.tok.is_kw("COUNT") and self.tokens[self.i + 1].text == "(":
            self.take()
            self.expect_punct("(")
            self.expect_punct(")")
            return [], True
        items: list[Path | Select] = []
        while True:
            if self.tok.text == "(" and not nested:
                self.take()
                items.append(self.select(nested=True))
                self.expect_punct(")")
            else:
                items.append(self.path())
            if self.tok.text != ",":
                return items, False
            self.take()

    def path(self) -> Path:
        token = self.tok
        if token.kind != "ident" or token.text.upper() in KEYWORDS:
            raise self.fail()
        self.take()
        return Path(token.text.split("."), token.pos)

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(token)
        return int(token.text)

    def order_items(self) -> list[OrderItem]:
        items: list[OrderItem] = []
        while True:
            path = self.path()
            desc = False
            if self.tok.is_kw("ASC", "DESC"):
                desc = self.take().text.upper() == "DESC"
            # SOQL reference, ORDER BY: "By default, null values are sorted first" — ascending and descending
            # alike (developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/
            # sforce_api_calls_soql_select_orderby.htm).
            nulls_first = True
            if self.tok.is_kw("NULLS"):
                self.take()
                nulls_first = self.expect_kw("FIRST", "LAST").text.upper() == "FIRST"
            items.append(OrderItem(path, desc, nulls_first))
            if self.tok.text != ",":
                return items
            self.take()

    def condition(self) -> Cond:
        first = self.unary()
        if not self.tok.is_kw("AND", "OR"):
            return first
        op = self.tok.text.upper()
        items = [first]
        while self.tok.is_kw("AND", "OR"):
            if self.tok.text.upper() != op:
                raise self.fail()  # AND and OR mixed without parentheses
            self.take()
            items.append(self.unary())
        return BoolOp(op, items)

    def unary(self) -> Cond:
        if self.tok.is_kw("NOT"):
            self.take()
            return Not(self.unary())
        if self.tok.text == "(":
            self.take()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        path = self.path()
        token = self.tok
        if token.kind == "op":
            self.take()
            op = "!=" if token.text == "<>" else token.text
            return Comparison(path, op, self.literal(), token.pos)
        if token.is_kw("LIKE"):
            self.take()
            return Comparison(path, "LIKE", self.literal(), token.pos)
        op = "IN"
        if token.is_kw("NOT"):
            self.take()
            op = "NOT IN"
        self.expect_kw("IN")
        self.expect_punct("(")
        if self.tok.is_kw("SELECT"):
            sub = self.select(nested=True)
            self.expect_punct(")")
            return Comparison(path, op, sub, token.pos)
        values = [self.literal()]
        while self.tok.text == ",":
            self.take()
            values.append(self.literal())
        self.expect_punct(")")
        return Comparison(path, op, values, token.pos)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return Literal("string", token.value, token.pos, token.text)
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, token.pos, token.text)
        if token.kind == "datetime":
            moment = parse_datetime(token.text)
            if moment is None:
                raise self.fail(token)
            return Literal("datetime", moment, token.pos, token.text)
        if token.kind == "date":
            parsed = parse_date(token.text)
            if parsed is None:
                raise self.fail(token)
            return Literal("date", parsed, token.pos, token.text)
        if token.is_kw("TRUE", "FALSE"):
            return Literal("boolean", token.text.upper() == "TRUE", token.pos, token.text)
        if token.is_kw("NULL"):
            return Literal("null", None, token.pos, token.text)
        raise self.fail(token)


def parse(soql: str) -> Select:
    """Parse a query; MALFORMED_QUERY (HTTP 400) with Salesforce's caret layout on syntax errors."""
    return Parser(soql).parse()
