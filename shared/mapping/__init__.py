"""The one place where a Salesforce field becomes a Stripe customer field.

    mapping = load_mapping("standard")       # preset name or JSON file path
    mapping.account_fields, mapping.order_fields   # what the worker's SOQL must select
    mapped = mapping.map_account(record)     # REST API Account record (+ "Orders" subquery)
    mapped.params, mapped.flat, mapped.content_hash, mapped.contact_ids
    mapped.warnings                          # FieldWarning per field Stripe can't take as it is

Presets (presets/*.json): `default` (R4: name, description), `standard` (the R5 table) and
`standard_picklists` (R5 for orgs with State/Country picklists, reading the *Code fields first; a
separate preset because selecting a *Code field in an org without picklists fails the whole SOQL).

Imports nothing heavy (no boto3, stripe, simple_salesforce): the Lambda receiver stays light.
"""

from shared.mapping.config import MappingConfigError
from shared.mapping.field_warnings import FieldProblem, FieldWarning, left_out, warnings_text
from shared.mapping.list_fields import TAX_ID_DATA
from shared.mapping.mapper import CustomerMapping, MappedCustomer, load_configured_mapping, load_mapping
from shared.mapping.org_check import Finding, check_mapping, check_query_basics, check_write_back, errors_of

__all__ = [
    "TAX_ID_DATA",
    "CustomerMapping",
    "FieldProblem",
    "FieldWarning",
    "Finding",
    "MappedCustomer",
    "MappingConfigError",
    "check_mapping",
    "check_query_basics",
    "check_write_back",
    "errors_of",
    "left_out",
    "load_configured_mapping",
    "load_mapping",
    "warnings_text",
]
