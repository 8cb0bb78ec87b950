"""OIDC bearer tokens: signature, claims, algorithms and JWKS from a file or over HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import io
import json
import logging
import os
import socket
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from stadtkern.core.oidc import OidcClaims, OidcError, OidcVerifier, _SameSchemeRedirect
from stadtkern.settings import OidcSettings

ISSUER = "https://login.kaiserslautern.de/realms/stadt"
AUDIENCE = "stadtkern"
ROLES_CLAIM = "resource_access.stadtkern.roles"
DROP = object()  # marks a claim to leave out of the token
NUMERIC_KID_HEADER = b'{"alg": "RS256", "kid": 5}'

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rsa_key_2() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(key: SigningKey, kid: str | None, **extra: str) -> dict[str, Any]:
    """The public half of a key as a JWK, as an IdP publishes it."""
    jwk: dict[str, Any]
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    if kid is not None:
        jwk["kid"] = kid
    return {**jwk, "use": "sig", **extra}


def jwks(*jwk: dict[str, Any]) -> bytes:
    return json.dumps({"keys": list(jwk)}).encode()


def make_token(
    key: SigningKey,
    kid: str | None = "rsa-1",
    alg: str = "RS256",
    changes: Mapping[str, object] | None = None,
    **claims: object,
) -> str:
    """A token signed like Keycloak's, with claims overridden (DROP leaves one out)."""
    now = int(time.time())
    payload: dict[str, object] = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": "3f1c2a4e-user",
        "exp": now + 300,
        "iat": now,
        "typ": "Bearer",
        "preferred_username": "m.mustermann",
        "resource_access": {"stadtkern": {"roles": ["kaiserslautern:operator"]}},
    }
    payload.update(changes or {}, **claims)
    payload = {name: value for name, value in payload.items() if value is not DROP}
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes) -> str:
    return f"{signing_input(header, payload)}.{b64(signature)}"


def signing_input(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def valid_payload() -> dict[str, Any]:
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "attacker", "exp": int(time.time()) + 300}


@pytest.fixture
def jwks_file(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> Path:
    path = tmp_path / "jwks.json"
    path.write_bytes(jwks(public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-1")))
    return path


@pytest.fixture
def file_verifier(jwks_file: Path) -> OidcVerifier:
    return OidcVerifier(file_settings(jwks_file))


def oidc_settings(**changes: Any) -> OidcSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "roles_claim": ROLES_CLAIM,
        **changes,
    }
    return OidcSettings(**values)


def file_settings(path: Path, **changes: Any) -> OidcSettings:
    return oidc_settings(jwks_file=path, **changes)


def refused(verifier: OidcVerifier, token: str) -> str:
    with pytest.raises(OidcError) as caught:
        verifier.verify(token)
    return str(caught.value)


# --- valid tokens and claims ---------------------------------------------------------------


def test_valid_token_yields_claims_with_roles_from_nested_claim(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    roles = [
        "kaiserslautern:operator",
        "kaiserslautern:viewer",
        "landau:admin",
        "platform_admin",
        "offline_access",  # Keycloak default role: no tenant, ignored
        "a:b:c",
        ":admin",
        "landau:",
        "landau:platform_admin",
        42,
        {"tenant": "x"},
    ]
    token = make_token(rsa_key, resource_access={"stadtkern": {"roles": roles}})

    claims = file_verifier.verify(token)

    assert claims == OidcClaims(
        subject="3f1c2a4e-user",
        name="m.mustermann",
        tenant_roles={
            "kaiserslautern": frozenset({"operator", "viewer"}),
            "landau": frozenset({"admin"}),
        },
        platform_admin=True,
    )


def test_es256_token_with_roles_at_the_default_top_level_claim(
    jwks_file: Path, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    verifier = OidcVerifier(file_settings(jwks_file, roles_claim="stadtkern_roles"))
    token = make_token(ec_key, "ec-1", "ES256", stadtkern_roles=["landau:viewer"])

    claims = verifier.verify(token)

    assert claims == OidcClaims(
        "3f1c2a4e-user", "m.mustermann", {"landau": frozenset({"viewer"})}, False
    )


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"preferred_username": "mm", "name": "Max Mustermann"}, "mm"),
        ({"preferred_username": DROP, "name": "Max Mustermann"}, "Max Mustermann"),
        ({"preferred_username": "", "name": DROP}, "3f1c2a4e-user"),
    ],
)
def test_name_falls_back_to_name_then_subject(
    file_verifier: OidcVerifier,
    rsa_key: rsa.RSAPrivateKey,
    names: dict[str, object],
    expected: str,
) -> None:
    assert file_verifier.verify(make_token(rsa_key, changes=names)).name == expected


