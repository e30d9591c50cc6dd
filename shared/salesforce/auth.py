"""Build a simple-salesforce client from the connection secret.

Supported flows: JWT bearer (recommended for server-to-server), client credentials, username + password +
security token, and a direct session (local runs). The secret is JSON, e.g. for an External Client App::

    {"auth": "jwt", "app": "external_client_app", "username": "integration@acme.com",
     "consumer_key": "3MVG9...", "private_key": "-----BEGIN PRIVATE KEY-----...", "domain": "acme.my"}

Where the JWT goes (the token endpoint's host) and what it names as its audience (``aud``) follow the app
kind (docs/external-client-app.md):

* ``domain`` is both, as simple-salesforce sends it (``https://{domain}.salesforce.com``). Salesforce's own
  CLI tries the org's My Domain for both first (sfdx-core ``getLoginAudienceCombos``); External Client Apps
  need it (forcedotcom/cli#3482, n8n#28990), so ``"app": "external_client_app"`` refuses ``login`` / ``test``
  at load. Connected Apps also accept ``login`` / ``test`` (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for
  Server-to-Server Integration": ``aud`` is login.salesforce.com, test.salesforce.com or the site URL).
* GovCloud splits them: token at My Domain, audience ``login.salesforce.com`` (simple-salesforce#672). For
  ``jwt``, ``instance_url`` names the token endpoint's My Domain (``acme.my``, ``acme.my.salesforce.com`` or
  its URL) and ``domain`` the audience. For other flows than ``session`` it is refused at load: the login
  answers the instance URL, so a value there would be ignored.

``login_url`` (optional) sends the login to another host than ``https://{domain}.salesforce.com`` — used
for the local org simulator, whose address simple-salesforce can't otherwise be pointed at.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, model_validator
from requests.adapters import HTTPAdapter

from shared.errors import ConfigurationError, CredentialsRefused, TransientSyncError
from shared.secrets import resolve_secret
from shared.settings import SOAP_LOGIN_LAST_VERSION, WorkerSettings


class SalesforceCredentials(BaseModel):
    """The connection secret's fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: Literal["jwt", "client_credentials", "password", "session"]
    # The kind of app in Salesforce holding the consumer key (None: not said — a Connected App's rules).
    app: Literal["external_client_app", "connected_app"] | None = None
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
        if self.instance_url is not None and self.auth not in ("session", "jwt"):
            raise ValueError(
                f"instance_url is not read for auth '{self.auth}' (the login answers the instance URL): remove it"
            )
        if self.auth == "jwt" and self.instance_url is not None:
            my_domain_prefix(self.instance_url)  # raises ValueError naming the expected shape
        generic = self.domain in ("login", "test")
        if self.app == "external_client_app" and self.auth == "jwt" and generic and self.instance_url is None:
            raise ValueError(
                f"an External Client App takes the JWT at the org's My Domain, not {self.domain}.salesforce.com: set "
                '"domain" to your My Domain without .salesforce.com (e.g. "acme.my", or "acme--uat.sandbox.my")'
            )
        return self

    @property
    def jwt_token_domain(self) -> str | None:
        """For ``jwt`` with ``instance_url``: the token endpoint's My Domain prefix (GovCloud's split)."""
        return my_domain_prefix(self.instance_url) if self.auth == "jwt" and self.instance_url else None

    @classmethod
    def from_json(cls, text: str) -> SalesforceCredentials:
        """Parse the secret's JSON text."""
        return cls.model_validate(json.loads(text))


def my_domain_prefix(value: str) -> str:
    """``acme.my`` from ``acme.my``, ``acme.my.salesforce.com`` or ``https://acme.my.salesforce.com/``
    (simple-salesforce appends ``.salesforce.com``). ValueError for any other host."""
    host = (urlsplit(value).hostname or "") if "://" in value else value.strip().rstrip("/").lower()
    prefix = host.removesuffix(".salesforce.com")
    if (prefix == host and not prefix.endswith(".my")) or not prefix or "/" in prefix or ":" in prefix:
        raise ValueError(
            "instance_url for auth 'jwt' names the My Domain the token is requested at (e.g. "
            '"acme.my.salesforce.com"), a host under salesforce.com'
        )
    return prefix


