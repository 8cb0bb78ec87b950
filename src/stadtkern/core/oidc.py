"""Verification of OpenID Connect bearer tokens (JWT) against the identity provider's JWKS."""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Protocol
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import exceptions as jwt_errors

from stadtkern.core.roles import PLATFORM_ADMIN
from stadtkern.settings import OidcSettings

log = logging.getLogger(__name__)

# Only asymmetric algorithms: under HS* the published public key would serve as the HMAC
# secret, so anyone who can read the JWKS could mint tokens (RS/HS key confusion).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
REQUIRED_CLAIMS = ("exp", "iss", "aud", "sub")
MAX_TOKEN_CHARS = 16_384  # well above Keycloak tokens with many roles, far below abuse
MAX_JWKS_BYTES = 1_048_576
MIN_RSA_BITS = 2048
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

Clock = Callable[[], float]


class OidcError(Exception):
    """A bearer token was refused; the message is short and safe to show the client."""


@dataclass(frozen=True)
class OidcClaims:
    """What a verified token says about its bearer."""

    subject: str
    name: str
    tenant_roles: Mapping[str, frozenset[str]] = field(hash=False)
    platform_admin: bool


@dataclass(frozen=True)
class _KeySet:
    """Verification keys of one JWKS document, by (kid, algorithm)."""

    keys: Mapping[tuple[str | None, str], jwt.PyJWK]

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key for the token's kid and algorithm, or the only key for a kid-less token."""
        key = self.keys.get((kid, alg))
        if key is None and kid is None:
            candidates = [found for (_, of_alg), found in self.keys.items() if of_alg == alg]
            if len(candidates) == 1:
                return candidates[0]
        return key


def _usable_key(entry: dict[str, Any], alg: str) -> jwt.PyJWK | None:
    try:
        key = jwt.PyJWK(entry, algorithm=alg)
        # prepare_key checks that the EC curve fits the algorithm, which PyJWK does not.
        prepared = key.Algorithm.prepare_key(key.key)
    except (jwt_errors.PyJWTError, ValueError, TypeError):
        return None
    if isinstance(prepared, RSAPublicKey) and prepared.key_size < MIN_RSA_BITS:
        return None
    return key


def _parse_jwks(document: bytes, algorithms: frozenset[str]) -> _KeySet:
    """The public signing keys of a JWKS document usable with the allowed algorithms."""
    data = json.loads(document)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWK set")
    keys: dict[tuple[str | None, str], jwt.PyJWK] = {}
    for entry in data["keys"]:
        # Keycloak also publishes encryption keys; a private part ("d") has no place here.
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or "d" in entry:
            continue
        kid = entry.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        for alg in sorted(algorithms):
            if entry.get("alg", alg) != alg or (kid, alg) in keys:
                continue
            key = _usable_key(entry, alg)
            if key is not None:
                keys[(kid, alg)] = key
    if not keys:
        raise ValueError("no usable signing key in the JWK set")
    return _KeySet(MappingProxyType(keys))


class _KeySource(Protocol):
    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None: ...


class _FileKeys:
    """A JWKS file, read once and again whenever it changes on disk."""

    def __init__(self, path: Path, algorithms: frozenset[str]) -> None:
        self._path = path
        self._algorithms = algorithms
        self._lock = threading.Lock()
        self._keys: _KeySet | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._loaded = False

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key for kid and alg from the file's current content."""
        try:
            stat = self._path.stat()
            # Inode and size as well: an atomic replace within one mtime tick still counts.
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            stamp = None
        if not self._loaded or stamp != self._stamp:
            with self._lock:
                if not self._loaded or stamp != self._stamp:
                    self._reload(stamp)
        keys = self._keys
        if keys is None:
            raise OidcError("signing keys unavailable")
        return keys.find(kid, alg)

    def _reload(self, stamp: tuple[int, int, int] | None) -> None:
        # The stamp is stored on failure too, so a broken file is logged once, not per request.
        self._stamp, self._loaded = stamp, True
        try:
            if stamp is None or stamp[1] > MAX_JWKS_BYTES:
                raise ValueError("missing or too large")
            self._keys = _parse_jwks(self._path.read_bytes(), self._algorithms)
        except (OSError, ValueError, RecursionError) as exc:
            log.warning("cannot load OIDC signing keys from %s: %s", self._path, exc)