@pytest.mark.parametrize(
    "roles_value",
    [DROP, "not-a-list-of-roles", {"roles": "kaiserslautern:admin"}, 7],
)
def test_missing_or_odd_roles_claim_grants_nothing(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey, roles_value: object
) -> None:
    claims = file_verifier.verify(make_token(rsa_key, resource_access=roles_value))

    assert (dict(claims.tenant_roles), claims.platform_admin) == ({}, False)


def test_single_string_role_claim_is_one_role(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = make_token(rsa_key, resource_access={"stadtkern": {"roles": "landau:admin"}})

    assert file_verifier.verify(token).tenant_roles == {"landau": frozenset({"admin"})}


def test_token_without_kid_uses_the_only_key_of_its_algorithm(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert file_verifier.verify(make_token(rsa_key, kid=None)).subject == "3f1c2a4e-user"


# --- refused claims ----------------------------------------------------------------------


def test_wrong_issuer_is_refused(file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    token = make_token(rsa_key, iss="https://login.example.org/realms/stadt")

    assert refused(file_verifier, token) == "wrong issuer"


@pytest.mark.parametrize("aud", ["account", ["account", "stadtkern-test"]])
def test_wrong_audience_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey, aud: object
) -> None:
    assert refused(file_verifier, make_token(rsa_key, aud=aud)) == "wrong audience"


def test_expired_token_is_refused_beyond_the_leeway(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    within_leeway = make_token(rsa_key, exp=now - 10, iat=now - 400)
    expired = make_token(rsa_key, exp=now - 60, iat=now - 400)

    assert file_verifier.verify(within_leeway).subject == "3f1c2a4e-user"
    assert refused(file_verifier, expired) == "token expired"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_not_yet_valid_token_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey, claim: str
) -> None:
    token = make_token(rsa_key, changes={claim: int(time.time()) + 120})

    assert refused(file_verifier, token) == "token not yet valid"


@pytest.mark.parametrize("claim", ["sub", "exp", "iss", "aud"])
def test_token_missing_a_required_claim_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey, claim: str
) -> None:
    token = make_token(rsa_key, changes={claim: DROP})

    assert refused(file_verifier, token) == f"missing claim: {claim}"


@pytest.mark.parametrize(("sub", "reason"), [("", "missing claim: sub"), (17, "invalid token")])
def test_empty_or_non_string_subject_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey, sub: object, reason: str
) -> None:
    assert refused(file_verifier, make_token(rsa_key, sub=sub)) == reason


