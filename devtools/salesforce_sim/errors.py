"""The one error type the simulator raises; the server turns it into Salesforce's JSON error bodies."""

from __future__ import annotations


class SalesforceError(Exception):
    """A Salesforce API error: HTTP status, error code (e.g. INVALID_FIELD) and message."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.record_id: str | None = None  # set for per-record errors in sObject Collections

    def rest_body(self) -> list[dict[str, object]]:
        """Top-level REST error body: a JSON array with `errorCode` (not `statusCode`)."""
        item: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def save_error(self) -> dict[str, object]:
        """Per-record error inside sObject Collections results, keyed `statusCode`."""
        return {"statusCode": self.code, "message": self.message, "fields": self.fields or []}


def no_such_column(field: str, entity: str) -> SalesforceError:
    """SOQL wording for an unknown field (DML uses `no_such_column_dml`)."""
    return SalesforceError(
        400,
        "INVALID_FIELD",
        f"No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
        "describe call for the appropriate names.",
    )


def no_such_column_dml(field: str, entity: str) -> SalesforceError:
    """Wording real orgs use when a PATCH/POST body names an unknown field."""
    return SalesforceError(400, "INVALID_FIELD", f"No such column '{field}' on sobject of type {entity}")


def not_found(record_id: str | None = None) -> SalesforceError:
    """404 for an unknown resource or a record id that matches nothing."""
    if record_id is None:
        return SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return SalesforceError(
        404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {record_id}"
    )
