"""Users, connected apps, sessions and the login flows (OAuth token endpoint, SOAP login).

Apps come in two kinds, with the JWT bearer flow's rules for each:

* ``connected_app``: the token endpoint at any login host; ``aud`` is login.salesforce.com,
  test.salesforce.com or the org's URL (Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server
  Integration", https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm).
  Since Spring '26 orgs may restrict creating new ones (``connected_apps_allowed = False``).
* ``external_client_app``: Salesforce's recommended kind since Spring '26. The token endpoint and ``aud`` are
  the org's My Domain (what Salesforce's CLI tries first, sfdx-core ``getLoginAudienceCombos``; reports:
  forcedotcom/cli#3482, n8n#28990): a JWT sent to login./test.salesforce.com is refused as an unknown client,
  an ``aud`` of login./test.salesforce.com as an invalid audience.

A GovCloud org (``govcloud = True``) splits them: the token at My Domain, ``aud`` login.salesforce.com
(simple-salesforce#672). The host a login was meant for arrives in ``X-Forwarded-Host`` (the product's
``LoginRedirectAdapter`` sets it when it sends the login here).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
import jwt

from . import ids


class OAuthError(Exception):
    """A token endpoint failure: `{"error", "error_description"}` with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


@dataclass
class User:
    username: str
    password: str
    security_token: str
    user_id: str


@dataclass
class ConnectedApp:
    consumer_key: str
    consumer_secret: str | None
    public_key_pem: str | None
    run_as: str | None = None  # username the client credentials flow runs as
    kind: str = "connected_app"  # or "external_client_app" (module docstring)


GENERIC_LOGIN_HOSTS = ("login.salesforce.com", "test.salesforce.com")


_LOGIN_FAULT = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<soapenv:Body><soapenv:Fault><faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid "
    "username, password, security token; or user locked out.</faultstring><detail><sf:LoginFault "
    'xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid '
    "username, password, security token; or user locked out.</sf:exceptionMessage></sf:LoginFault></detail>"
    "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
)


# The last API version whose SOAP API offers login() (it is gone from 65.0 on).
SOAP_LOGIN_LAST_VERSION = 64.0


def _fault(code: str, message: str) -> str:
    """A SOAP login fault in the shape of _LOGIN_FAULT (simple-salesforce reads sf:exceptionCode/Message)."""
    return (
        _LOGIN_FAULT.replace("INVALID_LOGIN: Invalid username, password, security token; or user locked out.",
                             f"{code}: {escape(message)}")
        .replace("<sf:exceptionCode>INVALID_LOGIN<", f"<sf:exceptionCode>{code}<")
        .replace("<faultcode>sf:INVALID_LOGIN<", f"<faultcode>sf:{code}<")
        .replace(">Invalid username, password, security token; or user locked out.</sf:exceptionMessage>",
                 f">{escape(message)}</sf:exceptionMessage>")
    )  # fmt: skip


