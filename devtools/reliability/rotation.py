"""Rotation: the outside world changes under a running worker, mid-load — nothing lost, nothing dead-lettered.

Four changes, each while account changes flow (the simulator's real Outbound Messages, the worker draining):

1. the Stripe key is rolled, the old key expiring at once ("Roll key…", https://docs.stripe.com/keys), and the
   new key stored in the secret — the worker re-reads the secret on the first 401;
2. the key is replaced by a restricted key missing Write on Customers (403 naming the permission,
   https://docs.stripe.com/keys/restricted-api-keys), then the admin gives it the permission — the refusal
   holds the gate (``credentials``): the syncs refused meanwhile wait in the held queue, never the DLQ, and
   the gate probe releases and redrives them once the key works;
3. the JWT certificate is rotated in Salesforce, the new private key stored, and the sessions expire — the
   refused re-login makes the worker read the secret again;
4. My Domain is renamed and the old host stops answering the REST API — a fresh login finds the new host.

The worker reads both secrets from (moto's) Secrets Manager, as deployed, so a rotated secret can be re-read.
Figures: lost 0, duplicates 0, messages dead-lettered 0, syncs failing after each fix is in place 0.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3

from devtools.local_runtime.salesforce_login import rsa_key_pair
from devtools.reliability.delivery import check_customers
from devtools.reliability.figures import Figures
from devtools.reliability.harness import LAMBDA_TIMEOUT_MS, Harness, LambdaContext
from devtools.reliability.sizes import Size

PREFIX = "Rotation"


class Secrets:
    """The worker's two secrets in moto's Secrets Manager, and the environment that points the worker at them."""

    def __init__(self, h: Harness) -> None:
        self.h = h
        endpoint = os.environ["AWS_ENDPOINT_URL_SQS"]  # the stack's moto server serves Secrets Manager too
        self.client = boto3.client("secretsmanager", endpoint_url=endpoint)
        suffix = str(int(time.time() * 1000))
        self.stripe_name, self.salesforce_name = f"rotation/stripe-{suffix}", f"rotation/salesforce-{suffix}"
        self.stripe_key = os.environ["STRIPE_API_KEY"]
        self.credentials: dict[str, Any] = json.loads(os.environ["SALESFORCE_CREDENTIALS_JSON"])
        self.client.create_secret(Name=self.stripe_name, SecretString=self.stripe_key)
        self.client.create_secret(Name=self.salesforce_name, SecretString=json.dumps(self.credentials))
        self._saved = {name: os.environ.get(name) for name in self._environment(endpoint)}
        os.environ.update(self._environment(endpoint))
        h.cold_start_worker()  # a worker that reads its credentials from the secrets

    def _environment(self, endpoint: str) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
            "STRIPE_API_KEY": "",
            "STRIPE_API_KEY_SECRET_NAME": self.stripe_name,
            "SALESFORCE_CREDENTIALS_JSON": "",
            "SALESFORCE_SECRET_NAME": self.salesforce_name,
        }

    def store_stripe_key(self, key: str) -> None:
        self.h.sensitive[key] = "Stripe key"
        self.client.put_secret_value(SecretId=self.stripe_name, SecretString=key)
        self.stripe_key = key

    def store_private_key(self, private_pem: str) -> None:
        pem_lines = [line for line in private_pem.splitlines() if "-----" not in line]
        self.h.sensitive.update(dict.fromkeys(pem_lines, "Salesforce private key"))
        self.credentials = {**self.credentials, "private_key": private_pem}
        self.client.put_secret_value(SecretId=self.salesforce_name, SecretString=json.dumps(self.credentials))

    def restore(self) -> None:
        """Back to plain values (the current ones) for the scenarios after this one."""
        for name, value in self._saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
        os.environ["STRIPE_API_KEY"] = self.stripe_key
        os.environ["SALESFORCE_CREDENTIALS_JSON"] = json.dumps(self.credentials)
        self.h.cold_start_worker()


def _roll_stripe_key(h: Harness, secrets: Secrets) -> None:
    new_key = f"sk_test_rotated_{int(time.time())}"
    h.stripe.roll_key(secrets.stripe_key, new_key)  # the old key expires now
    secrets.store_stripe_key(new_key)


def _restrict_stripe_key(h: Harness, secrets: Secrets) -> None:
    restricted = f"rk_test_rotation_{int(time.time())}"
    h.stripe.add_key(restricted, {"customers": "read"})  # Write on Customers missing
    old = secrets.stripe_key
    secrets.store_stripe_key(restricted)
    h.stripe.expire_key(old)  # the secret key it replaces is deleted


def _give_write_permission(h: Harness, secrets: Secrets) -> None:
    h.stripe.add_key(secrets.stripe_key, {"customers": "write"})


def _rotate_certificate(h: Harness, secrets: Secrets) -> None:
    private_pem, public_pem = rsa_key_pair()
    h.sim.auth.rotate_certificate(secrets.credentials["consumer_key"], public_pem)
    secrets.store_private_key(private_pem)
    h.sim.expire_sessions()


def _rename_my_domain(h: Harness, _secrets: Secrets) -> None:
    h.sim.rename_instance(redirect=False)


# (name, what breaks, the fix — None when the change itself is the fix, as a stored secret is)
PHASES = (
    ("stripe_key_rolled", _roll_stripe_key, None),
    ("stripe_permission_missing", _restrict_stripe_key, _give_write_permission),
    ("salesforce_certificate_rotated", _rotate_certificate, None),
    ("my_domain_renamed", _rename_my_domain, None),
)


def _probe_gate(h: Harness) -> int:
    """The worker's gate probe (template.yaml ``GateProbe``, every 5 minutes deployed), run until no hold is left:
    a refusal stopped by the gate (``credentials`` hold) waits in the held queue for it. Returns how many times
    the gate was found held."""
    held = 0
    for _ in range(10):
        if not h.stack.worker.COMPONENTS.holds.holds(consistent=True):
            return held
        held += 1
        h.stack.worker.lambda_handler({"gate_probe": True}, LambdaContext("worker", timeout_ms=LAMBDA_TIMEOUT_MS))
        h.settle()
    return held


def _failures_since(h: Harness, offset: int, *, besides_stripe_refusals: bool = False) -> int:
    """Syncs logged as failed since ``offset`` (without those Stripe's refusal caused, when asked)."""
    return sum(
        1
        for entry in h.log_entries(offset)
        if entry.get("message") == "sync failed, will retry"
        and not (besides_stripe_refusals and "STRIPE_API_KEY" in str(entry.get("error")))
    )


def _phase(h: Harness, secrets: Secrets, ids: list[str], version: int, phase: tuple[Any, ...]) -> dict[str, int]:
    """Every account changes, the world changes while those syncs run, every account changes again (to
    ``version``); returns the phase's counts.

    "Failing after the fix": with a fix step, Stripe's refusals answered after the fix (a sync refused before
    it may log its failure a moment later, when its batch reports) and any other sync failure logged after it;
    without one (the stored secret is the fix), every sync failure logged after the change.
    """
    name, change, fix = phase
    offset = h.log_offset()
    with h.background_worker():
        h.update_accounts(PREFIX, ids, version - 1)
        change(h, secrets)
        stripe_mark = len(h.stripe.requests)
        h.update_accounts(PREFIX, ids, version)
        if fix is not None:
            time.sleep(2.0)  # the refused syncs are retried meanwhile (visibility timeout 3 s)
            fix(h, secrets)
            offset_fixed, stripe_mark = h.log_offset(), len(h.stripe.requests)
    h.settle()
    held = _probe_gate(h)
    if fix is None:
        after_fix = _failures_since(h, offset)
    else:
        stripe_refusals = sum(1 for r in h.stripe.requests[stripe_mark:] if r["status"] in (401, 403))
        after_fix = stripe_refusals + _failures_since(h, offset_fixed, besides_stripe_refusals=True)
    return {
        f"{name}_failing_after_fix": after_fix,
        f"{name}_refused": _failures_since(h, offset),
        f"{name}_gate_probes": held,
    }


def rotation(h: Harness, size: Size) -> Figures:
    """The four changes in turn on the same accounts; each phase applies two versions of every account."""
    started = time.monotonic()
    accounts = size.rotation_accounts
    h.outbound(active=True)
    secrets = Secrets(h)
    try:
        ids = h.create_accounts(PREFIX, accounts)
        h.settle()
        counts: dict[str, int] = {}
        for number, phase in enumerate(PHASES, start=1):
            counts.update(_phase(h, secrets, ids, 2 * number, phase))
        customers = check_customers(h, PREFIX, ids, 2 * len(PHASES))
    finally:
        secrets.restore()
    after_fix = {name: value for name, value in counts.items() if name.endswith("_failing_after_fix")}
    return Figures(
        scenario="rotation",
        size=f"{accounts} accounts × {len(PHASES)} changes, each mid-load: " + ", ".join(p[0] for p in PHASES),
        lost=customers["missing"] + customers["not_latest"],
        duplicates=customers["extra"],
        zero={"dlq": h.queue_depth(h.stack.dlq_url), **after_fix},
        other={name: value for name, value in counts.items() if name not in after_fix},
        seconds=time.monotonic() - started,
    )
