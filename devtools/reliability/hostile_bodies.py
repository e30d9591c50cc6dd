"""Hypothesis strategies for hostile Outbound Message requests.

``hostile_requests(token, org_id)`` draws a ``HostileRequest``: a kind, a query string and a body. Every
kind is built so the receiver must refuse it (or, for notifications of an object it does not sync or that
carry no usable record, acknowledge it without enqueuing anything — unusable ones are kept in the DLQ with
the reason): malformed XML, DTDs and entities, oversize, deep nesting,
wrong namespaces, wrong organization, wrong or missing token, wrong types, random bytes, truncated valid
messages, 0 or 101 notifications.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from devtools.sam.make_events import soap_message

MAX_BODY_BYTES = 1_048_576  # the receiver's default limit (MAX_BODY_BYTES)
_ALNUM = string.ascii_letters + string.digits
_CHECKSUM_CHARS = string.ascii_uppercase + "012345"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"


@dataclass(frozen=True)
class HostileRequest:
    """One request to throw at the receiver."""

    kind: str
    query: str
    body: bytes


def _ids(prefix: str) -> st.SearchStrategy[str]:
    return st.text(_ALNUM, min_size=15, max_size=15).map(lambda rest: prefix + rest[3:])


def wrong_suffixes(salesforce_id: str) -> st.SearchStrategy[str]:
    """The id's first 15 characters with any other 3-character suffix ("right 15, wrong suffix").

    Salesforce never sends such an id (the suffix is the checksum of the 15: SOAP API Developer Guide, "Field
    Types" → "ID Field Type"); accepted, it would be a second key for the same org or record.
    """
    suffixes = st.text(_CHECKSUM_CHARS, min_size=3, max_size=3) | st.text(_ALNUM, min_size=3, max_size=3)
    return suffixes.filter(lambda suffix: suffix != salesforce_id[15:18]).map(lambda s: salesforce_id[:15] + s)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn")), max_size=40).map(escape)
_STAMP = st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


@st.composite
def _notification(draw: Any, sobject: str = "Account") -> tuple[str, str, dict[str, str]]:
    fields = {"Id": draw(_ids("001")), "Name": draw(_TEXT), "SystemModstamp": draw(_STAMP)}
    return "04l" + draw(_ids("04l"))[3:], sobject, fields


@st.composite
def valid_message(draw: Any, org_id: str, min_size: int = 1, max_size: int = 5) -> bytes:
    """An acceptable Outbound Message of the allowed org (the base the mutations start from)."""
    notifications = draw(st.lists(_notification(), min_size=min_size, max_size=max_size))
    return soap_message(notifications, org_id=org_id)


# -- mutations that always break a message -----------------------------------------------------------------
def _insert(body: bytes, at: int, text: bytes) -> bytes:
    return body[:at] + text + body[at:]


@st.composite
def _malformed(draw: Any, org_id: str) -> bytes:
    body = draw(valid_message(org_id))
    if draw(st.integers(0, 4)) == 0:
        # A declaration naming an encoding that is unknown, or wrong for these (UTF-8) bytes.
        encoding = draw(st.sampled_from([b"x-no-such-encoding", b"bogus", b"UTF-16", b"UTF-32", b"cp932", b"cp500"]))
        return body.replace(b'encoding="UTF-8"', b'encoding="' + encoding + b'"', 1)
    at = draw(st.integers(0, len(body)))
    # A bare "<" or "&" followed by a space is never well-formed, wherever it lands.
    breaker = draw(st.sampled_from([b"< ", b"& ", b"<<", b"&#xD800; ", b"</x>", b"\x00"]))
    return _insert(body, at, breaker)


@st.composite
def _truncated(draw: Any, org_id: str) -> bytes:
    body = draw(valid_message(org_id))
    return body[: draw(st.integers(0, len(body) - 1))]


_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]><lolz>&lol9;</lolz>"
)
_DTDS = [
    _LAUGHS,
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
    b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]><r/>',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"x" * 50_000 + b'">]><r>' + b"&a;" * 1000 + b"</r>",
]


@st.composite
def _dtd(draw: Any, org_id: str) -> bytes:
    if draw(st.booleans()):
        return draw(st.sampled_from(_DTDS))
    # An otherwise valid message with an internal subset whose entity it uses.
    body = draw(valid_message(org_id)).replace(b'<?xml version="1.0" encoding="UTF-8"?>\n', b"")
    entity = draw(st.sampled_from([b'"' + b"A" * draw(st.integers(1, 5000)) + b'"', b'SYSTEM "file:///etc/hostname"']))
    body = body.replace(b"<sf:Name>", b"<sf:Name>&e;", 1)
    return b'<?xml version="1.0"?><!DOCTYPE soapenv:Envelope [<!ENTITY e ' + entity + b">]>" + body


@st.composite
def _oversize(draw: Any, org_id: str) -> bytes:
    body = draw(valid_message(org_id))
    extra = MAX_BODY_BYTES - len(body) + draw(st.integers(1, 65_536))
    filler = draw(st.sampled_from([b" ", b"<!-- x -->", b"\n"]))
    return body.replace(b"<soapenv:Body>", b"<soapenv:Body>" + filler * (extra // len(filler) + 1), 1)


@st.composite
def _deep(draw: Any, org_id: str) -> bytes:
    depth = draw(st.integers(13, 20_000))
    tag = draw(st.sampled_from([b"sf:x", b"a", b"soapenv:Body"]))
    nested = b"<%s>" % tag * depth + b"v" + b"</%s>" % tag * depth
    body = draw(valid_message(org_id, max_size=1))
    if draw(st.booleans()):
        return body.replace(b"<sf:Name>", b"<sf:Name>" + nested, 1)
    return body.replace(b"</notifications>", nested + b"</notifications>", 1)


@st.composite
def _wrong_namespace(draw: Any, org_id: str) -> bytes:
    body = draw(valid_message(org_id))
    old = draw(st.sampled_from([SOAP_ENV.encode(), OUTBOUND.encode()]))
    new = draw(
        st.sampled_from(
            [b"http://www.w3.org/2003/05/soap-envelope", b"http://soap.sforce.com/2005/09/outbound/", b"urn:evil", b""]
        )
    )
    if new == b"" and old == SOAP_ENV.encode():
        new = b"urn:none"  # an empty prefixed namespace would only be malformed XML
    return body.replace(old, new)


@st.composite
def _wrong_org(draw: Any, org_id: str) -> bytes:
    other = draw(
        st.one_of(
            _ids("00D").filter(lambda candidate: candidate[:15] != org_id[:15]),
            st.just(org_id[:15].lower()),
            st.just(org_id[:14]),
            _ids("001"),
            st.text(_ALNUM + "-_.", max_size=30).filter(lambda text: text[:15] != org_id[:15]),
        )
    )
    return draw(valid_message(org_id)).replace(org_id.encode(), other.encode(), 1)


@st.composite
def _org_id_wrong_suffix(draw: Any, org_id: str) -> bytes:
    """The allowed org's 15 characters with another suffix: an alias of the org, never accepted."""
    return draw(valid_message(org_id)).replace(org_id.encode(), draw(wrong_suffixes(org_id)).encode(), 1)


@st.composite
def _wrong_types(draw: Any, org_id: str) -> bytes:
    notification = draw(_notification())
    nid, sobject, fields = notification
    choice = draw(st.integers(0, 6))
    if choice == 0:
        other = st.text(_ALNUM, max_size=20).filter(lambda text: not text.startswith("001"))
        fields["Id"] = draw(st.one_of(_ids("003"), _ids("801"), other))
    elif choice == 1:
        fields["SystemModstamp"] = draw(st.sampled_from(["yesterday", "2026-13-45T99:00:00Z", "1e9", "Z"]))
    elif choice == 2:
        del fields["Id"]
    elif choice == 3:
        nid = draw(st.text(_ALNUM, min_size=256, max_size=2000))  # longer than any event id may be
    elif choice == 4:
        sobject = draw(st.sampled_from(["Lead", "", "Opportunity", "Account Order"]))  # refused or ignored
    elif choice == 5:
        nid = ""
    else:
        return soap_message([(nid, sobject, fields)], org_id=org_id).replace(b"<ActionId>", b"<Other>", 1)
    return soap_message([(nid, sobject, fields)], org_id=org_id)


@st.composite
def _count(draw: Any, org_id: str) -> bytes:
    if draw(st.booleans()):
        return soap_message([], org_id=org_id)
    _, sobject, fields = draw(_notification())  # one drawn notification, 101 distinct copies (fast)
    copies = [(f"04l{i:015d}", sobject, {**fields, "Id": f"001{i:015d}"}) for i in range(101)]
    return soap_message(copies, org_id=org_id)


_BODIES = {
    "malformed_xml": _malformed,
    "truncated": _truncated,
    "dtd_entities": _dtd,
    "oversize": _oversize,
    "deep_nesting": _deep,
    "wrong_namespace": _wrong_namespace,
    "wrong_org": _wrong_org,
    "org_id_wrong_suffix": _org_id_wrong_suffix,
    "wrong_types": _wrong_types,
    "notification_count": _count,
}


def hostile_requests(token: str, org_id: str) -> st.SearchStrategy[HostileRequest]:
    """Every kind, each with the right token, plus wrong or missing tokens on valid messages."""
    good = f"token={token}"
    kinds = [st.builds(HostileRequest, st.just(name), st.just(good), body(org_id)) for name, body in _BODIES.items()]
    kinds.append(st.builds(HostileRequest, st.just("random_bytes"), st.just(good), st.binary(max_size=4096)))
    bad_tokens = st.one_of(
        st.just(""),
        st.just("token="),
        st.text(max_size=60).filter(lambda text: text != token).map(lambda text: "token=" + quote(text)),
        st.just(f"token={token[:-1]}"),
        st.just(f"token={token}x"),
        st.just(f"token={token.upper()}" if token.upper() != token else "token=X"),
        st.just(f"Token={token}"),
        st.just(f"token={token}&token=wrong"),
    )
    kinds.append(st.builds(HostileRequest, st.just("wrong_token"), bad_tokens, valid_message(org_id)))
    return st.one_of(kinds)
