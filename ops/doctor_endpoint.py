"""Which URL ``sfsync doctor`` posts its probe to, with the token read from Secrets Manager, never from argv.

A command line is visible to every user of the machine (``ps``) and lands in the shell's history, so the
endpoint token Salesforce sends in the URL (``?token=…``) is never taken from it: ``--endpoint`` is the URL
without the token, and the token is read with the operator's AWS credentials from the stack's secret
(``--token-secret NAME|ARN``, or the ``OutboundTokenSecretArn`` output of ``--stack-name``). With
``--stack`` (``make serve``) the local stack's description holds the local URL with its throwaway token.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from shared.errors import ConfigurationError

ClientFactory = Callable[[str], Any]  # service name → boto3 client


def refuse_token_in_argv(url: str | None) -> None:
    """Raise ConfigurationError when ``url`` carries ``token=`` (it would sit in ps and the shell's history)."""
    if url and "token" in parse_qs(urlsplit(url).query, keep_blank_values=True):
        raise ConfigurationError(
            "--endpoint must not carry the token (?token=…): command lines are visible in ps and kept in the "
            "shell's history. Give the URL alone; doctor reads the token from --token-secret NAME (the "
            "OutboundTokenSecretArn output) or from the stack of --stack-name"
        )


def endpoint_url(
    args: argparse.Namespace, clients: ClientFactory, local: Callable[[Path | None], str | None]
) -> str | None:
    """The probe's URL with ``?token=``; None when no endpoint is known (the check is then a warning).

    ``args``: ``endpoint``, ``token_secret``, ``stack``, ``stack_name``. ``clients("cloudformation")`` and
    ``clients("secretsmanager")`` are called only when needed. Raises ConfigurationError for a token in
    ``--endpoint``, or an endpoint whose token has no source.
    """
    refuse_token_in_argv(args.endpoint)
    if args.stack and not args.endpoint:
        return local(args.stack)
    url, secret_id = args.endpoint, args.token_secret
    if args.stack_name and not (url and secret_id):
        stacks = clients("cloudformation").describe_stacks(StackName=args.stack_name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        url, secret_id = url or outputs.get("OutboundMessageUrl"), secret_id or outputs.get("OutboundTokenSecretArn")
    if not url:
        return None
    if not secret_id:
        raise ConfigurationError(
            "--endpoint needs the endpoint token's secret: --token-secret NAME|ARN (the stack's "
            "OutboundTokenSecretArn output), or --stack-name"
        )
    token = clients("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return f"{url}?{urlencode({'token': token})}"
