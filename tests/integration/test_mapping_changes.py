"""Mapping changes in three steps: ``sfsync mapping check``, ``preview`` and ``publish``, against the org.

A deployed stack reads its mapping from an SSM String parameter; SSM keeps its earlier versions
(https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html). A published
version that does not fit the org never stops the sync: the worker uses the newest version that fits and
raises the configuration alarm (the ``mapping_refused`` metric).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack

FITS = {"fields": {"name": "Name", "description": "Description"}}
MISSPELLED = {"fields": {"name": "Name", "email": "Billing_Emial__c"}}


def ssm_stack(stack_factory: StackFactory, moto_endpoint: str, *versions: dict[str, Any]) -> tuple[Stack, str]:
    """A stack whose mapping is an SSM parameter holding ``versions`` in order (the last is the newest)."""
    name = f"/sfsync-test/{uuid.uuid4().hex[:8]}/mapping"
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint)
    for version in versions:
        ssm.put_parameter(Name=name, Value=json.dumps(version), Type="String", Overwrite=True)
    stack = stack_factory(
        MAPPING_CONFIG_SSM_PARAMETER=name, AWS_ENDPOINT_URL_SSM=moto_endpoint, CREATION_MODE="every_account"
    )
    return stack, name


@pytest.mark.vendor_doc(
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameterHistory.html",
    "SSM keeps a parameter's earlier versions; GetParameterHistory returns them with their version numbers",
)
def test_a_published_mapping_that_does_not_fit_the_org_never_stops_the_sync(
    stack_factory: StackFactory, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a mapping published to SSM that fits the org, then a newer version with a misspelled field
    stack, name = ssm_stack(stack_factory, moto_endpoint, FITS, MISSPELLED)
    # When an account changes and the worker starts cold
    stack.sim.create("Account", {"Name": "Weiter GmbH", "Description": "still synced"})
    stack.settle()
    # Then the account is synced with version 1, the newest version that fits
    assert [(c["name"], c.get("description")) for c in stack.stripe.customers()] == [("Weiter GmbH", "still synced")]
    # And the worker raised the configuration alarm, its log naming the refused entry and the version kept
    out = capsys.readouterr().out
    assert '"mapping_refused"' in out
    assert "Billing_Emial__c" in out and f"using version 1 of {name}" in out
