"""salesforce/ converts with Salesforce's own library, and `make salesforce-package` renders a deployable copy.

The conversion runs @salesforce/source-deploy-retrieve (pinned in package-lock.json; the library behind
`sf project convert source` and `sf project deploy start`) offline: no org, telemetry and update checks off.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest

from devtools.salesforce_package import render
from devtools.salesforce_package.convert import ConversionError, convert, convert_all
from devtools.salesforce_sim.package import PACKAGE_ROOT, load_package

NS = "{http://soap.sforce.com/2006/04/metadata}"


def manifest_types(manifest: str) -> dict[str, set[str]]:
    root = SafeET.fromstring(manifest)
    return {t.findtext(f"{NS}name"): {m.text for m in t.findall(f"{NS}members")} for t in root.findall(f"{NS}types")}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, set[str]]]:
    output = tmp_path_factory.mktemp("mdapi")
    return {c.directory: manifest_types(c.manifest) for c in convert_all(output)}


def test_every_package_directory_converts_to_metadata_api_format(converted: dict[str, dict[str, set[str]]]) -> None:
    # Given the project converted by Salesforce's library, one package.xml per package directory
    package = load_package()
    core, cpq = converted["force-app"], converted["cpq"]
    # Then the manifest lists what the sync needs, under the names the loader (and the simulator) read
    assert core["CustomField"] >= {f"Account.{f.name}" for f in package.fields_of("Account")}
    messages = core["WorkflowOutboundMessage"] | cpq["WorkflowOutboundMessage"]
    assert messages == {m.full_name for m in package.outbound_messages}
    assert core["Flow"] | cpq["Flow"] == {f.name for f in package.flows}
    assert {f.sobject for f in package.flows if f.name in cpq["Flow"]} == {"SBQQ__Quote__c"}
    # The platform event, the hierarchy custom setting the Stripe Dashboard link reads its mode from, and the
    # sync history with its fields; the "Sync to Stripe now" quick action; one holding the admin's sync preferences
    history = {o.name for o in package.custom_objects}
    assert history == {"Stripe_Sync_Record__c"}
    settings = {"Stripe_Sync_Dashboard__c", "Stripe_Sync_Preferences__c"}
    assert set(package.custom_settings) == settings
    assert core["CustomObject"] == {e.name for e in package.platform_events} | settings | history
    assert core["CustomField"] >= {
        f"Stripe_Sync_Record__c.{f.name}" for f in package.fields_of("Stripe_Sync_Record__c")
    }
    assert (
        core["QuickAction"]
        == {f"{a.sobject}.{a.name}" for a in package.quick_actions}
        == {"Account.Sync_to_Stripe_Now"}
    )
    assert "Stripe_Sync_Dashboard__c.Test_Mode__c" in core["CustomField"]
    assert {f"Stripe_Sync_Preferences__c.{f.name}" for f in package.fields_of("Stripe_Sync_Preferences__c")} <= (
        core["CustomField"]
    )
    assert core["ListView"] == {"Account.Stripe_Sync_Problems"}
    assert core["PermissionSet"] == {"Stripe_Sync_Integration", "Stripe_Sync_Fields", "Stripe_Sync_Now"}
    assert cpq["PermissionSet"] == {"Stripe_Sync_Integration_CPQ"}
    assert converted["event-relay"]["PlatformEventChannel"] == set(package.channel_members)
    assert converted["event-relay-cpq"] == {
        "PlatformEventChannelMember": {"Stripe_Sync_Changes_chn_SBQQ_Quote_ChangeEvent"}
    }
    # And the External Client App for the JWT bearer flow deploys from source (its certificate and policies
    # are Setup steps: the global OAuth settings "can't be packaged and must not be added to source control")
    assert converted["external-client-app"] == {
        "ExternalClientApplication": {"Stripe_Sync"},
        "ExtlClntAppOauthSettings": {"Stripe_Sync_oauth"},
    }


def test_a_misplaced_metadata_file_fails_the_conversion(tmp_path: Path) -> None:
    # Given a copy of the project where a field file got a wrong suffix (what a hand edit can do)
    copy = tmp_path / "salesforce"
    shutil.copytree(PACKAGE_ROOT, copy)
    fields = copy / "force-app/main/default/objects/Account/fields"
    (fields / "Stripe_Sync_Error__c.field-meta.xml").rename(fields / "Stripe_Sync_Error__c.feld-meta.xml")
    # When it is converted, Then the library refuses it, naming the file
    with pytest.raises(ConversionError, match="Stripe_Sync_Error__c"):
        convert(copy / "force-app", tmp_path / "out")


def test_render_puts_the_stacks_endpoint_and_user_into_an_ignored_copy(tmp_path: Path) -> None:
    # Given the local stack's endpoint (with its token), as `make serve` writes it
    stack_json = tmp_path / "stack.json"
    endpoint = "https://abc123.execute-api.eu-central-1.amazonaws.com/outbound-message?token=s3cr3t"
    stack_json.write_text(json.dumps({"outbound_message_url": endpoint}))
    # When the package is rendered
    output = render.render(render.endpoint_from_local(stack_json), "stripe-sync@acme.com", tmp_path / "rendered")
    # Then every Outbound Message of the copy goes there as that user, and the copy still converts
    workflows = sorted(output.glob("*/**/workflows/*.workflow-meta.xml"))
    rendered = [m for w in workflows for m in SafeET.parse(w).getroot().findall(f"{NS}outboundMessages")]
    assert len(rendered) == len(load_package().outbound_messages)
    for workflow in workflows:
        root = SafeET.parse(workflow).getroot()
        for message in root.findall(f"{NS}outboundMessages"):
            assert message.findtext(f"{NS}endpointUrl") == endpoint
            assert message.findtext(f"{NS}integrationUser") == "stripe-sync@acme.com"
    convert(output / "force-app", tmp_path / "out")
    # And the source in the repository keeps its placeholders (the token is never committed)
    assert all(m.endpoint_url == render.ENDPOINT_PLACEHOLDER for m in load_package().outbound_messages)
    assert render.DEFAULT_OUTPUT.is_relative_to(PACKAGE_ROOT.parent / ".local")


def test_render_refuses_an_endpoint_without_token_and_a_missing_stack_file(tmp_path: Path) -> None:
    with pytest.raises(render.RenderError, match="token"):
        render.render("https://abc.execute-api.eu-central-1.amazonaws.com/outbound-message", "u@acme.com", tmp_path)
    with pytest.raises(render.RenderError, match="make serve"):
        render.endpoint_from_local(tmp_path / "missing.json")


def test_rendered_copy_holding_the_token_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    # Given a usual umask (files 0644) and an endpoint with its token
    import os
    import stat

    previous = os.umask(0o022)
    try:
        # When the package is rendered
        output = render.render("https://h.example/outbound-message?token=s3cr3t", "u@acme.com", tmp_path / "out")
    finally:
        os.umask(previous)
    # Then the folder is owner-only, and no file holding the token is readable by group or others
    assert stat.S_IMODE(output.stat().st_mode) == 0o700
    holding = [p for p in output.rglob("*") if p.is_file() and "s3cr3t" in p.read_text(encoding="utf-8")]
    assert holding, "the token should be in the rendered workflows"
    assert {stat.S_IMODE(p.stat().st_mode) for p in holding} == {0o600}
