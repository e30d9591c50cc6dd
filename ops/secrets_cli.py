"""``sfsync secret salesforce|stripe``: store the two credentials in Secrets Manager, with no plaintext copy.

The Salesforce secret is the JSON of docs/configure/salesforce-access.md; for the JWT bearer flow its ``private_key``
is the content of the key file, whose line breaks JSON must escape — done here, in memory, from the file
itself. The Stripe secret is the key itself, read from standard input (so it stays out of the shell's
history). Both are validated before anything is stored, stored under the given name in the given region
(created, or a new version when the name exists), and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from shared.errors import ConfigurationError
from shared.salesforce import SalesforceCredentials

STRIPE_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")


def add_commands(commands: Any) -> None:
    """Add ``secret salesforce`` and ``secret stripe`` to the ``sfsync`` sub-command parser."""
    secret = commands.add_parser("secret", help="store the Salesforce or Stripe credential in Secrets Manager")
    kinds = secret.add_subparsers(dest="kind", required=True)
    salesforce = kinds.add_parser("salesforce", help="the JWT bearer secret, built from the key file")
    salesforce.add_argument("--name", required=True, help="the secret's name (template parameter SalesforceSecretName)")
    salesforce.add_argument("--username", required=True, help="the integration user's username")
    salesforce.add_argument("--consumer-key", required=True, help="the connected app's consumer key")
    salesforce.add_argument("--key-file", type=Path, required=True, help="the private key (server.key)")
    salesforce.add_argument("--domain", default="login", help="login (production), test (sandbox) or My Domain")
    stripe = kinds.add_parser("stripe", help="the Stripe key, read from standard input")
    stripe.add_argument("--name", required=True, help="the secret's name (template parameter StripeApiKeySecretName)")
    for kind in (salesforce, stripe):
        kind.add_argument("--region", help="the stack's AWS region (default: your AWS config)")


def salesforce_secret(args: argparse.Namespace) -> str:
    """The Salesforce secret's JSON text, validated; ConfigurationError naming what is wrong."""
    try:
        private_key = args.key_file.read_text()
    except OSError as exc:
        raise ConfigurationError(f"--key-file {args.key_file}: {exc.strerror}") from None
    if "PRIVATE KEY-----" not in private_key:
        raise ConfigurationError(f"--key-file {args.key_file}: not a PEM private key (BEGIN PRIVATE KEY)")
    secret = {
        "auth": "jwt",
        "username": args.username,
        "consumer_key": args.consumer_key,
        "private_key": private_key,
        "domain": args.domain,
    }
    try:
        SalesforceCredentials.model_validate(secret)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]) for e in exc.errors(include_input=False))
        raise ConfigurationError(f"Salesforce secret: {problems}") from None
    return json.dumps(secret)


def stripe_secret(stdin: Any) -> str:
    """The Stripe key from standard input (a prompt without echo when it is a terminal)."""
    key = (getpass.getpass("Stripe secret or restricted key: ") if stdin.isatty() else stdin.readline()).strip()
    if not key.startswith(STRIPE_KEY_PREFIXES):
        raise ConfigurationError("the Stripe key must start with sk_live_, sk_test_, rk_live_ or rk_test_")
    return key


def store(client: Any, name: str, value: str) -> str:
    """Create the secret, or add a version when it exists; 'created' or 'updated'."""
    try:
        client.create_secret(Name=name, SecretString=value)
        return "created"
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=name, SecretString=value)
        return "updated"


def cmd_secret(args: argparse.Namespace) -> int:
    """Build, validate and store one secret; say what to do with the key file."""
    import boto3

    value = salesforce_secret(args) if args.kind == "salesforce" else stripe_secret(sys.stdin)
    client = boto3.session.Session(region_name=args.region).client("secretsmanager")
    done = store(client, args.name, value)
    print(f"{done} secret {args.name} in {client.meta.region_name} (its value is not printed)")
    if args.kind == "salesforce":
        print(
            f"The key now lives in the secret only: delete {args.key_file} (e.g. `shred -u {args.key_file}`). "
            "Keep server.crt: it is public, and the connected app holds it."
        )
    return 0
