"""Hypothesis strategies for EventBridge events as Salesforce Event Relay delivers them, valid and hostile.

``relay_events(org_id)`` draws a ``RelayEvent``: a kind, the event, and whether the product may enqueue
anything for it. Valid events come in both JSON renderings Salesforce documents for change and platform
events (Change Data Capture Developer Guide, "Change Event Message Structure"; Pub/Sub API, "Event
Deserialization"): the Streaming API's (ISO-8601 dates, field names in ``changedFields``) and the Pub/Sub
API's (dates as epoch milliseconds; ``changedFields`` / ``nulledFields`` / ``diffFields`` as hex bitmaps;
every field present, unchanged ones null). Hostile kinds each break something the contract requires
(``shared.salesforce.change_events``): the partner source and the allowed org, the detail-type, the payload
and header objects, the change type, the record ids (wrong prefix, wrong length, wrong type, one bad id in
a huge list), the dates, the EventBridge id; plus oversized values and events that aren't JSON objects.
"""

from __future__ import annotations

import string
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from devtools.reliability.hostile_bodies import wrong_suffixes
from devtools.sam.lambda_events import change_event, eventbridge_event
from shared.salesforce.ids import to_18

_ALNUM = string.ascii_letters + string.digits
ORDER_ACTIVATED_EVENT = "Stripe_Order_Activated__e"  # template.yaml's OrderActivatedEventName default
_OTHER_ORG = "00D000000000099EAA"
_ENTITIES = {"Account": "001", "Contact": "003"}
# Any JSON value of another type than the field's; big strings stand for oversized fields.
_WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_HUGE_TEXT = st.integers(min_value=10_000, max_value=300_000).map(lambda n: "x" * n)


@dataclass(frozen=True)
class RelayEvent:
    """One event to deliver; ``may_enqueue`` is False for every hostile kind."""

    kind: str
    event: Any
    may_enqueue: bool


def _record_id(prefix: str) -> st.SearchStrategy[str]:
    """A well-formed 15- or 18-character id with the key prefix."""
    base = st.text(_ALNUM, min_size=12, max_size=12).map(lambda rest: prefix + rest)
    return st.one_of(base, base.map(to_18))


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


# Strategies are built once here: building one per draw costs hypothesis more than the draw itself.
_EPOCH_MS = st.integers(min_value=1_500_000_000_000, max_value=1_900_000_000_000)
_IDS = {prefix: _record_id(prefix) for prefix in ("001", "003", "801")}
_ID_LISTS = {prefix: st.lists(ids, min_size=1, max_size=5) for prefix, ids in _IDS.items()}
_ENTITY = st.sampled_from(sorted(_ENTITIES))
_CHANGE_TYPE = st.sampled_from(["CREATE", "UPDATE", "GAP_CREATE", "GAP_UPDATE"])
_BITMAP = st.integers(min_value=1, max_value=2**64)
_CHANGED_NAMES = st.lists(st.sampled_from(["Name", "Phone", "BillingCity", "LastModifiedDate"]), max_size=3)
_MAYBE_ACCOUNT = st.one_of(st.none(), _IDS["001"])
_UUID = st.uuids()
_COIN = st.booleans()


@st.composite
def _change(draw: Any, org_id: str, *, pubsub: bool, many: int = 0) -> dict[str, Any]:
    """A valid Account or Contact change event (CREATE / UPDATE / gap) in one rendering."""
    entity = draw(_ENTITY)
    ids = draw(_ID_LISTS[_ENTITIES[entity]])
    if many:  # many records: numbered after the first (drawing each one is slow)
        ids = [to_18(f"{ids[0][:9]}{n:06d}") for n in range(many)]
    change_type = draw(_CHANGE_TYPE)
    commit_ms = draw(_EPOCH_MS)
    if pubsub:
        changed = [f"0x{draw(_BITMAP):X}"]
        body = {"Name": None, "Phone": None, "LastModifiedDate": commit_ms, "CreatedDate": commit_ms - 1000}
    else:
        changed = draw(_CHANGED_NAMES)
        body = {"LastModifiedDate": _iso(commit_ms)}
    event = change_event(entity, change_type, ids, org_id=org_id, commit_ms=commit_ms, changed=changed, body=body)
    if pubsub:
        header = event["detail"]["payload"]["ChangeEventHeader"]
        header["nulledFields"], header["diffFields"] = ["0x0"], ["0x0"]
    return event


