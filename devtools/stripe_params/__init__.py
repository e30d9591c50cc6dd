"""Stripe's customer request params for the API version the pinned stripe-python sends.

``python -m devtools.stripe_params`` regenerates ``shared/stripe/customer_params.json`` from the SDK's
generated param types; ``--check`` fails when the file differs (``tests/unit/test_stripe_params.py``).
"""

from devtools.stripe_params.generate import OUTPUT_PATH, generate

__all__ = ["OUTPUT_PATH", "generate"]
