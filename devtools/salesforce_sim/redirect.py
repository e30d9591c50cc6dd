"""Transport adapter sending simple-salesforce's fixed login URLs to the simulator.

simple-salesforce logs in at `https://{domain}.salesforce.com/...` whatever you pass, so tests mount
this adapter on the `requests.Session` they give to `Salesforce(session=...)`:

    session = requests.Session()
    mount_login_redirect(session, sim.instance_url)        # login. and test.salesforce.com
    sf = Salesforce(username=..., consumer_key=..., privatekey=..., session=session)
"""

from __future__ import annotations

import requests

# The product's own adapter: the tests exercise exactly what the worker mounts.
from shared.salesforce.auth import LoginRedirectAdapter


def mount_login_redirect(
    session: requests.Session, target_base_url: str, domains: tuple[str, ...] = ("login", "test")
) -> requests.Session:
    """Mount the adapter for `https://{domain}.salesforce.com` (e.g. add "acme.my" for client credentials)."""
    adapter = LoginRedirectAdapter(target_base_url)
    for domain in domains:
        session.mount(f"https://{domain}.salesforce.com", adapter)
    return session