@st.composite
def _activation(draw: Any, org_id: str, *, pubsub: bool) -> dict[str, Any]:
    """A valid order-activation platform event, ``CreatedDate`` in the rendering's form."""
    created = draw(_EPOCH_MS)
    payload = {
        "OrderId__c": draw(_IDS["801"]),
        "AccountId__c": draw(_MAYBE_ACCOUNT),
        "CreatedDate": created if pubsub else _iso(created),
        "CreatedById": "005000000000001AAA",
        "EventUuid": draw(_UUID).hex,
    }
    return eventbridge_event(ORDER_ACTIVATED_EVENT, payload, org_id=org_id)


def _valid(org_id: str) -> st.SearchStrategy[RelayEvent]:
    return st.one_of(
        _change(org_id, pubsub=False).map(lambda e: RelayEvent("valid change, Streaming API JSON", e, True)),
        _change(org_id, pubsub=True).map(lambda e: RelayEvent("valid change, Pub/Sub API JSON", e, True)),
        _activation(org_id, pubsub=False).map(lambda e: RelayEvent("valid activation, Streaming API JSON", e, True)),
        _activation(org_id, pubsub=True).map(lambda e: RelayEvent("valid activation, Pub/Sub API JSON", e, True)),
        # One transaction changing many records: Salesforce groups them in one event's recordIds.
        st.one_of(_change(org_id, pubsub=False, many=25), _change(org_id, pubsub=True, many=25)).map(
            lambda e: RelayEvent("valid change, 25 recordIds", e, True)
        ),
    )


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    return event["detail"]["payload"]


def _is_change(event: dict[str, Any]) -> bool:
    return "ChangeEventHeader" in _payload(event)


