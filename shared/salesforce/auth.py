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

from shared.errors import ConfigurationError, CredentialsRefused, TransientSyncError
from shared.secrets import resolve_secret
from shared.settings import SOAP_LOGIN_LAST_VERSION, WorkerSettings


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


# Login answers that mean "try again later", not "wrong configuration": an HTTP 5xx without a Salesforce body
# (the client passes the status as the code), the OAuth endpoint's documented "unknown_error" ("retry your
# request"; help.salesforce.com "OAuth 2.0 Authorization Errors"), and the SOAP faults of an outage.
_OUTAGE_CODES = frozenset({"unknown_error", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION", "REQUEST_LIMIT_EXCEEDED"})


def _login_outage(code: object) -> bool:
    return (isinstance(code, int) and code >= 500) or str(code) in _OUTAGE_CODES


def credentials_setting(settings: WorkerSettings) -> str:
    """The environment variable the Salesforce credentials come from (for messages)."""
    return "SALESFORCE_SECRET_NAME" if settings.salesforce_secret_name else "SALESFORCE_CREDENTIALS_JSON"


def check_login_supported(auth: str, version: str, source: str) -> None:
    """ConfigurationError when ``auth`` can't log in at API ``version`` (password = SOAP login(), ≤ 64.0)."""
    if auth == "password" and float(version) > SOAP_LOGIN_LAST_VERSION:
        raise ConfigurationError(
            f"SALESFORCE_API_VERSION {version} with auth 'password' ({source}): password login uses SOAP "
            f"login(), which Salesforce does not offer from API 65.0 and retires in Summer '27. Use auth 'jwt' "
            f"or 'client_credentials' (recommended), or SALESFORCE_API_VERSION {SOAP_LOGIN_LAST_VERSION:.1f} "
            "until you can"
        )


def connect(
    settings: WorkerSettings,
    parse: Callable[[str], SalesforceCredentials] = SalesforceCredentials.from_json,
    *,
    fresh: bool = False,
) -> Any:
    """A logged-in client for the configured connection (secret from Secrets Manager, or the local JSON).

    ``fresh`` reads the secret bypassing its cache (after Salesforce refused the login a client holds).
    Raises ConfigurationError naming the setting when the login can't work, CredentialsRefused (a
    ConfigurationError too) when Salesforce refuses it (wrong or rotated credentials, an unapproved app,
    password login at API 65.0 or later), TransientSyncError for an outage.
    """
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed

    secret = resolve_secret(settings.salesforce_credentials_json, settings.salesforce_secret_name, fresh=fresh)
    credentials = parse(str(secret))
    source = credentials_setting(settings)
    check_login_supported(credentials.auth, settings.salesforce_api_version, source)
    try:
        return build_client(credentials, version=settings.salesforce_api_version)
    except SalesforceAuthenticationFailed as exc:
        # code and Salesforce's message only: never the credentials themselves.
        code = getattr(exc, "code", "") or "login failed"
        message = getattr(exc, "auth_message", None) or getattr(exc, "message", "") or ""
        if _login_outage(code):
            raise TransientSyncError(f"Salesforce login unavailable ({code}): retried") from None
        raise CredentialsRefused(
            "salesforce",
            f"{source}: Salesforce refused the login (auth '{credentials.auth}', domain "
            f"'{credentials.domain}'): {code}: {message}".rstrip(": "),
        ) from None


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
