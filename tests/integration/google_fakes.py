"""Google, played on loopback: an OpenID provider for the OAuth flow, and Calendar API helpers.

`FakeGoogle` is a real HTTP server (werkzeug on 127.0.0.1, port 0, in a thread) serving a
discovery document, an authorize endpoint that consents at once (or refuses), a token endpoint
that checks the client, the redirect URI and PKCE, a JWKS with an RS256 key generated for this
test session, and a revocation endpoint. Tests switch its behaviour per test (deny, a token
error, id_token claims to tamper with) and read what it was asked.

Calendar API calls go through googleapiclient's own HttpMockSequence; `calls()` turns what it
recorded into (method, path, query, json body, headers).
"""

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from app.extensions import db
from app.services.crypto import encrypt
from app.timeutil import utcnow
from config import TestingConfig

CLIENT_ID = "hms-test-client.apps.example"
CLIENT_SECRET = "hms-test-client-secret"
KEY_ID = "hms-test-key"


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


class FakeGoogle:
    """A tiny OpenID provider that behaves like Google's for the authorization-code flow."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        # Same key id, different key: what a forger without Google's key would produce.
        self.rogue_key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig"})
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.reset()

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def token_endpoint(self) -> str:
        return f"{self.url}/token"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        self.account = {"sub": "google-sub-1", "email": "someone@gmail.example"}
        self.deny = False
        self.token_error: str | None = None
        self.id_token_overrides: dict = {}  # a None value removes the claim
        self.sign_with_rogue_key = False
        self.granted_scope: str | None = None  # None: whatever was asked for
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.issued: list[dict] = []
        self.revoked: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("GET", "/jwks"): self._jwks,
            ("POST", "/revoke"): self._revoke,
        }
        handler = routes.get((request.method, request.path))
        response = handler(request) if handler else Response("not found", status=404)
        return response(environ, start_response)

    def _discovery(self, request: Request) -> Response:
        return _json(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": self.token_endpoint,
                "jwks_uri": f"{self.url}/jwks",
                "revocation_endpoint": f"{self.url}/revoke",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def _authorize(self, request: Request) -> Response:
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            return Response("bad client or response type", status=400)
        back = {"state": args.get("state", "")}
        if self.deny:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(16)
            self.codes[code] = args
            back["code"] = code
        location = f"{args['redirect_uri']}?{urlencode(back)}"
        return Response(status=302, headers={"Location": location})

    def _token(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.token_requests.append(form)
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        if self.token_error:
            return _json({"error": self.token_error}, 400)
        asked = self.codes.pop(form.get("code", ""), None)
        if (
            form.get("grant_type") != "authorization_code"
            or asked is None
            or form.get("redirect_uri") != asked["redirect_uri"]
            or asked.get("code_challenge_method") != "S256"
            or _s256(form.get("code_verifier", "")) != asked.get("code_challenge")
        ):
            return _json({"error": "invalid_grant"}, 400)
        tokens = {
            "access_token": "ya29." + secrets.token_urlsafe(24),
            "refresh_token": "1//" + secrets.token_urlsafe(24),
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": self.granted_scope or asked["scope"],
            "id_token": self._id_token(asked["nonce"]),
        }
        self.issued.append(tokens)
        return _json(tokens)

    def _id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": self.account["sub"],
            "email": self.account["email"],
            "email_verified": True,
            "nonce": nonce,
            "iat": now,
            "exp": now + 3600,
        }
        for name, value in self.id_token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.rogue_key if self.sign_with_rogue_key else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)

    def _jwks(self, request: Request) -> Response:
        return _json({"keys": [self.key.as_dict(private=False)]})

    def _revoke(self, request: Request) -> Response:
        self.revoked.append(request.form.get("token", ""))
        return _json({})


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def google_provider():
    provider = FakeGoogle()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def google(google_provider):
    """The provider, back to its defaults for this test."""
    google_provider.reset()
    return google_provider


def google_app_for(database_url: str, metadata_url: str, **overrides):
    from tests.conftest import IsolatedClient

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "GOOGLE_CLIENT_ID": CLIENT_ID,
        "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "GOOGLE_METADATA_URL": metadata_url,
        # A Google that is down unless a test hands the handlers an HttpMockSequence.
        "GOOGLE_CALENDAR_API_URL": closed_port_url(),
        "GOOGLE_HTTP_TIMEOUT": 3,
        "CLINIC_TIMEZONE": "America/New_York",
        **overrides,
    }
    google_app = create_app(TestingConfig, config)
    google_app.test_client_class = IsolatedClient
    return google_app


@pytest.fixture(scope="session")
def google_app(app, database_url, google_provider):
    """The app with Google configured against the loopback provider (same database as `app`)."""
    return google_app_for(database_url, google_provider.metadata_url)


@pytest.fixture
def google_client(google_app, google):
    return google_app.test_client()


def connect_google(user, *, sub, access="access-token", refresh="refresh-token", expires_at=None):
    """Give a user a stored grant, as a completed OAuth flow would (tokens encrypted)."""
    user.google_sub = sub
    user.google_email = f"{sub}@gmail.example"
    user.google_access_token = encrypt(access)
    user.google_refresh_token = encrypt(refresh)
    user.google_token_expires_at = expires_at
    user.google_connected_at = utcnow()
    user.google_connection_broken = False
    db.session.commit()
    return user


@dataclass
class Call:
    method: str
    url: str  # without the query
    path: str
    query: dict
    body: dict | str | None
    headers: dict


def calls(http) -> list[Call]:
    """What an HttpMockSequence was asked, decoded."""
    decoded = []
    for uri, method, body, headers in http.request_sequence:
        parts = urlsplit(uri)
        if isinstance(body, bytes):
            body = body.decode()
        if isinstance(body, str) and body.startswith("{"):
            body = json.loads(body)
        lower = {k.lower(): v for k, v in (headers or {}).items()}
        url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        decoded.append(Call(method, url, parts.path, parse_qs(parts.query), body, lower))
    return decoded


def ok(body: dict | None = None, status: int = 200):
    return ({"status": str(status), "content-type": "application/json"}, json.dumps(body or {}))


def error(status: int, reason: str = "error"):
    payload = {"error": {"code": status, "message": reason, "errors": [{"reason": reason}]}}
    return ({"status": str(status), "content-type": "application/json"}, json.dumps(payload))


def token_answer(access_token: str, expires_in: int = 3600):
    return ok({"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"})


def hours_from_now(hours: float) -> datetime:
    return utcnow() + timedelta(hours=hours)
