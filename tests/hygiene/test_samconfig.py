"""samconfig.toml's suggestions agree with the template and Stripe's documented rate limits.

Stripe: 100 requests/s in live mode, 25 in test mode, and 25 requests/s per endpoint by default
(https://docs.stripe.com/rate-limits); the worker's writes are mostly one endpoint (POST /v1/customers/{id}).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

SAMCONFIG = Path(__file__).resolve().parents[2] / "samconfig.toml"
STRIPE_PER_ENDPOINT_LIMIT = 25


def suggested_overrides() -> dict[str, str]:
    """The commented ``parameter_overrides`` example, as NAME → value."""
    return dict(re.findall(r'^#\s+"(\w+)=([^"]*)"', SAMCONFIG.read_text(), flags=re.MULTILINE))


@pytest.mark.vendor_doc("https://docs.stripe.com/rate-limits", "25 requests per second per endpoint by default")
def test_the_suggested_worker_rate_stays_under_stripes_per_endpoint_limit() -> None:
    # Given the parameters samconfig.toml suggests
    overrides = suggested_overrides()
    workers = int(overrides["WorkerReservedConcurrency"])
    rate = float(overrides["StripeRequestsPerSecondPerWorker"])
    # Then every worker at its rate stays under Stripe's per-endpoint limit
    assert workers * rate <= STRIPE_PER_ENDPOINT_LIMIT
    # And no comment suggests a total above it ("5 × 18 = 90 req/s")
    for product in re.findall(r"(\d+) × (\d+(?:\.\d+)?) = (\d+(?:\.\d+)?) req/s", SAMCONFIG.read_text()):
        assert float(product[0]) * float(product[1]) == float(product[2])
        assert float(product[2]) <= STRIPE_PER_ENDPOINT_LIMIT, product


def test_the_stack_name_is_a_setting_sfsync_reads() -> None:
    # Given samconfig.toml's stack name (sam deploy's); Then sfsync's default stack name is that one
    from ops.stack_env import samconfig_stack_name

    config = tomllib.loads(SAMCONFIG.read_text())
    assert samconfig_stack_name(SAMCONFIG) == config["default"]["global"]["parameters"]["stack_name"]
