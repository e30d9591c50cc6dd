"""The org's concurrent API request limit: the other ``REQUEST_LIMIT_EXCEEDED``, not the daily allowance.

Salesforce, "API Request Limits and Allocations" (Concurrent API Request Limits,
https://developer.salesforce.com/docs/platform/salesforce-app-limits-cheatsheet/guide/salesforce-app-limits-platform-api.html):
requests of 20 seconds or longer are limited to 25 at a time in production orgs and sandboxes (5 in Developer
Edition and trial orgs); "If the number of long running requests exceeds the limit, the API returns a
REQUEST_LIMIT_EXCEEDED exception code. Any new concurrent requests aren't processed until there are fewer
requests than the allowed limit." The daily allocation answers the same code with "TotalRequests Limit
exceeded."; this one names the concurrent limit instead: "ConcurrentRequests (Concurrent API Requests) Limit
exceeded." (as reported in SalesforceLabs/OrgCheck#432 and mautic/mautic#5006, where it was taken for the
daily limit).

The long-running requests are other integrations' (a report, a slow Apex REST service): a test occupies
them with ``occupy(n)`` and lets them finish with ``release(n)``; the org's own requests are short.
"""

from __future__ import annotations

import threading
from typing import Any

PRODUCTION_LIMIT = 25  # production orgs and sandboxes
DEVELOPER_LIMIT = 5  # Developer Edition and trial orgs
CONCURRENT_MESSAGE = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."


class ConcurrentRequests:
    """Long-running requests in flight and the org's limit on them (thread-safe)."""

    def __init__(self, limit: int = PRODUCTION_LIMIT) -> None:
        self.limit = limit
        self._long_running = 0
        self._lock = threading.Lock()

    def occupy(self, count: int) -> None:
        """``count`` more long-running requests (of other clients) are in flight."""
        with self._lock:
            self._long_running += count

    def release(self, count: int | None = None) -> None:
        """``count`` of them finished (all when None)."""
        with self._lock:
            self._long_running = 0 if count is None else max(self._long_running - count, 0)

    def refusal(self) -> tuple[int, list[dict[str, Any]]] | None:
        """The REST answer refusing a new request while the limit is reached; None while there is room."""
        with self._lock:
            if self._long_running < self.limit:
                return None
        return 403, [{"message": CONCURRENT_MESSAGE, "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
