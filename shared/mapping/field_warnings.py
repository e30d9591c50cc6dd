"""Field warnings: one Salesforce field whose value Stripe can't take as it is never blocks the customer.

Policy (docs/configure/field-warnings.md): the customer is created or updated with every valid field. A value that
can be made valid (a phone with an extension, a description over Stripe's length) is sent adjusted; a value
that can't (an unknown country, an email Stripe would refuse) is *left out*: not sent on create, and on
update Stripe keeps what it has. Either way a ``FieldWarning`` names the Salesforce field and the problem.
Only record-level problems (an unusable account Id) remain permanent errors.

A warning's ``problem`` never contains the value itself (it is logged, written back to the account and kept in
the state table): "is 24 characters long; …", never the phone number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class FieldProblem(ValueError):
    """A value Stripe can't take and that can't be made valid: the field is left out with this message.

    Transforms and rules may raise a plain ValueError too; this subclass only documents the intent.
    """


@dataclass(frozen=True)
class Cleaned:
    """A value made acceptable to Stripe, with what was changed on the way (``note``), if anything."""

    value: str
    note: str | None = None


@dataclass(frozen=True)
class FieldWarning:
    """One field of one account that Stripe could not take as it is.

    ``field``: the Salesforce field path as written in the mapping config (``Phone``,
    ``Order.SBQQ__Quote__r.SBQQ__PrimaryContact__r.Email``); ``stripe_path``: the Stripe customer dot-path it
    feeds (``phone``); ``problem``: what is wrong and what was done, without the value; ``left_out``: True when
    nothing was sent for it (Stripe keeps its current value on update), False when an adjusted value was sent.
    """

    field: str
    stripe_path: str
    problem: str
    left_out: bool

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (idempotency records, the state table)."""
        return {
            "field": self.field,
            "stripe_path": self.stripe_path,
            "problem": self.problem,
            "left_out": self.left_out,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldWarning:
        """Inverse of ``to_dict`` (``left_out`` may arrive as text from DynamoDB)."""
        left_out = data.get("left_out", True)
        if isinstance(left_out, str):
            left_out = left_out.lower() == "true"
        return cls(str(data["field"]), str(data.get("stripe_path", "")), str(data["problem"]), bool(left_out))


def left_out(field: str, stripe_path: str, problem: str) -> FieldWarning:
    """A warning for a value that was not sent."""
    return FieldWarning(field, stripe_path, f"{problem}; left out", left_out=True)


def adjusted(field: str, stripe_path: str, note: str) -> FieldWarning:
    """A warning for a value that was sent changed (``note`` says how)."""
    return FieldWarning(field, stripe_path, note, left_out=False)


def warnings_text(warnings: Iterable[FieldWarning]) -> str:
    """All warnings as one line for the account's error field: ``Phone: …; BillingCountry: …``."""
    return "; ".join(str(warning) for warning in warnings)
