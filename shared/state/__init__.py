"""What the sync remembers, in DynamoDB: each account's state (customer id, versions, lease, contact index)
and the reconcile's checkpoints.

Names are loaded on first use (PEP 562), so a light Lambda importing one of them never imports the
heavy SDKs behind the others (``tests/hygiene/test_package_exports.py`` keeps this list true)."""

from typing import TYPE_CHECKING

from shared._exports import lazy_exports

if TYPE_CHECKING:
    from shared.state.account_state import (
        AccountState,
        AccountStateStore,
        AlreadyApplied,
        Commit,
        StaleVersion,
        state_key,
    )
    from shared.state.lease import AccountStates, Lease, LeasedWrites
    from shared.state.reconcile_checkpoints import (
        Checkpoint,
        Checkpoints,
        FileCheckpoints,
        ReconcileStateStore,
        TableCheckpoints,
    )

EXPORTS = {
    "account_state": (
        "AccountStateStore",
        "AccountState",
        "AlreadyApplied",
        "Commit",
        "StaleVersion",
        "state_key",
    ),
    "lease": ("AccountStates", "Lease", "LeasedWrites"),
    "reconcile_checkpoints": (
        "ReconcileStateStore",
        "Checkpoints",
        "Checkpoint",
        "FileCheckpoints",
        "TableCheckpoints",
    ),
}
__getattr__, __dir__ = lazy_exports(__name__, EXPORTS)