class Auth:
    """Credential registry and session store; every issued token stays valid until expired."""

    def __init__(self, org_id: str, id_factory: ids.IdFactory) -> None:
        self.org_id = org_id
        self.instance_url = ""
        self._ids = id_factory
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}  # session id → username ("" for sessions issued directly)
        self.users: dict[str, User] = {}
        self.apps: dict[str, ConnectedApp] = {}
        self.my_domain = "simorg.my.salesforce.com"  # the org's My Domain host (the login rules above)
        self.govcloud = False
        self.connected_apps_allowed = True  # False: Setup refuses new Connected Apps (Spring '26 restriction)

    # ---- registry and sessions -----------------------------------------------------------------
    def add_user(self, username: str, password: str, security_token: str = "") -> User:
        user = User(username, password, security_token, self._ids.new("005"))
        self.users[username.lower()] = user
        return user

    def add_connected_app(
        self,
        consumer_key: str,
        consumer_secret: str | None = None,
        public_key_pem: str | bytes | None = None,
        run_as: str | None = None,
        kind: str = "connected_app",
    ) -> ConnectedApp:
        if kind not in ("connected_app", "external_client_app"):
            raise ValueError("kind is connected_app or external_client_app")
        if kind == "connected_app" and not self.connected_apps_allowed:
            raise ValueError("creating Connected Apps is restricted in this org: create an External Client App")
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        app = ConnectedApp(consumer_key, consumer_secret, pem, run_as, kind)
        self.apps[consumer_key] = app
        return app

    def rotate_consumer_secret(self, consumer_key: str, new_secret: str) -> None:
        """The app's consumer secret is rotated: from now on only ``new_secret`` is accepted (Salesforce Help,
        "Rotate the Consumer Key and Consumer Secret of an External Client App" — the old pair stops working
        once the new one is applied). Sessions already issued stay valid until they expire."""
        self._app(consumer_key).consumer_secret = new_secret

    def rotate_certificate(self, consumer_key: str, new_public_key_pem: str | bytes) -> None:
        """The JWT bearer flow's certificate is replaced: assertions signed with the old key are refused
        (``invalid_grant``); sessions already issued stay valid until they expire."""
        pem = new_public_key_pem.decode() if isinstance(new_public_key_pem, bytes) else new_public_key_pem
        self._app(consumer_key).public_key_pem = pem

    def issue_token(self, username: str = "") -> str:
        """A new session id shaped like Salesforce's (`00D…!…`), running as `username` ("" = no named user)."""
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        with self._lock:
            self._sessions[token] = username
        return token

    def is_valid(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self._sessions

    def session_user(self, token: str | None) -> str | None:
        """The username a session runs as ("" for a direct session), None for an unknown session."""
        with self._lock:
            return self._sessions.get(token) if token is not None else None

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    # ---- OAuth token endpoint -----------------------------------------------------------------
    def token(self, form: dict[str, str], authorization: str | None, login_host: str | None = None) -> dict[str, Any]:
        """Handle `POST /services/oauth2/token` sent to ``login_host`` (None: not known); raises OAuthError with
        Salesforce's error bodies."""
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            user = self._jwt_user(form.get("assertion", ""), (login_host or "").lower() or None)
        elif grant == "client_credentials":
            user = self._client_credentials_user(authorization)
        elif grant == "password":
            user = self._password_user(form)
        else:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        return {
            "access_token": self.issue_token(user.username),
            "instance_url": self.instance_url,
            "id": f"https://login.salesforce.com/id/{self.org_id}/{user.user_id}",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "scope": "api",
        }

    def _app(self, consumer_key: str | None) -> ConnectedApp:
        app = self.apps.get(consumer_key or "")
        if app is None:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        return app

    def _jwt_user(self, assertion: str, login_host: str | None = None) -> User:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        app = self._app(unverified.get("iss"))
        self._check_token_host(app, login_host)
        if not app.public_key_pem:
            raise OAuthError("invalid_grant", "invalid assertion")
        try:
            # `exp` arrives as a string (simple-salesforce), which PyJWT's own check rejects.
            claims = jwt.decode(
                assertion,
                app.public_key_pem,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if not self._audience_ok(claims.get("aud"), app):
            raise OAuthError("invalid_grant", "Audience validation failed")
        try:
            expires = int(claims.get("exp", 0))
        except (TypeError, ValueError):
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if expires < time.time():
            raise OAuthError("invalid_grant", "expired authorization code")
        user = self.users.get(str(claims.get("sub", "")).lower())
        if user is None:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return user

    def _check_token_host(self, app: ConnectedApp, login_host: str | None) -> None:
        """External Client Apps, and every app of a GovCloud org, take the JWT at the org's My Domain only."""
        strict = app.kind == "external_client_app" or self.govcloud
        if strict and login_host is not None and login_host != self.my_domain:
            raise OAuthError("invalid_client_id", "client identifier invalid")

    def _audience_ok(self, aud: object, app: ConnectedApp) -> bool:
        """``aud`` names a host this app kind (and org) accepts (module docstring)."""
        for value in aud if isinstance(aud, list) else [aud]:
            if str(value).rstrip("/") == self.instance_url:
                return not self.govcloud
            parsed = urlparse(str(value))
            host = parsed.hostname or ""
            if parsed.scheme != "https":
                continue
            if self.govcloud:
                accepted = host in GENERIC_LOGIN_HOSTS
            elif app.kind == "external_client_app":
                accepted = host == self.my_domain
            else:
                accepted = host == "salesforce.com" or host.endswith(".salesforce.com")
            if accepted:
                return True
        return False

    def _client_credentials_user(self, authorization: str | None) -> User:
        if not authorization or not authorization.startswith("Basic "):
            raise OAuthError("invalid_client", "invalid client credentials")
        try:
            key, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "invalid client credentials") from None
        app = self._app(key)
        if app.consumer_secret is None or not secrets.compare_digest(app.consumer_secret, secret):
            raise OAuthError("invalid_client", "invalid client credentials")
        if app.run_as is not None:
            user = self.users.get(app.run_as.lower())
            if user is None:
                raise OAuthError("invalid_grant", "no client credentials user enabled")
            return user
        # No explicit "Run As" user: any registered user, else an integration user made on the fly.
        return next(iter(self.users.values()), None) or User("integration@sim.invalid", "", "", self._ids.new("005"))

    def _password_user(self, form: dict[str, str]) -> User:
        app = self._app(form.get("client_id"))
        if app.consumer_secret is None or not secrets.compare_digest(
            app.consumer_secret, form.get("client_secret", "")
        ):
            raise OAuthError("invalid_client", "invalid client credentials")
        user = self.check_password(form.get("username", ""), form.get("password", ""))
        if user is None:
            raise OAuthError("invalid_grant", "authentication failure")
        return user

    def check_password(self, username: str, password: str) -> User | None:
        """Password with the security token appended (or alone when the user has no token)."""
        user = self.users.get(username.lower())
        if user is None:
            return None
        candidates = {user.password + user.security_token}
        if not user.security_token:
            candidates.add(user.password)
        return user if password in candidates else None

    # ---- SOAP login -----------------------------------------------------------------------------
    def soap_login(self, body: bytes, version: str) -> tuple[int, str]:
        """Partner API `login()`: (200, loginResponse) or (500, INVALID_LOGIN fault).

        Salesforce: "SOAP API login() is not available in API versions 65.0 and later" (help article
        005132110, "Platform SOAP API login() Retirement"); which fault code it answers is not documented,
        so this answers the code Salesforce uses for an operation of a version that doesn't offer it.
        """
        if float(version) >= SOAP_LOGIN_LAST_VERSION + 1:
            return 500, _fault("UNSUPPORTED_API_VERSION", f"login() is not available in API version {version}")
        try:
            root = SafeET.fromstring(body)
        except SafeET.ParseError:
            return 500, _LOGIN_FAULT
        values = {el.tag.rsplit("}", 1)[-1]: (el.text or "") for el in root.iter()}
        user = self.check_password(values.get("username", ""), values.get("password", ""))
        if user is None:
            return 500, _LOGIN_FAULT
        session = self.issue_token(user.username)
        org15 = self.org_id[:15]
        base = self.instance_url
        return 200, (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
            'soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
            'instance"><soapenv:Body><loginResponse><result>'
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org15}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{org15}</serverUrl>"
            f"<sessionId>{session}</sessionId><userId>{user.user_id}</userId>"
            f"<userInfo><organizationId>{self.org_id}</organizationId><userName>{escape(user.username)}"
            "</userName><sessionSecondsValid>7200</sessionSecondsValid></userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
