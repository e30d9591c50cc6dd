"""A query Salesforce refuses names the right cause: the mapped field names only for INVALID_FIELD.

SOQL: an unknown field is ``INVALID_FIELD`` ("No such column ..."); an id literal that is no record id is
``INVALID_QUERY_FILTER_OPERATOR`` ("invalid ID field: ...") — the Salesforce simulator answers both as the
REST API does (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
"""

from __future__ import annotations

import pytest

from shared.components import Components
from shared.errors import TransientSyncError
from shared.salesforce import AccountQuery
from shared.settings import WorkerSettings
from tests.integration.conftest import StackFactory


@pytest.mark.vendor_doc(
    "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm",
    "INVALID_QUERY_FILTER_OPERATOR for an id literal that is no record id; INVALID_FIELD for an unknown field",
)
def test_an_unknown_account_id_is_not_blamed_on_the_mapped_field_names(stack_factory: StackFactory) -> None:
    # Given the stack's Salesforce connection
    stack_factory()
    salesforce = Components(WorkerSettings.from_env()).salesforce
    # When it is asked for an account by something that is no Salesforce id
    with pytest.raises(TransientSyncError) as refused:
        salesforce.read_accounts(["001-no-such-id"], AccountQuery(("Name",), ("Id",)))
    # Then the error says the id is the problem, not the mapping
    assert "mapped field names" not in str(refused.value)
    assert "not a Salesforce record id" in str(refused.value)
    # And a field the org lacks is still blamed on the mapped field names
    with pytest.raises(TransientSyncError, match=r"check the mapped field names\): INVALID_FIELD"):
        salesforce.read_accounts(["001000000000001AAA"], AccountQuery(("Nmae",), ("Id",)))
