"""Mapping changes in three steps: ``sfsync mapping check``, ``preview`` and ``publish``, against the org.

A deployed stack reads its mapping from an SSM String parameter; SSM keeps its earlier versions
(https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html). A published
version that does not fit the org never stops the sync: the worker uses the newest version that fits and
raises the configuration alarm (the ``mapping_refused`` metric).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters

from ops.cli import main
from tests.integration.conftest import StackFactory
from tests.integration.stack import Stack


class WorkerLog(logging.Handler):
    """The records the worker's logger emits (its extras as attributes), once attached after the stack started:
    Powertools' Logger takes the first handler it finds as its own."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, message: str) -> list[str]:
        """The ``error`` extra of each record with ``message``."""
        return [str(getattr(r, "error", "")) for r in self.records if r.getMessage() == message]


@pytest.fixture
def worker_log() -> Iterator[WorkerLog]:
    log = WorkerLog()
    yield log
    logging.getLogger("salesforce-stripe-sync").removeHandler(log)


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
    stack_factory: StackFactory,
    moto_endpoint: str,
    capsys: pytest.CaptureFixture[str],
    worker_log: WorkerLog,
) -> None:
    # Given a mapping published to SSM that fits the org, then a newer version with a misspelled field
    stack, name = ssm_stack(stack_factory, moto_endpoint, FITS, MISSPELLED)
    logging.getLogger("salesforce-stripe-sync").addHandler(worker_log)
    # When an account changes and the worker starts cold
    stack.sim.create("Account", {"Name": "Weiter GmbH", "Description": "still synced"})
    stack.settle()
    # Then the account is synced with version 1, the newest version that fits
    assert [(c["name"], c.get("description")) for c in stack.stripe.customers()] == [("Weiter GmbH", "still synced")]
    # And the worker raised the configuration alarm (its metric), its log naming the refused field and the version kept
    assert '"mapping_refused"' in capsys.readouterr().out
    (refused,) = worker_log.messages("configuration error: published mapping refused")
    assert "Billing_Emial__c" in refused and f"using version 1 of {name}" in refused


CITY_INSTEAD_OF_DESCRIPTION = {"fields": {"name": "Name", "address.city": "BillingCity"}}


def sfsync(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command line with the stack's settings (its environment); returns (status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def mapping_file(tmp_path: Path, mapping: dict[str, Any]) -> str:
    path = tmp_path / "new-mapping.json"
    path.write_text(json.dumps(mapping))
    return str(path)


def synced_account(stack: Stack, **fields: Any) -> str:
    account_id = stack.sim.create("Account", {"Name": "Muster AG", **fields})
    stack.settle()
    return account_id


def test_mapping_check_names_a_misspelled_field_and_a_good_file_passes(
    stack_factory: StackFactory, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack and a mapping file with a misspelled Salesforce field
    ssm_stack(stack_factory, moto_endpoint, FITS)
    # When the operator checks it against the org
    code, out, _ = sfsync(capsys, "mapping", "check", mapping_file(tmp_path, MISSPELLED))
    # Then it fails, naming the entry and the field, before anything is published
    assert code == 1
    assert "fields['email'] (Account.Billing_Emial__c): no field Billing_Emial__c" in out
    # And a file whose fields all exist passes
    code, out, _ = sfsync(capsys, "mapping", "check", mapping_file(tmp_path, CITY_INSTEAD_OF_DESCRIPTION))
    assert code == 0 and "fits the org" in out


def test_mapping_preview_lists_what_would_change_and_writes_nothing(
    stack_factory: StackFactory, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a customer synced with a mapping of name and description
    stack, _ = ssm_stack(stack_factory, moto_endpoint, FITS)
    account_id = synced_account(stack, Description="Key account", BillingCity="Berlin")
    before = stack.stripe.customers()
    new = mapping_file(tmp_path, CITY_INSTEAD_OF_DESCRIPTION)
    # When the operator previews a mapping of the city instead of the description, with the values
    code, out, err = sfsync(capsys, "mapping", "preview", new, "--values")
    # Then the account's city would be set and its description cleared, with both values shown
    assert code == 0, err
    assert f"account {account_id} → {before[0]['id']}: would change" in out
    assert "address.city: (empty) → 'Berlin'" in out
    assert "description: 'Key account' → (empty)" in out
    assert "1 accounts read: 1 would change" in out
    # And without a terminal or --values, only the field names are printed (no personal data in a file)
    code, out, _ = sfsync(capsys, "mapping", "preview", new, "--account", account_id)
    assert code == 0 and "  address.city\n" in out and "Berlin" not in out
    # And nothing was written to Stripe
    assert stack.stripe.customers() == before


def test_mapping_publish_refuses_a_mapping_that_does_not_fit_the_org(
    stack_factory: StackFactory, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack whose mapping is version 1 of its SSM parameter
    _, name = ssm_stack(stack_factory, moto_endpoint, FITS)
    # When the operator publishes a mapping with a misspelled field
    code, out, _ = sfsync(capsys, "mapping", "publish", mapping_file(tmp_path, MISSPELLED))
    # Then it is refused, naming the field, and the parameter still holds version 1
    assert code == 1 and "Billing_Emial__c" in out
    ssm = boto3.client("ssm", endpoint_url=moto_endpoint)
    assert ssm.get_parameter(Name=name)["Parameter"]["Version"] == 1


def test_mapping_publish_with_resync_brings_every_customer_the_newly_mapped_field(
    stack_factory: StackFactory, moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a customer synced with a mapping of name and description, by a worker that is now warm
    stack, name = ssm_stack(stack_factory, moto_endpoint, FITS)
    synced_account(stack, Description="Key account", BillingCity="Berlin")
    # When the operator publishes a mapping of the city, and queues a sync of every account
    code, out, err = sfsync(
        capsys, "mapping", "publish", mapping_file(tmp_path, CITY_INSTEAD_OF_DESCRIPTION), "--resync"
    )
    assert code == 0, err
    assert f"as version 2 of {name}" in out and "queued a sync of 1 accounts" in out
    # And five minutes pass (the worker's cache of the parameter expires)
    parameters.clear_caches()
    stack.settle()
    # Then the warm worker uses the new mapping: the customer has the city, without any account edit
    (customer,) = stack.stripe.customers()
    assert customer["address"]["city"] == "Berlin"


def test_mapping_publish_on_a_stack_with_a_preset_says_how_to_publish(
    stack_factory: StackFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a stack whose mapping is a preset in the deployment
    stack_factory()
    # When the operator publishes a file, Then it is a configuration error saying to deploy with an SSM name
    code, _, err = sfsync(capsys, "mapping", "publish", mapping_file(tmp_path, CITY_INSTEAD_OF_DESCRIPTION))
    assert code == 2 and "MappingConfig=/<parameter name>" in err
