"""The console's login through the city's identity provider: the OpenID Connect authorization
code flow with PKCE (S256), state and nonce, for a confidential or a public client.

Nothing is stored on the server between the two legs. The state, the nonce and the PKCE
verifier travel in a short-lived, HMAC-sealed, HttpOnly cookie of the browser that started
the login: the state coming back from the provider must match it (so nobody can log a
browser into their own account), the nonce must be in the ID token (no replayed tokens) and
the verifier proves to the token endpoint that whoever redeems the code started the login
(an intercepted code is worthless).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from stadtkern.core.oidc import LOOPBACK_HOSTS
from stadtkern.settings import OidcSettings

LOGIN_COOKIE = "stadtkern_oidc"
LOGIN_SECONDS = 600  # time from the button to the provider's answer
DISCOVERY_SECONDS = 3600.0
MAX_DOCUMENT_BYTES = 1_048_576


class LoginRefused(Exception):
    """The login cannot go on; the message is short and safe to show the person."""


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered nonsense."""


@dataclass(frozen=True)
class PendingLogin:
    """A login between the button and the provider's answer: what the cookie carries."""

    tenant: str
    state: str
    nonce: str
    verifier: str
    next: str
    started: float

    @property
    def challenge(self) -> str:
        """The PKCE S256 challenge of the verifier."""
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start_login(tenant: str, next_path: str, now: float) -> PendingLogin:
    """Fresh random state, nonce and PKCE verifier (43 characters, as RFC 7636 allows)."""
    return PendingLogin(
        tenant=tenant,
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        verifier=secrets.token_urlsafe(32),
        next=next_path,
        started=now,
    )


def _sealing_key(pepper: bytes) -> bytes:
    # A key of its own, so that a sealed login can never pass for any other token.
    return hmac.new(pepper, b"stadtkern oidc login cookie", hashlib.sha256).digest()


def seal(pending: PendingLogin, pepper: bytes) -> str:
    """The cookie value: the login as base64 JSON and its HMAC."""
    body = base64.urlsafe_b64encode(json.dumps(asdict(pending)).encode()).decode()
    mac = hmac.new(_sealing_key(pepper), body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def unseal(
    value: str | None, pepper: bytes, *, tenant: str, state: str, now: float
) -> PendingLogin:
    """The login this browser started, if the provider's state belongs to it and it is fresh."""
    again = "the login was not started here, was already used or took too long; please try again"
    body, _, mac = (value or "").partition(".")
    expected = hmac.new(_sealing_key(pepper), body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise LoginRefused(again)
    try:
        pending = PendingLogin(**json.loads(base64.urlsafe_b64decode(body)))
    except (ValueError, TypeError):
        raise LoginRefused(again) from None
    if (
        pending.tenant != tenant
        or not hmac.compare_digest(pending.state.encode(), state.encode())
        or not 0 <= now - pending.started <= LOGIN_SECONDS
    ):
        raise LoginRefused(again)
    return pending


def _endpoint(document: dict[str, Any], name: str) -> str:
    url = document.get(name)
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or not parts.hostname or parts.scheme not in ("https", "http"):
        raise ProviderUnavailable(f"the discovery document lacks a usable {name}")
    # Codes and the client secret never travel in clear text beyond this machine.
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ProviderUnavailable(f"the {name} is not an https:// URL")
    return str(url)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A token endpoint answers directly; a redirect would carry the code elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class IdentityProvider:
    """The configured OpenID provider: its discovery document, login URL and token endpoint."""

    def __init__(self, settings: OidcSettings, *, timeout: float = 5.0) -> None:
        if not settings.client_id:
            raise ValueError("the browser login needs oidc.client_id")
        self.settings = settings
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect)
        self._lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._fetched = 0.0

    def endpoints(self) -> tuple[str, str]:
        """Authorization and token endpoint, from discovery (remembered for an hour)."""
        with self._lock:
            if self._document is None or time.monotonic() - self._fetched > DISCOVERY_SECONDS:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                document = self._json(urllib.request.Request(url))  # noqa: S310 - checked below
                # OpenID Connect Discovery 1.0, 4.3: the document must name the same issuer.
                if document.get("issuer") != self.settings.issuer:
                    raise ProviderUnavailable("the discovery document names another issuer")
                self._document, self._fetched = document, time.monotonic()
            document = self._document
        return _endpoint(document, "authorization_endpoint"), _endpoint(document, "token_endpoint")

    def authorization_url(self, pending: PendingLogin, redirect_uri: str) -> str:
        """Where the browser goes to log in."""
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.settings.scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        authorize = self.endpoints()[0]
        return f"{authorize}{'&' if '?' in authorize else '?'}{urlencode(query)}"

    def redeem(self, code: str, pending: PendingLogin, redirect_uri: str) -> str:
        """The ID token for an authorization code (RFC 6749 4.1.3, with the PKCE verifier)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        secret = self.settings.client_secret
        if secret is None:
            form["client_id"] = self.settings.client_id  # a public client names itself
        else:
            # client_secret_basic: both parts form-encoded first (RFC 6749 2.3.1).
            pair = f"{_form(self.settings.client_id)}:{_form(secret.get_secret_value())}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - _endpoint allows https (and loopback)
            self.endpoints()[1], data=urlencode(form).encode(), headers=headers, method="POST"
        )
        answer = self._json(request, refused_on_400=True)
        token = answer.get("id_token")
        if not isinstance(token, str) or not token:
            raise LoginRefused("the identity provider sent no ID token")
        return token

    def _json(self, request: urllib.request.Request, *, refused_on_400: bool = False) -> Any:
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "stadtkern")
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            if refused_on_400 and error.code in (400, 401):
                raise LoginRefused("the identity provider refused the login code") from None
            raise ProviderUnavailable(f"the identity provider answered {error.code}") from None
        except (OSError, ValueError) as error:
            raise ProviderUnavailable(f"the identity provider is not reachable: {error}") from None
        try:
            document = json.loads(body[:MAX_DOCUMENT_BYTES])
        except ValueError:
            raise ProviderUnavailable("the identity provider answered no JSON") from None
        if not isinstance(document, dict) or len(body) > MAX_DOCUMENT_BYTES:
            raise ProviderUnavailable("the identity provider answered no JSON object")
        return document


def _form(value: str) -> str:
    return urlencode({"": value})[1:]
