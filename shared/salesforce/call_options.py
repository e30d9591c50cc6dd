"""The sync's own Salesforce writes, tagged so their change events are recognised without a read.

The write-back sends ``Sforce-Call-Options: client=salesforce-stripe-sync`` (REST API Developer Guide, "Call
Options Header": https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_calloptions.htm).
Salesforce puts the calling client into the change event it publishes: ``ChangeEventHeader.changeOrigin`` is
``com/salesforce/api/<API>/<version>;client=<client id>`` — "use this field to detect whether your app
initiated the change so you don't process the change again" (Change Data Capture Developer Guide, "Change
Event Header Fields": https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/
change_data_capture/cdc_event_fields_header.htm).
"""

from __future__ import annotations

CLIENT_ID = "salesforce-stripe-sync"
CALL_OPTIONS_HEADER = {"Sforce-Call-Options": f"client={CLIENT_ID}"}
# System fields every update changes besides the fields written.
SYSTEM_FIELDS = frozenset({"LastModifiedDate", "LastModifiedById", "SystemModstamp"})


def made_by_the_sync(change_origin: object) -> bool:
    """True when ``changeOrigin`` names this sync's client (``…;client=salesforce-stripe-sync``)."""
    if not isinstance(change_origin, str):
        return False
    return any(part.strip() == f"client={CLIENT_ID}" for part in change_origin.split(";")[1:])
