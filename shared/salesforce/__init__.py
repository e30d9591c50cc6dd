"""Everything that speaks Salesforce: the REST gateway (port + simple-salesforce adapter) and its SOQL,
login, ids and datetimes, the Outbound Message (SOAP) parser and its Ack, change and platform events.

Names are loaded on first use (PEP 562), so a light Lambda importing one of them never imports the
heavy SDKs behind the others (``tests/hygiene/test_package_exports.py`` keeps this list true)."""

from typing import TYPE_CHECKING

from shared._exports import lazy_exports

if TYPE_CHECKING:
    from shared.salesforce.auth import (
        SOAP_LOGIN_LAST_VERSION,
        LoginRedirectAdapter,
        SalesforceCredentials,
        check_login_supported,
        connect,
    )
    from shared.salesforce.change_events import (
        GAP_OVERFLOW,
        MALFORMED_EVENT,
        ORG_NOT_ALLOWED,
        WILDCARD_RECORD_IDS,
        NormalisedEvent,
        normalise_event,
    )
    from shared.salesforce.datetimes import parse_salesforce_datetime
    from shared.salesforce.describe import COMPOUND_TYPES, FieldInfo, ObjectInfo, OrgSchema
    from shared.salesforce.gateway import (
        ACTIVATED_ORDER,
        AccountQuery,
        RecordError,
        SalesforceGateway,
        SimpleSalesforceGateway,
        latest_activated_order_subquery,
        soql_quote,
        with_version_fields,
    )
    from shared.salesforce.ids import is_salesforce_id, to_18
    from shared.salesforce.outbound_message import (
        MalformedMessage,
        Notification,
        OutboundMessage,
        UnusableNotification,
        parse_outbound_message,
    )
    from shared.salesforce.outbound_requests import OUTBOUND_MESSAGE_FIELDS, from_outbound_message

EXPORTS = {
    "gateway": (
        "SalesforceGateway",
        "SimpleSalesforceGateway",
        "AccountQuery",
        "RecordError",
        "ACTIVATED_ORDER",
        "latest_activated_order_subquery",
        "soql_quote",
        "with_version_fields",
    ),
    "auth": (
        "SalesforceCredentials",
        "connect",
        "check_login_supported",
        "SOAP_LOGIN_LAST_VERSION",
        "LoginRedirectAdapter",
    ),
    "describe": (
        "OrgSchema",
        "ObjectInfo",
        "FieldInfo",
        "COMPOUND_TYPES",
    ),
    "outbound_message": (
        "OutboundMessage",
        "Notification",
        "MalformedMessage",
        "UnusableNotification",
        "parse_outbound_message",
    ),
    "outbound_requests": ("from_outbound_message", "OUTBOUND_MESSAGE_FIELDS"),
    "change_events": (
        "NormalisedEvent",
        "normalise_event",
        "GAP_OVERFLOW",
        "MALFORMED_EVENT",
        "ORG_NOT_ALLOWED",
        "WILDCARD_RECORD_IDS",
    ),
    "ids": (
        "is_salesforce_id",
        "to_18",
    ),
    "datetimes": ("parse_salesforce_datetime",),
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
