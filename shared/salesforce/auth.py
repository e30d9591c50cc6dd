"""Build a simple-salesforce client from the connection secret.

Supported flows: JWT bearer (recommended for server-to-server), client credentials, username + password +
security token, and a direct session (local runs). The secret is JSON, e.g.::

    {"auth": "jwt", "username": "integration@acme.com", "consumer_key": "3MVG9...",
     "private_key": "-----BEGIN PRIVATE KEY-----...", "domain": "login"}

``login_url`` (optional) sends the login to another host than ``https://{domain}.salesforce.com`` — used
for the local org simulator, whose address simple-salesforce can't otherwise be pointed at.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, SecretStr, model_validator
from requests.adapters import HTTPAdapter

from shared.secrets import resolve_secret
from shared.settings import WorkerSettings


class SalesforceCredentials(BaseModel):
    """The connection secret's fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: Literal["jwt", "client_credentials", "password", "session"]
    domain: str = "login"
    username: str | None = None
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    private_key: SecretStr | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    instance_url: str | None = None
    session_id: SecretStr | None = None
    login_url: str | None = None

    @model_validator(mode="after")
    def _flow_fields_present(self) -> SalesforceCredentials:
        needed = {
            "jwt": ("username", "consumer_key", "private_key"),
            "client_credentials": ("consumer_key", "consumer_secret"),
            "password": ("username", "password"),
            "session": ("instance_url", "session_id"),
        }[self.auth]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth '{self.auth}' needs {', '.join(missing)}")
        return self

    @classmethod
    def from_json(cls, text: str) -> SalesforceCredentials:
        """Parse the secret's JSON text."""
        return cls.model_validate(json.loads(text))


class LoginRedirectAdapter(HTTPAdapter):
    """Sends requests for ``https://*.salesforce.com`` login endpoints to ``target`` instead."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        request.url = f"{self._target}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().send(request, *args, **kwargs)


def _session(credentials: SalesforceCredentials) -> requests.Session:
    session = requests.Session()
    if credentials.login_url:
        session.mount(f"https://{credentials.domain}.salesforce.com", LoginRedirectAdapter(credentials.login_url))
    return session


def connect(
    settings: WorkerSettings,
    parse: Callable[[str], SalesforceCredentials] = SalesforceCredentials.from_json,
) -> Any:
    """A logged-in client for the configured connection (secret from Secrets Manager, or the local JSON)."""
    secret = resolve_secret(settings.salesforce_credentials_json, settings.salesforce_secret_name)
    return build_client(parse(str(secret)), version=settings.salesforce_api_version)


def build_client(credentials: SalesforceCredentials, *, version: str) -> Any:
    """A logged-in ``simple_salesforce.Salesforce`` (the login happens here, once per cold start)."""
    from simple_salesforce import Salesforce

    secret = lambda value: value.get_secret_value() if value else None  # noqa: E731
    common: dict[str, Any] = {"version": version, "session": _session(credentials)}
    if credentials.auth == "session":
        return Salesforce(instance_url=credentials.instance_url, session_id=secret(credentials.session_id), **common)
    if credentials.auth == "jwt":
        return Salesforce(
            username=credentials.username,
            consumer_key=credentials.consumer_key,
            privatekey=secret(credentials.private_key),
            domain=credentials.domain,
            **common,
        )
    if credentials.auth == "client_credentials":
        return Salesforce(
            consumer_key=credentials.consumer_key,
            consumer_secret=secret(credentials.consumer_secret),
            domain=credentials.domain,
            **common,
        )
    return Salesforce(
        username=credentials.username,
        password=secret(credentials.password),
        security_token=secret(credentials.security_token) or "",
        domain=credentials.domain,
        **common,
    )
