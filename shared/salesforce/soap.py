"""The SOAP responses Salesforce expects from an Outbound Message listener.

Only an HTTP 200 with ``<Ack>true</Ack>`` counts as delivered; anything else (a fault, an error status)
makes Salesforce retry the whole message later, for up to 24 hours.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

CONTENT_TYPE = "text/xml; charset=utf-8"

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


def fault(reason: str, *, server_side: bool = False) -> str:
    """A SOAP 1.1 fault; ``Client`` faults mean "fix the message", ``Server`` faults mean "try again later"."""
    code = "soapenv:Server" if server_side else "soapenv:Client"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{code}</faultcode><faultstring>{escape(reason)}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