# -- mutations: each makes the event one the function must not enqueue anything for ------------------------
_NOT_OBJECT = _WRONG.filter(lambda v: not isinstance(v, dict))
_BAD_DETAIL_TYPE = st.one_of(_WRONG, st.just("LeadChangeEvent"), st.text(max_size=40), st.just(None))
_OBJECT_TARGET = st.sampled_from(["detail", "payload", "header"])
_MISSING_OR_NOT_OBJECT = st.one_of(st.just("<missing>"), _NOT_OBJECT)
_ID_LIST_KIND = st.sampled_from(["one bad among good", "huge list with one bad", "not a list", "empty"])
_SMALL, _HUGE = st.integers(1, 20), st.integers(1_000, 20_000)
_POSITION = st.integers(0, 20_000)
_CHANGE_FIELD = st.sampled_from(["changeType", "entityName", "commitTimestamp"])
_BAD_CHANGE_TYPE = _WRONG.filter(lambda v: v is not None) | _HUGE_TEXT
_BAD_COMMIT = st.one_of(st.text(max_size=30), st.booleans(), st.integers(max_value=0), st.floats())
_ACTIVATION_FIELD = st.sampled_from(["OrderId__c", "CreatedDate"])
_BAD_ORDER_ID = st.one_of(_WRONG, _HUGE_TEXT, _IDS["001"], st.text(max_size=20))
_BAD_CREATED = st.one_of(
    st.text(st.characters(codec="ascii"), max_size=30).filter(lambda v: not v[:4].isdigit()),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_BAD_ID_VALUE = st.one_of(_WRONG, _HUGE_TEXT)
_BAD_EVENT_ID = st.one_of(_WRONG, _HUGE_TEXT, st.just(""))


def _bad_record_id(prefix: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        _WRONG,
        st.text(_ALNUM, min_size=15, max_size=15).filter(lambda v: not v.startswith(prefix)),  # another object's
        # wrong length (an id has 15 or 18 characters)
        st.text(_ALNUM, min_size=1, max_size=14).filter(lambda v: len(v) not in (12, 15)).map(lambda v: prefix + v),
        st.text(string.punctuation + " ", min_size=15, max_size=18),
        _IDS[prefix].map(to_18).flatmap(wrong_suffixes),  # right 15, wrong suffix
        _HUGE_TEXT,
    )


_BAD_RECORD_IDS = {prefix: _bad_record_id(prefix) for prefix in ("001", "003")}


def _hostile(org_id: str) -> list[st.SearchStrategy[RelayEvent]]:
    """One strategy per hostile kind, built once for the org."""
    base = st.one_of(
        _change(org_id, pubsub=False),
        _change(org_id, pubsub=True),
        _activation(org_id, pubsub=False),
        _activation(org_id, pubsub=True),
    )
    changes = st.one_of(_change(org_id, pubsub=False), _change(org_id, pubsub=True))
    bad_sources = st.one_of(
        _WRONG,
        st.just("aws.events"),
        st.just(f"aws.partner/salesforce.com/{_OTHER_ORG}/0YL000000000001"),  # an org not allowed
        st.just(f"aws.partner/salesforce.com/{org_id}"),  # no channel
        # the allowed org's 15 characters with another suffix: an alias, never the org
        wrong_suffixes(org_id).map(lambda alias: f"aws.partner/salesforce.com/{alias}/0YL000000000001"),
        st.just("aws.partner/salesforce.com/001000000000001AAA/0YL000000000001"),  # not an org id
        st.text(max_size=60),
    )

    @st.composite
    def wrong_source(draw: Any) -> RelayEvent:
        event = draw(base)
        event["source"] = draw(bad_sources)
        return RelayEvent("wrong source or org", event, False)

    @st.composite
    def wrong_detail_type(draw: Any) -> RelayEvent:
        event = draw(base)
        choice = draw(_BAD_DETAIL_TYPE)
        if choice is None:
            del event["detail-type"]
        else:
            event["detail-type"] = choice
        return RelayEvent("wrong or missing detail-type", event, False)

    @st.composite
    def missing_or_wrong_object(draw: Any) -> RelayEvent:
        event = draw(base)
        target = draw(_OBJECT_TARGET)
        holder, key = (event, "detail") if target == "detail" else (event["detail"], "payload")
        if target == "header" and _is_change(event):
            holder, key = _payload(event), "ChangeEventHeader"
        value = draw(_MISSING_OR_NOT_OBJECT)
        if value == "<missing>":
            del holder[key]
        else:
            holder[key] = value
        return RelayEvent("missing or non-object detail / payload / header", event, False)

    @st.composite
    def bad_record_ids(draw: Any) -> RelayEvent:
        event = draw(changes)
        header = _payload(event)["ChangeEventHeader"]
        bad = draw(_BAD_RECORD_IDS["001" if header["entityName"] == "Account" else "003"])
        kind = draw(_ID_LIST_KIND)
        if kind == "not a list":
            header["recordIds"] = bad
        elif kind == "empty":
            header["recordIds"] = []
        else:
            size = draw(_SMALL if kind == "one bad among good" else _HUGE)
            ids = [header["recordIds"][0]] * size
            ids.insert(min(draw(_POSITION), size), bad)
            header["recordIds"] = ids
        return RelayEvent(f"bad recordIds ({kind})", event, False)

    @st.composite
    def bad_field(draw: Any) -> RelayEvent:
        """A required field of the payload or header with a wrong type, an impossible value or oversized."""
        event = draw(base)
        payload = _payload(event)
        if _is_change(event):
            header = payload["ChangeEventHeader"]
            field = draw(_CHANGE_FIELD)
            if field == "changeType":
                header[field] = draw(_BAD_CHANGE_TYPE)
            elif field == "entityName":
                header[field] = "Contact" if header[field] == "Account" else "Lead"
            else:
                header[field] = draw(_BAD_COMMIT)
        else:
            field = draw(_ACTIVATION_FIELD)
            payload[field] = draw(_BAD_ORDER_ID if field == "OrderId__c" else _BAD_CREATED)
        return RelayEvent(f"bad {field}", event, False)

    @st.composite
    def no_event_id(draw: Any) -> RelayEvent:
        """No usable id: the EventBridge id missing or oversized, and no payload id to fall back on."""
        event = draw(base)
        payload = _payload(event)
        if _is_change(event):
            payload["ChangeEventHeader"]["transactionKey"] = draw(_BAD_ID_VALUE)
        else:
            payload["EventUuid"] = draw(_BAD_ID_VALUE)
        event["id"] = draw(_BAD_EVENT_ID)
        return RelayEvent("no usable event id", event, False)

    not_an_object = st.one_of(_NOT_OBJECT, st.text(max_size=50)).map(
        lambda v: RelayEvent("event is not a JSON object", v, False)
    )
    return [
        wrong_source(),
        wrong_detail_type(),
        missing_or_wrong_object(),
        bad_record_ids(),
        bad_field(),
        no_event_id(),
        not_an_object,
    ]


def relay_events(org_id: str) -> st.SearchStrategy[RelayEvent]:
    """Every kind; about one event in 40 valid (each enqueues up to 25 messages), the rest hostile."""
    valid, hostile = _valid(org_id), st.one_of(_hostile(org_id))
    # A middle value: hypothesis favours the bounds of a range.
    return st.integers(min_value=0, max_value=39).flatmap(lambda n: valid if n == 20 else hostile)