def test_keycloak_id_token_is_no_access_token(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert refused(file_verifier, make_token(rsa_key, typ="ID")) == "not an access token"


# --- keys, signatures and algorithms -------------------------------------------------------


def test_unknown_kid_is_refused(file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    assert refused(file_verifier, make_token(rsa_key, kid="rotated-away")) == "unknown signing key"


def test_token_signed_by_another_key_under_a_known_kid_is_refused(
    file_verifier: OidcVerifier, rsa_key_2: rsa.RSAPrivateKey
) -> None:
    assert refused(file_verifier, make_token(rsa_key_2, kid="rsa-1")) == "invalid signature"


def test_tampered_payload_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    header, _, signature = make_token(rsa_key).split(".")
    elevated = {**valid_payload(), "resource_access": {"stadtkern": {"roles": ["platform_admin"]}}}
    payload = b64(json.dumps(elevated).encode())

    assert refused(file_verifier, f"{header}.{payload}.{signature}") == "invalid signature"


def test_tampered_signature_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    header, payload, signature = make_token(rsa_key).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01

    assert refused(file_verifier, f"{header}.{payload}.{b64(bytes(raw))}") == "invalid signature"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_unsigned_token_is_refused(file_verifier: OidcVerifier, alg: str) -> None:
    token = forged_token({"alg": alg, "kid": "rsa-1", "typ": "JWT"}, valid_payload(), b"")

    assert refused(file_verifier, token) == "algorithm not allowed"


def test_hs256_signed_with_the_rsa_public_key_is_refused_even_when_configured(
    jwks_file: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    verifier = OidcVerifier(file_settings(jwks_file, algorithms=["RS256", "HS256", "none"]))
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}
    unsigned = signing_input(header, valid_payload())
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()

    assert refused(verifier, f"{unsigned}.{b64(mac)}") == "algorithm not allowed"
    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"


def test_only_symmetric_algorithms_configured_is_a_configuration_error(jwks_file: Path) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        OidcVerifier(file_settings(jwks_file, algorithms=["HS256", "none"]))


@pytest.mark.parametrize(
    ("kid", "alg"), [("ec-1", "ES256"), ("rsa-1", "RS384"), ("rsa-1", "PS256")]
)
def test_algorithm_outside_the_configured_list_is_refused(
    jwks_file: Path,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    kid: str,
    alg: str,
) -> None:
    verifier = OidcVerifier(file_settings(jwks_file, algorithms=["RS256"]))
    key: SigningKey = ec_key if alg.startswith("ES") else rsa_key

    assert refused(verifier, make_token(key, kid, alg)) == "algorithm not allowed"


def test_key_declared_for_one_algorithm_is_not_used_with_another(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    path = tmp_path / "jwks.json"
    path.write_bytes(jwks(public_jwk(rsa_key, "rsa-1", alg="RS256")))
    verifier = OidcVerifier(file_settings(path, algorithms=["RS256", "PS256"]))

    assert refused(verifier, make_token(rsa_key, alg="PS256")) == "unknown signing key"
    assert verifier.verify(make_token(rsa_key, alg="RS256")).subject == "3f1c2a4e-user"


def test_encryption_and_short_keys_in_the_jwks_are_ignored(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    path = tmp_path / "jwks.json"
    path.write_bytes(
        jwks(
            public_jwk(rsa_key, "rsa-1"),
            public_jwk(rsa_key, "enc-1", use="enc"),
            public_jwk(short, "short-1"),
        )
    )
    verifier = OidcVerifier(file_settings(path))
    with warnings.catch_warnings():
        # PyJWT warns when signing with a short key; that is the point of this token.
        warnings.simplefilter("ignore")
        short_token = make_token(short, kid="short-1")

    assert refused(verifier, make_token(rsa_key, kid="enc-1")) == "unknown signing key"
    assert refused(verifier, short_token) == "unknown signing key"
    assert verifier.verify(make_token(rsa_key, kid="rsa-1")).subject == "3f1c2a4e-user"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "Bearer",
        "a.b",
        "a.b.c",
        "...",
        "äöü.äöü.äöü",
        f"{b64(b'[1]')}.{b64(b'{}')}.",
        f"{b64(NUMERIC_KID_HEADER)}.{b64(b'{}')}.",
        "x" * 20_000,
    ],
)
def test_malformed_token_is_refused(file_verifier: OidcVerifier, token: str) -> None:
    assert refused(file_verifier, token) == "malformed token"


def test_malformed_payload_is_refused(
    file_verifier: OidcVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.api_jws.encode(b"not json", rsa_key, algorithm="RS256", headers={"kid": "rsa-1"})

    assert refused(file_verifier, token) == "malformed token"


# --- JWKS file -------------------------------------------------------------------------------


def test_jwks_file_is_read_again_when_it_changes(
    jwks_file: Path, rsa_key: rsa.RSAPrivateKey, rsa_key_2: rsa.RSAPrivateKey
) -> None:
    verifier = OidcVerifier(file_settings(jwks_file))
    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"

    jwks_file.write_bytes(jwks(public_jwk(rsa_key_2, "rsa-2")))
    stat = jwks_file.stat()
    os.utime(jwks_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    assert verifier.verify(make_token(rsa_key_2, kid="rsa-2")).subject == "3f1c2a4e-user"
    assert refused(verifier, make_token(rsa_key)) == "unknown signing key"


def test_broken_jwks_file_keeps_the_keys_read_before(
    jwks_file: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    verifier = OidcVerifier(file_settings(jwks_file))
    verifier.verify(make_token(rsa_key))

    jwks_file.write_text('{"keys": [')

    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"


def test_missing_jwks_file_refuses_every_token(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = OidcVerifier(file_settings(tmp_path / "absent.json"))

    assert refused(verifier, make_token(rsa_key)) == "signing keys unavailable"


# --- JWKS over HTTP --------------------------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on loopback whose document and status the test controls."""

    def __init__(self) -> None:
        self.document = b'{"keys": []}'
        self.status = 200
        self.requests = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests += 1
                    status, body = server.status, server.document
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/realms/stadt/certs"


class FakeClock:
    """A monotonic clock the test advances by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer()
    server.document = jwks(public_jwk(rsa_key, "rsa-1"))
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def url_verifier(jwks_server: JwksServer, clock: FakeClock) -> Callable[..., OidcVerifier]:
    def make(**settings: Any) -> OidcVerifier:
        values: dict[str, Any] = {"jwks_url": jwks_server.url, **settings}
        return OidcVerifier(oidc_settings(**values), fetch_timeout=2.0, clock=clock)

    return make


def test_jwks_url_is_fetched_once_and_cached(
    url_verifier: Callable[..., OidcVerifier], jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    verifier = url_verifier()

    for _ in range(3):
        assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 1


def test_rotated_key_is_fetched_at_most_once_per_interval(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    rsa_key_2: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    verifier = url_verifier()
    verifier.verify(make_token(rsa_key))
    clock.now += 61
    jwks_server.document = jwks(public_jwk(rsa_key, "rsa-1"), public_jwk(rsa_key_2, "rsa-2"))

    assert verifier.verify(make_token(rsa_key_2, kid="rsa-2")).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 2

    jwks_server.document = jwks(public_jwk(rsa_key, "rsa-1"), public_jwk(ec_key, "ec-2"))
    clock.now += 59
    assert refused(verifier, make_token(ec_key, "ec-2", "ES256")) == "unknown signing key"
    assert refused(verifier, make_token(rsa_key, kid="random-kid")) == "unknown signing key"
    assert jwks_server.requests == 2

    clock.now += 1
    assert verifier.verify(make_token(ec_key, "ec-2", "ES256")).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 3


def test_old_key_set_is_refetched_so_removed_keys_stop_working(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    rsa_key_2: rsa.RSAPrivateKey,
) -> None:
    verifier = url_verifier()
    verifier.verify(make_token(rsa_key))
    jwks_server.document = jwks(public_jwk(rsa_key_2, "rsa-2"))
    clock.now += 599
    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 1

    clock.now += 1

    assert refused(verifier, make_token(rsa_key)) == "unknown signing key"
    assert verifier.verify(make_token(rsa_key_2, kid="rsa-2")).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 2


def test_old_key_set_stays_in_use_while_the_idp_is_down(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    verifier = url_verifier()
    verifier.verify(make_token(rsa_key))
    jwks_server.status = 502
    clock.now += 600

    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"
    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 2


def test_fetch_failure_keeps_using_the_cached_keys(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    verifier = url_verifier()
    verifier.verify(make_token(rsa_key))
    jwks_server.status = 503
    clock.now += 61

    assert refused(verifier, make_token(rsa_key, kid="rsa-9")) == "unknown signing key"
    assert verifier.verify(make_token(rsa_key)).subject == "3f1c2a4e-user"
    assert jwks_server.requests == 2


@pytest.mark.parametrize(("status", "document"), [(500, b"{}"), (200, b"<html>"), (200, b"{}")])
def test_fetch_failure_without_cached_keys_refuses(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    rsa_key: rsa.RSAPrivateKey,
    status: int,
    document: bytes,
) -> None:
    jwks_server.status, jwks_server.document = status, document
    verifier = url_verifier()

    assert refused(verifier, make_token(rsa_key)) == "signing keys unavailable"
    assert refused(verifier, make_token(rsa_key)) == "signing keys unavailable"
    assert jwks_server.requests == 1


def test_unreachable_jwks_url_refuses(
    url_verifier: Callable[..., OidcVerifier], rsa_key: rsa.RSAPrivateKey
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = url_verifier(jwks_url=f"http://127.0.0.1:{port}/certs")

    assert refused(verifier, make_token(rsa_key)) == "signing keys unavailable"


def test_concurrent_first_requests_fetch_the_keys_once(
    url_verifier: Callable[..., OidcVerifier], jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    verifier = url_verifier()
    token = make_token(rsa_key)
    results: list[str] = []
    start = threading.Barrier(8)

    def verify() -> None:
        start.wait()
        results.append(verifier.verify(token).subject)

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["3f1c2a4e-user"] * 8
    assert jwks_server.requests == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://idp.example/certs", "https://"])
def test_jwks_url_must_be_http(url: str) -> None:
    settings = OidcSettings(enabled=True, issuer=ISSUER, audience=AUDIENCE, jwks_url=url)

    with pytest.raises(ValueError, match="https"):
        OidcVerifier(settings)


def test_redirect_from_https_to_http_is_not_followed() -> None:
    handler = _SameSchemeRedirect()
    request = urllib.request.Request("https://login.example.org/certs")
    headers = http.client.HTTPMessage()

    downgrade = handler.redirect_request(
        request, io.BytesIO(), 302, "Found", headers, "http://evil.example/certs"
    )
    same = handler.redirect_request(
        request, io.BytesIO(), 302, "Found", headers, "https://login.example.org/v2/certs"
    )

    assert downgrade is None
    assert same is not None
    assert same.full_url == "https://login.example.org/v2/certs"


def test_refusals_and_fetch_failures_never_log_the_token(
    url_verifier: Callable[..., OidcVerifier],
    jwks_server: JwksServer,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    verifier = url_verifier()
    jwks_server.status = 500
    token = make_token(rsa_key)

    assert refused(verifier, token) == "signing keys unavailable"
    assert "cannot fetch OIDC signing keys" in caplog.text
    assert token.split(".")[1] not in caplog.text