class LoginRedirectAdapter(HTTPAdapter):
    """Sends requests for ``https://*.salesforce.com`` login endpoints to ``target`` instead."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        request.url = f"{self._target}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        # The host the login was meant for (login., test. or a My Domain): the simulator's per-app-kind rules
        # need it. Only ever sent to login_url, i.e. the simulator.
        request.headers["X-Forwarded-Host"] = parts.hostname or ""
        return super().send(request, *args, **kwargs)


def _session(credentials: SalesforceCredentials) -> requests.Session:
    session = requests.Session()
    if credentials.login_url:
        adapter = LoginRedirectAdapter(credentials.login_url)
        for domain in {credentials.domain, credentials.jwt_token_domain or credentials.domain}:
            session.mount(f"https://{domain}.salesforce.com", adapter)
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


def parse_credentials(text: str) -> SalesforceCredentials:
    """The secret's credentials; ConfigurationError naming the field (never echoing the secret's values)."""
    try:
        return SalesforceCredentials.from_json(text)
    except ValidationError as exc:
        # Only field names and pydantic's messages: the input holds the private key or password.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'secret'}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConfigurationError(f"SALESFORCE_CREDENTIALS_JSON / SALESFORCE_SECRET_NAME: {problems}") from None
    except ValueError:
        raise ConfigurationError("SALESFORCE_CREDENTIALS_JSON / SALESFORCE_SECRET_NAME: not valid JSON") from None


def connect(
    settings: WorkerSettings,
    parse: Callable[[str], SalesforceCredentials] = parse_credentials,
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
        refused = f"{code}: {message}".rstrip(": ")
        raise CredentialsRefused(
            "salesforce",
            f"{source}: Salesforce refused the login (auth '{credentials.auth}', app "
            f"'{credentials.app or 'not set'}', domain '{credentials.domain}'): {refused}"
            + login_fix(credentials, refused),
        ) from None


def login_fix(credentials: SalesforceCredentials, refused: str) -> str:
    """The likely fix for a refused login, by app kind (docs/external-client-app.md); "" when none applies."""
    if credentials.auth not in ("jwt", "client_credentials"):
        return ""
    if credentials.app == "external_client_app":
        return (
            " — External Client App: check that its OAuth policies pre-authorize the integration user (Admin "
            "approved users are pre-authorized, with the user's permission set), that the certificate matches "
            'private_key, and that "domain" is the org\'s My Domain (GovCloud: "instance_url" the My Domain and '
            '"domain" "login")'
        )
    if credentials.domain in ("login", "test") and ("invalid_client" in refused or "audience" in refused):
        return (
            " — if the app is an External Client App (Salesforce's default since Spring '26), set \"app\": "
            '"external_client_app" and "domain" to the org\'s My Domain (e.g. "acme.my")'
        )
    return ""


def build_client(credentials: SalesforceCredentials, *, version: str) -> Any:
    """A logged-in ``simple_salesforce.Salesforce`` (the login happens here, once per cold start)."""
    from simple_salesforce import Salesforce

    secret = lambda value: value.get_secret_value() if value else None  # noqa: E731
    common: dict[str, Any] = {"version": version, "session": _session(credentials)}
    if credentials.auth == "session":
        return Salesforce(instance_url=credentials.instance_url, session_id=secret(credentials.session_id), **common)
    if credentials.auth == "jwt":
        # instance_url: simple-salesforce's token host for the JWT (a My Domain prefix), ``domain`` the audience.
        return Salesforce(
            username=credentials.username,
            consumer_key=credentials.consumer_key,
            privatekey=secret(credentials.private_key),
            domain=credentials.domain,
            instance_url=credentials.jwt_token_domain,
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
