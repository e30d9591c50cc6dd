"""In-memory fakes behind the sync's ports (state store, Stripe customers, Salesforce), for fast unit tests.

Each fake is checked by the same contract tests as the real adapter (tests/contract), so a decision the
unit tests prove on a fake holds on DynamoDB, the Stripe emulator and the Salesforce simulator too.
"""

from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.state_store import FakeClock, InMemoryStateStore
from tests.fakes.stripe import FakeStripe

__all__ = ["FakeClock", "FakeSalesforce", "FakeStripe", "InMemoryStateStore"]