class _SameSchemeRedirect(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but never from https to anything weaker."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(req.full_url).scheme == "https" and urlsplit(newurl).scheme != "https":
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _checked_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("the OIDC jwks_url must be an https:// URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        log.warning("OIDC signing keys are fetched without TLS from %s", parts.hostname)
    return url


class _UrlKeys:
    """A JWKS URL: cached, refetched for unknown kids and when older than max_age."""

    def __init__(
        self,
        url: str,
        algorithms: frozenset[str],
        *,
        timeout: float,
        refetch_interval: float,
        max_age: float,
        clock: Clock,
    ) -> None:
        self._url = _checked_url(url)
        self._algorithms = algorithms
        self._timeout = timeout
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._clock = clock
        self._opener = urllib.request.build_opener(_SameSchemeRedirect)
        self._lock = threading.Lock()
        self._keys: _KeySet | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf

    def find(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key for kid and alg; fetches the set when it is missing, lacks the kid or is old."""
        keys = self._keys
        if keys is None or keys.find(kid, alg) is None:
            keys = self._refresh(wait=True)
        elif self._clock() - self._fetched_at >= self._max_age:
            # A known kid need not wait: another thread's refresh will do.
            keys = self._refresh(wait=False)
        if keys is None:
            raise OidcError("signing keys unavailable")
        return keys.find(kid, alg)

    def _refresh(self, *, wait: bool) -> _KeySet | None:
        if not self._lock.acquire(blocking=wait):
            return self._keys
        try:
            # The limit holds for failures too: random kids must not make us hammer the IdP.
            now = self._clock()
            if now - self._attempted_at < self._refetch_interval:
                return self._keys
            self._attempted_at = now
            try:
                self._keys = _parse_jwks(self._download(), self._algorithms)
                self._fetched_at = now
            except (OSError, ValueError, RecursionError, http.client.HTTPException) as exc:
                log.warning("cannot fetch OIDC signing keys from %s: %s", self._url, exc)
            return self._keys
        finally:
            self._lock.release()

    def _download(self) -> bytes:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in _checked_url
            self._url, headers={"Accept": "application/json", "User-Agent": "stadtkern"}
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                body: bytes = response.read(MAX_JWKS_BYTES + 1)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the connection open otherwise
            raise
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError("JWK set too large")
        return body


def _refusal(exc: jwt_errors.PyJWTError) -> str:
    # Fixed phrases only: PyJWT's own messages may quote parts of the token.
    match exc:
        case jwt_errors.ExpiredSignatureError():
            return "token expired"
        case jwt_errors.ImmatureSignatureError():
            return "token not yet valid"
        case jwt_errors.InvalidIssuerError():
            return "wrong issuer"
        case jwt_errors.InvalidAudienceError():
            return "wrong audience"
        case jwt_errors.MissingRequiredClaimError() if exc.claim in REQUIRED_CLAIMS:
            return f"missing claim: {exc.claim}"
        case jwt_errors.InvalidSignatureError():
            return "invalid signature"
        case jwt_errors.InvalidAlgorithmError():
            return "algorithm not allowed"
        case jwt_errors.DecodeError():
            return "malformed token"
    return "invalid token"


def _role_values(payload: Mapping[str, Any], path: str) -> list[str]:
    node: Any = payload
    for part in path.split("."):
        if not isinstance(node, dict):
            return []
        node = node.get(part)
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [value for value in node if isinstance(value, str)]
    return []


def _claims(payload: Mapping[str, Any], roles_claim: str) -> OidcClaims:
    subject: str = payload["sub"]
    names = (payload.get("preferred_username"), payload.get("name"))
    name = next((value for value in names if isinstance(value, str) and value), subject)
    granted: dict[str, set[str]] = {}
    platform_admin = False
    for value in _role_values(payload, roles_claim):
        if value == PLATFORM_ADMIN:
            platform_admin = True
            continue
        tenant, colon, role = value.partition(":")
        # A tenant-scoped "platform_admin" would only invite mix-ups, so it is ignored too.
        if colon and tenant and role and ":" not in role and role != PLATFORM_ADMIN:
            granted.setdefault(tenant, set()).add(role)
    tenant_roles = MappingProxyType({tenant: frozenset(roles) for tenant, roles in granted.items()})
    return OidcClaims(subject, name, tenant_roles, platform_admin)


class OidcVerifier:
    """Checks bearer tokens of the configured issuer and turns them into claims."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        fetch_timeout: float = 5.0,
        refetch_interval: float = 60.0,
        max_key_age: float = 600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        refused = sorted(set(settings.algorithms) - ASYMMETRIC_ALGORITHMS)
        if refused:
            log.warning("OIDC algorithms ignored, only asymmetric ones are safe: %s", refused)
        self._algorithms = frozenset(settings.algorithms) & ASYMMETRIC_ALGORITHMS
        if not self._algorithms:
            raise ValueError("OIDC needs at least one asymmetric algorithm (RS*, PS*, ES*, EdDSA)")
        if not (settings.issuer and settings.audience):
            raise ValueError("OIDC needs an issuer and an audience")
        self._settings = settings
        self._keys: _KeySource
        if settings.jwks_file is not None:
            self._keys = _FileKeys(settings.jwks_file, self._algorithms)
        elif settings.jwks_url:
            self._keys = _UrlKeys(
                settings.jwks_url,
                self._algorithms,
                timeout=fetch_timeout,
                refetch_interval=refetch_interval,
                max_age=max_key_age,
                clock=clock,
            )
        else:
            raise ValueError("OIDC needs jwks_url or jwks_file")

    def verify(self, token: str) -> OidcClaims:
        """The claims of a valid token; OidcError with a client-safe reason otherwise."""
        payload = self._decode(token, self._settings.audience)
        # Keycloak marks its ID tokens "ID"; they carry our audience but are no access grant.
        if payload.get("typ", "Bearer") != "Bearer":
            raise OidcError("not an access token")
        return _claims(payload, self._settings.roles_claim)

    def verify_id_token(self, token: str, *, client_id: str, nonce: str) -> OidcClaims:
        """The claims of an ID token from the browser login: for our client, with our nonce.

        The same keys, issuer and expiry checks as bearer tokens; the audience is the client
        and the nonce binds the token to the login the browser started (no replay).
        """
        payload = self._decode(token, client_id)
        if payload.get("typ", "ID") != "ID":
            raise OidcError("not an ID token")
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        # With several audiences the token must name us as the party it was issued to.
        if len(audiences) > 1 and payload.get("azp") != client_id:
            raise OidcError("wrong authorised party")
        presented = payload.get("nonce")
        if not isinstance(presented, str) or not hmac.compare_digest(
            presented.encode(), nonce.encode()
        ):
            raise OidcError("wrong nonce")
        return _claims(payload, self._settings.roles_claim)

    def _decode(self, token: str, audience: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise OidcError("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt_errors.PyJWTError:
            raise OidcError("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise OidcError("algorithm not allowed")
        key = self._keys.find(header.get("kid"), alg)
        if key is None:
            raise OidcError("unknown signing key")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt_errors.PyJWTError as exc:
            raise OidcError(_refusal(exc)) from None
        if not payload["sub"]:
            raise OidcError("missing claim: sub")
        return payload
