"""The org's instance host, and what its old hosts answer after a My Domain rename or an instance move.

Salesforce: changing the My Domain name (or moving the org to another instance) changes the URLs of the org;
the old ones redirect for a while (My Domain's "redirect to the new domain" policy, removed later), then
stop (Salesforce Help, "Update Your My Domain" https://help.salesforce.com/s/articleView?id=sf.domain_name_change.htm,
and "My Domain Redirections" https://help.salesforce.com/s/articleView?id=sf.domain_name_redirect.htm). A
fresh login answers the current instance URL (the token response's ``instance_url``).

The simulator serves one socket: its hosts are ``127.0.0.1`` and ``localhost`` (both in its certificate),
told apart by the request's ``Host`` header. A renamed org's old host answers REST API requests with a
``301`` to the new host (with redirect) or a ``404`` web page, not the API's JSON error array (without).
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

_HOSTS = ("127.0.0.1", "localhost")
NO_LONGER_EXISTS = (
    "<!DOCTYPE html><html><head><title>URL No Longer Exists</title></head><body><p>You have attempted to reach "
    "a URL that no longer exists on salesforce.com.</p></body></html>"
)


class InstanceHosts:
    """The current instance URL and the old hosts with their redirect policy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.instance_url = ""
        self._retired: dict[str, bool] = {}  # old host → redirects to the current one

    def rename(self, *, redirect: bool) -> str:
        """Move the org to the other host name; the old one redirects (``redirect``) or stops. Returns the
        new instance URL."""
        with self._lock:
            old = urlsplit(self.instance_url)
            new_host = _HOSTS[1] if old.hostname == _HOSTS[0] else _HOSTS[0]
            self._retired.pop(new_host, None)
            self._retired[old.hostname or ""] = redirect
            self.instance_url = f"{old.scheme}://{new_host}:{old.port}"
            return self.instance_url

    def stop_redirects(self) -> None:
        """The redirects end: every old host answers a web page."""
        with self._lock:
            self._retired = dict.fromkeys(self._retired, False)

    def moved(self, host_header: str | None, target: str) -> tuple[int, str, dict[str, str]] | None:
        """(status, HTML body, headers) for a REST request to a retired host, else None."""
        host = (host_header or "").rsplit(":", 1)[0].strip("[]")
        with self._lock:
            if host not in self._retired:
                return None
            if self._retired[host]:
                return 301, "", {"Location": f"{self.instance_url}{target}"}
            return 404, NO_LONGER_EXISTS, {}
