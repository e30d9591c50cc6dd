"""Secrets from AWS Secrets Manager through Powertools Parameters (cached), or plain values locally."""

from __future__ import annotations

from typing import Any

# Cache secrets across warm invocations; a rotated secret is picked up within this many seconds, and at once
# when the vendor refuses the cached one (the gateways re-read it with ``fresh=True``).
SECRET_MAX_AGE_SECONDS = 300


def resolve_secret(plain: str | None, secret_name: str | None, *, fresh: bool = False) -> Any:
    """Return ``plain`` when set (local runs), else the cached value of the named secret.

    ``fresh`` bypasses the cache (Powertools' ``force_fetch``) and refreshes it: what a client does when the
    vendor refused the credentials it holds, so a rotated secret is used at once, not up to
    ``SECRET_MAX_AGE_SECONDS`` later (https://docs.powertools.aws.dev/lambda/python/latest/utilities/parameters/).
    """
    if plain:
        return plain
    if not secret_name:
        raise ValueError("neither a value nor a secret name is configured")
    # Imported here: the Parameters utility is only needed where a secret is fetched.
    from aws_lambda_powertools.utilities import parameters

    return parameters.get_secret(secret_name, max_age=SECRET_MAX_AGE_SECONDS, force_fetch=fresh)
