"""A local Salesforce org simulator (REST, OAuth, SOAP login, Outbound Messages) for tests and dev.

with SalesforceSimulator() as sim:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", sim.ca_bundle_path)
    sf = Salesforce(instance_url=sim.instance_url, session_id=sim.issue_token())
"""

from .errors import SalesforceError
from .redirect import LoginRedirectAdapter, mount_login_redirect
from .simulator import SalesforceSimulator

__all__ = ["LoginRedirectAdapter", "SalesforceError", "SalesforceSimulator", "mount_login_redirect"]
