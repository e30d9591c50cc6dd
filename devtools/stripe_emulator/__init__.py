"""Stateful local emulator of the Stripe customers API (create/retrieve/update/delete/list/search).

Use it from tests (``StripeEmulator().start()``) or as a process (``python -m devtools.stripe_emulator``);
it validates params against Stripe's OpenAPI schemas, honours idempotency keys and can inject faults.
"""

from devtools.stripe_emulator.server import StripeEmulator

__all__ = ["StripeEmulator"]
