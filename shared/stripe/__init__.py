"""Everything that speaks Stripe: the customer gateway (port + ``StripeClient`` adapter), its request rate,
the update diffing, and the customer params schema of the pinned SDK's API version (``customer_params.json``).

Names are loaded on first use (PEP 562), so a light Lambda importing one of them never imports the
heavy SDKs behind the others (``tests/hygiene/test_package_exports.py`` keeps this list true)."""

from typing import TYPE_CHECKING

from shared._exports import lazy_exports

if TYPE_CHECKING:
    from shared.stripe.customer_diff import WHOLE_OBJECTS, flatten, mapped_subset, nest, update_params
    from shared.stripe.gateway import (
        CreateOutcomeUnknown,
        CustomerGateway,
        CustomerGone,
        CustomerInOtherMode,
        StripeCustomerGateway,
        check_key_mode,
        key_mode,
    )
    from shared.stripe.rate_limit import RateLimiter
    from shared.stripe.tax_ids import derive_tax_id_type, tax_id_types

EXPORTS = {
    "gateway": (
        "CustomerGateway",
        "StripeCustomerGateway",
        "CustomerGone",
        "CreateOutcomeUnknown",
        "CustomerInOtherMode",
        "key_mode",
        "check_key_mode",
    ),
    "customer_diff": (
        "WHOLE_OBJECTS",
        "flatten",
        "mapped_subset",
        "nest",
        "update_params",
    ),
    "rate_limit": ("RateLimiter",),
    "tax_ids": ("derive_tax_id_type", "tax_id_types"),
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
