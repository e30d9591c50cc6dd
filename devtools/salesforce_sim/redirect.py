"""Transport adapter sending simple-salesforce's fixed login URLs to the simulator.

simple-salesforce logs in at `https://{domain}.salesforce.com/...` whatever you pass, so tests mount
this adapter on the `requests.Session` they give to `Salesforce(session=...)`:

    session = requests.Session()
    mount_login_redirect(session, sim.instance_url)        # login. and test.salesforce.com
    sf = Salesforce(username=..., consumer_key=..., privatekey=..., session=session)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


class LoginRedirectAdapter(HTTPAdapter):
    """Rewrites scheme://host[:port] of every request it sends to `target_base_url`, keeping path+query."""

    def __init__(self, target_base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        target = urlsplit(target_base_url.rstrip("/"))
        self.scheme, self.netloc = target.scheme, target.netloc

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        original = urlsplit(request.url or "")
        request.url = urlunsplit((self.scheme, self.netloc, original.path, original.query, original.fragment))
        return super().send(request, *args, **kwargs)


def mount_login_redirect(
    session: requests.Session, target_base_url: str, domains: tuple[str, ...] = ("login", "test")
) -> requests.Session:
    """Mount the adapter for `https://{domain}.salesforce.com` (e.g. add "acme.my" for client credentials)."""
    adapter = LoginRedirectAdapter(target_base_url)
    for domain in domains:
        session.mount(f"https://{domain}.salesforce.com", adapter)
    return session
