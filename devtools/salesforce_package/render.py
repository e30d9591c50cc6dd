"""Render a deployable copy of ``salesforce/`` with the stack's real endpoint: ``make salesforce-package``.

The Outbound Messages' endpoint URL carries the stack's secret token, and ``integrationUser`` names a user
of one org, so neither is committed: the source holds placeholders and this writes a copy with the real
values into an ignored folder (``.local/salesforce-package`` by default), ready for
``sf project deploy start --source-dir force-app``. The copy is sensitive (the token): its folder is made
owner-only (0700) and every file holding the token 0600. The endpoint comes from the CloudFormation stack's
outputs (``OutboundMessageUrl`` + the token in ``OutboundTokenSecretArn``) or from ``.local/stack.json``
(``make serve``).

Usage: ``python -m devtools.salesforce_package.render --integration-user stripe-sync@acme.com
[--stack-name NAME | --local] [--output DIR]``. Exit status 2 with a message on a missing input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape

from devtools.private_files import make_private_directory, write_private_text
from devtools.salesforce_sim.package import PACKAGE_ROOT

REPO_ROOT = PACKAGE_ROOT.parent
ENDPOINT_PLACEHOLDER = "https://stack-endpoint.invalid/outbound-message?token=rendered-by-make-salesforce-package"
USER_PLACEHOLDER = "integration-user@stack-endpoint.invalid"
DEFAULT_OUTPUT = REPO_ROOT / ".local" / "salesforce-package"
LOCAL_STACK = REPO_ROOT / ".local" / "stack.json"


class RenderError(Exception):
    """An input is missing or unusable; the message says which and how to give it."""


def endpoint_from_stack(stack_name: str, session: Any = None) -> str:
    """``OutboundMessageUrl?token=…`` of a deployed stack (CloudFormation + Secrets Manager read access)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = session or boto3.session.Session()
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        if "OutboundMessageUrl" not in outputs or "OutboundTokenSecretArn" not in outputs:
            raise RenderError(f"stack {stack_name} has no OutboundMessageUrl / OutboundTokenSecretArn outputs")
        secret = session.client("secretsmanager").get_secret_value(SecretId=outputs["OutboundTokenSecretArn"])
    except (BotoCoreError, ClientError) as exc:
        raise RenderError(f"cannot read the outputs of stack {stack_name}: {exc}") from exc
    return f"{outputs['OutboundMessageUrl']}?{urlencode({'token': secret['SecretString']})}"


def endpoint_from_local(path: Path = LOCAL_STACK) -> str:
    """The local stack's endpoint (``make serve`` writes it to ``.local/stack.json``)."""
    if not path.exists():
        raise RenderError(f"{path} not found: start the local stack with `make serve` first")
    return str(json.loads(path.read_text(encoding="utf-8"))["outbound_message_url"])


def render(endpoint_url: str, integration_user: str, output: Path = DEFAULT_OUTPUT) -> Path:
    """Copy the project to ``output`` (replaced) with the endpoint and user in every Outbound Message."""
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("https", "http") or "token=" not in parts.query:
        raise RenderError("the endpoint URL must be http(s) and carry ?token=…")
    if "@" not in integration_user:
        raise RenderError("--integration-user must be the integration user's username (user@example.com)")
    if output.exists():
        shutil.rmtree(output)
    shutil.copytree(PACKAGE_ROOT, output)
    # The copy holds the token: the folder owner-only (0700) and each file holding it 0600, before it is written.
    make_private_directory(output)
    for workflow in output.glob("*/**/workflows/*.workflow-meta.xml"):
        text = workflow.read_text(encoding="utf-8")
        text = text.replace(escape(ENDPOINT_PLACEHOLDER), escape(endpoint_url))
        write_private_text(workflow, text.replace(USER_PLACEHOLDER, escape(integration_user)))
    left = [p for p in output.rglob("*-meta.xml") if "stack-endpoint.invalid" in p.read_text(encoding="utf-8")]
    if left:
        raise RenderError(f"placeholders left in {', '.join(str(p) for p in left)}")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--integration-user", required=True, help="username the Outbound Messages are sent as")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack-name", default="salesforce-stripe-sync", help="the deployed CloudFormation stack")
    source.add_argument("--local", action="store_true", help="the local stack of `make serve` (.local/stack.json)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        endpoint = endpoint_from_local() if args.local else endpoint_from_stack(args.stack_name)
        output = render(endpoint, args.integration_user, args.output)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"rendered {output} (the endpoint token is in it: don't commit or share this folder)")
    print(f"deploy: cd {output} && sf project deploy start --source-dir force-app --target-org <alias>")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
