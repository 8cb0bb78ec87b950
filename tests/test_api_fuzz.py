"""Property-based fuzzing of the whole HTTP API from its own OpenAPI document (schemathesis).

Every operation gets generated path parameters, query strings, headers and bodies, valid
and invalid, sent authorized (platform admin on /admin, tenant admin on /{tenant}) and
anonymously, on both backends. No answer may be a 5xx; every answer must match the
document; every 4xx must be problem+json with type, title, status and detail. Invalid
bodies for the main write operations must change nothing.

Path parameters naming objects are pinned to real objects (a tenant, a principal, a key, a
greeting), so valid requests reach the service layer instead of stopping at 404; invalid
requests still vary them. Requests go through the session's TestClient: schemathesis'
own ASGI transport would run the application's lifespan a second time, on another event
loop. Runs are derandomized, so CI sees the same requests every time;
STADTKERN_FUZZ_EXAMPLES raises the number of examples for a deeper local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stadtkern.core.ratelimit import FailureLimiter
from stadtkern.db import Database
from stadtkern.http.problems import PROBLEM_JSON
from tests.conftest import issue_token, unique_slug

MAX_EXAMPLES = int(os.environ.get("STADTKERN_FUZZ_EXAMPLES", "25"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # Requests are slow next to Hypothesis' expectations, and filtered strategies are fine.
    suppress_health_check=list(HealthCheck),
)
BIGGER_THAN_ANY_ID = 2**63


@dataclass(frozen=True)
class FuzzTargets:
    """The real objects the generated requests aim at, and who may touch them."""

    tenant: str
    tenant_admin: dict[str, str]
    admin_principal_id: int
    principal_id: int
    key_id: str
    greeting_id: int
    warning: dict[str, str]  # path parameter -> a real object of the warning module
    managed_tenant: str
    platform_admin: dict[str, str]

    def headers(self, path: str, caller: str) -> dict[str, str]:
        """The authorization of `caller` for an operation path."""
        if caller == "anonymous":
            return {}
        return self.platform_admin if path.startswith("/admin") else self.tenant_admin


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[7.7, 49.4], [7.8, 49.4], [7.8, 49.5], [7.7, 49.5], [7.7, 49.4]]],
}


def _warning_targets(created: Any) -> dict[str, str]:
    """A lantern, a zone, an alert and a warning day for the warning routes to aim at."""
    lantern = created(
        "/warning/lanterns",
        {
            "code": "FUZZ1",
            "name": "Fuzz",
            "lon": 7.77,
            "lat": 49.44,
            "publicKey": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        },
    )
    zone = created(
        "/warning/zones", {"key": "fuzz", "name": "Fuzz", "kind": "drawn", "geometry": SQUARE}
    )
    alert = created(
        "/warning/alerts",
        {
            "status": "Draft",
            "event": "Fuzz",
            "headline": {"de": "Fuzz"},
            "area": {"zones": ["fuzz"]},
        },
    )
    day = created("/warning/warning-days", {"scheduledFor": "2099-09-10T11:00:00+02:00"})
    return {
        "code": lantern["code"],
        "key": zone["key"],
        "identifier": alert["identifier"],
        "day_id": str(day["id"]),
    }


@pytest.fixture(scope="module")
def targets(client: TestClient, database: Database, platform_admin: dict[str, str]) -> FuzzTargets:
    """A tenant with a principal, key and greeting, and a tenant for /admin/tenants/{slug}."""
    tenant, managed = unique_slug("fuzz"), unique_slug("fuzz")
    for slug in (tenant, managed):
        modules = ["example", "sensorthings", "warning"]
        body = {"slug": slug, "name": f"Fuzz {slug}", "ars": "073120000000", "modules": modules}
        response = client.post("/admin/tenants", json=body, headers=platform_admin)
        assert response.status_code == 201, response.text
    token = issue_token(
        database,
        tenant=tenant,
        roles=["admin", "greeter", "warning_issuer", "warning_approver"],
    )
    admin = {"Authorization": f"Bearer {token}"}

    def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(f"/{tenant}{path}", json=body, headers=admin)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    principal = created("/admin/principals", {"name": "fuzz-target", "roles": ["viewer"]})
    return FuzzTargets(
        tenant=tenant,
        tenant_admin=admin,
        admin_principal_id=int(
            client.get(f"/{tenant}/auth/whoami", headers=admin).json()["actor"].split(":")[1]
        ),
        principal_id=principal["id"],
        key_id=created("/admin/keys", {"principal_id": principal["id"]})["key_id"],
        greeting_id=created("/example/greetings", {"text": "Moin"})["id"],
        warning=_warning_targets(created),
        managed_tenant=managed,
        platform_admin=platform_admin,
    )


@pytest.fixture(scope="module", autouse=True)
def own_failure_limiter(client: TestClient) -> Iterator[None]:
    """The fuzzer's failed logins are counted apart, so they never throttle other tests."""
    authenticator = client.app.state.platform.authenticator  # type: ignore[attr-defined]
    shared = authenticator.limiter
    authenticator.limiter = FailureLimiter(limit=1_000_000, window=shared.window)
    yield
    authenticator.limiter = shared


def _pin(document: dict[str, Any], name: str, value: str | int) -> None:
    kind = "integer" if isinstance(value, int) else "string"
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] == name:
                    parameter["schema"] = {"type": kind, "enum": [value]}


@pytest.fixture(scope="module")
def api_schemas(client: TestClient, targets: FuzzTargets) -> dict[GenerationMode, Any]:
    """The platform's OpenAPI document with path parameters pinned to the targets.

    Valid requests name the target objects. Invalid ones keep the documented id schemas:
    "any id but the target's" could be another real object, rightly answered with 200.
    """
    schemas = {}
    for mode in GenerationMode:
        document = client.get("/openapi.json").json()
        _pin(document, "tenant", targets.tenant)
        _pin(document, "slug", targets.managed_tenant)
        if mode is GenerationMode.POSITIVE:
            _pin(document, "principal_id", targets.principal_id)
            _pin(document, "key_id", targets.key_id)
            _pin(document, "greeting_id", targets.greeting_id)
            for name, value in targets.warning.items():
                _pin(document, name, int(value) if name == "day_id" else value)
            key_create = document["components"]["schemas"]["ApiKeyCreate"]["properties"]
            key_create["principal_id"] = {"type": "integer", "enum": [targets.principal_id]}
        schemas[mode] = schemathesis.openapi.from_dict(document)
    return schemas


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> httpx2.Response:
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    if "data" in request:
        body["content" if isinstance(request["data"], bytes | str) else "data"] = request["data"]
    return client.request(
        request["method"],
        request["url"],
        params=request.get("params"),
        headers={**request.get("headers", {}), **headers},
        **body,
    )


def _assert_problem(response: httpx2.Response) -> None:
    assert response.headers["content-type"] == PROBLEM_JSON, response.text
    problem = response.json()
    assert problem["status"] == response.status_code, problem
    for member in ("type", "title", "detail"):
        assert isinstance(problem[member], str), problem
    assert problem["type"], problem
    assert problem["title"], problem


def _padded(value: object) -> bool:
    """Whether a string in the value has surrounding whitespace."""
    if isinstance(value, str):
        return value != value.strip()
    if isinstance(value, dict):
        return any(_padded(item) for item in value.values())
    return isinstance(value, list) and any(_padded(item) for item in value)


def _strategy(operation: Any, mode: GenerationMode, **fixed: Any) -> Any:
    # No feedback: its constants come from whatever modules the process imported, so the
    # examples would depend on which other tests ran.
    strategy = operation.as_strategy(generation_mode=mode, feedback=FeedbackSources(), **fixed)
    if mode is GenerationMode.NEGATIVE:
        # Bodies are stripped before their lengths are checked, which JSON Schema cannot say:
        # " " + 200 characters is a valid name of 200.
        strategy = strategy.filter(lambda case: not _padded(case.body))
    return strategy


def _fuzz(
    client: TestClient, operation: Any, mode: GenerationMode, targets: FuzzTargets, caller: str
) -> None:
    headers = targets.headers(operation.path, caller)
    strategy = _strategy(operation, mode).filter(
        # An invalid request may still name the fuzzer's own principal; taking its admin
        # role away halfway would turn the rest of the run into 403s.
        lambda case: (case.path_parameters or {}).get("principal_id") != targets.admin_principal_id
    )

    @FUZZ
    @given(case=strategy)
    def run(case: Any) -> None:
        response = _send(client, case, headers)
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            _assert_problem(response)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("caller", ["authorized", "anonymous"])
def test_api_conforms(
    client: TestClient,
    api_schemas: dict[GenerationMode, Any],
    targets: FuzzTargets,
    caller: str,
    mode: GenerationMode,
) -> None:
    """Generated requests never cause a 5xx, and every answer matches the OpenAPI document."""
    failures = []
    for result in api_schemas[mode].get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not (
            operation.body or any(True for _ in operation.iter_parameters())
        ):
            continue  # nothing in the request can be made invalid
        try:
            _fuzz(client, operation, mode, targets, caller)
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


# --- bad input changes nothing --------------------------------------------------------------


def _state(client: TestClient, targets: FuzzTargets) -> dict[str, Any]:
    """What a write could change: tenants, the target tenant's people and keys, the audit head."""

    def listing(path: str, headers: dict[str, str]) -> Any:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    keys = listing(f"/{targets.tenant}/admin/keys", targets.tenant_admin)
    return {
        "tenants": listing("/admin/tenants", targets.platform_admin),
        "principals": listing(f"/{targets.tenant}/admin/principals", targets.tenant_admin),
        # last_used_at is refreshed by authenticating, which is not a change of the request's.
        "keys": [{k: v for k, v in key.items() if k != "last_used_at"} for key in keys],
        "audit_head": listing("/admin/audit?limit=1", targets.platform_admin),
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/tenants"),
        ("PATCH", "/admin/tenants/{slug}"),
        ("POST", "/{tenant}/admin/principals"),
        ("POST", "/{tenant}/admin/keys"),
    ],
)
def test_invalid_bodies_change_nothing(
    client: TestClient,
    api_schemas: dict[GenerationMode, Any],
    targets: FuzzTargets,
    method: str,
    path: str,
) -> None:
    """Bodies that break the documented schema are refused with a 4xx problem, and no table,
    listing or audit entry changes."""
    operation = api_schemas[GenerationMode.NEGATIVE][path][method]
    fixed = {"tenant": targets.tenant, "slug": targets.managed_tenant}
    parameters = {name: fixed[name] for name in fixed if f"{{{name}}}" in path}
    headers = targets.headers(path, "authorized")
    before = _state(client, targets)

    @FUZZ
    @given(case=_strategy(operation, GenerationMode.NEGATIVE, path_parameters=parameters))
    def run(case: Any) -> None:
        response = _send(client, case, headers)
        assert 400 <= response.status_code < 500, (case.body, response.text)
        _assert_problem(response)
        assert _state(client, targets) == before, case.body

    run()


# --- regressions the fuzzer found -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/{tenant}/admin/principals/" + str(BIGGER_THAN_ANY_ID), None),
        ("PATCH", "/{tenant}/admin/principals/" + str(BIGGER_THAN_ANY_ID), {"disabled": True}),
        ("POST", "/{tenant}/admin/keys", {"principal_id": BIGGER_THAN_ANY_ID}),
        ("GET", f"/{{tenant}}/admin/audit?before_seq={BIGGER_THAN_ANY_ID}", None),
        ("GET", f"/admin/audit?before_seq={BIGGER_THAN_ANY_ID}", None),
        ("GET", "/{tenant}/example/greetings/" + str(BIGGER_THAN_ANY_ID), None),
    ],
)
def test_ids_beyond_64_bits_are_invalid_input_not_500(
    client: TestClient, targets: FuzzTargets, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """SQLite cannot bind integers past 64 bits (OverflowError, a 500); they are refused first."""
    response = client.request(
        method,
        path.replace("{tenant}", targets.tenant),
        json=body,
        headers=targets.headers(path, "authorized"),
    )
    assert response.status_code == 422, response.text
    _assert_problem(response)


def test_regional_key_takes_ascii_digits_only(
    client: TestClient, platform_admin: dict[str, str]
) -> None:
    """Python's \\d also matches Arabic-Indic and other digits; an ARS has 0-9 only."""
    body = {"slug": unique_slug(), "name": "Unicode", "ars": "07" + "\u0661" * 10}
    response = client.post("/admin/tenants", json=body, headers=platform_admin)
    assert response.status_code == 422, response.text
    assert client.get(f"/admin/tenants/{body['slug']}", headers=platform_admin).status_code == 404


def test_document_declares_problem_json_for_every_error(client: TestClient) -> None:
    """Errors are documented as they are sent: problem+json, never FastAPI's own 422 body."""
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
            for status, answer in errors.items():
                assert list(answer["content"]) == [PROBLEM_JSON], (method, path, status)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(errors), (method, path)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/ab%00c/auth/whoami", None),
        ("GET", "/admin/tenants/ab%00c", None),
        ("GET", "/{tenant}/admin/keys/0123456789%00b", None),
        ("POST", "/{tenant}/admin/principals", {"name": "nul\u0000name"}),
        ("POST", "/{tenant}/admin/keys", {"principal_id": 1, "label": "nul\u0000"}),
        ("POST", "/{tenant}/auth/session", {"token": "sk_0123456789\u0000b_secret"}),
        ("PATCH", "/admin/tenants/{tenant}", {"module_settings": {"example": {"\u0000": 1}}}),
    ],
)
def test_nul_characters_are_refused_not_500(
    client: TestClient, targets: FuzzTargets, method: str, path: str, body: dict[str, Any] | None
) -> None:
    """PostgreSQL cannot store NUL (DataError, a 500); the audit log refuses it too (SQLite)."""
    before = _state(client, targets)
    response = client.request(
        method,
        path.replace("{tenant}", targets.tenant),
        json=body,
        headers=targets.headers(path, "authorized"),
    )
    assert response.status_code in (404, 422), response.text
    _assert_problem(response)
    assert _state(client, targets) == before


def test_bearer_token_with_nul_is_401(client: TestClient, targets: FuzzTargets) -> None:
    """A token whose key id cannot exist is refused before the database sees it."""
    headers = {"Authorization": "Bearer sk_0123456789\u0000b_secret"}
    response = client.get(f"/{targets.tenant}/auth/whoami", headers=headers)
    assert response.status_code == 401, response.text
    _assert_problem(response)


@pytest.mark.parametrize("kind", [[], {}, ["Polygon"]])
def test_geometry_type_of_any_json_type_is_invalid_input(
    client: TestClient, platform_admin: dict[str, str], kind: object
) -> None:
    """A list as GeoJSON "type" raised TypeError (unhashable) in the set lookup: a 500."""
    body = {"slug": unique_slug(), "name": "Geo", "ars": "073120000000"}
    body["boundary"] = {"type": kind, "coordinates": []}
    response = client.post("/admin/tenants", json=body, headers=platform_admin)
    assert response.status_code == 422, response.text
    _assert_problem(response)


def test_csrf_header_with_non_ascii_characters_is_403(
    client: TestClient, targets: FuzzTargets
) -> None:
    """hmac.compare_digest raised TypeError for non-ASCII str; header bytes are latin-1."""
    login = client.post(
        f"/{targets.tenant}/auth/session",
        json={"token": targets.tenant_admin["Authorization"].removeprefix("Bearer ")},
    )
    assert login.status_code == 201, login.text
    try:
        response = client.delete(
            f"/{targets.tenant}/auth/session",
            headers={"X-CSRF-Token": "\u00e9t\u00e9".encode("latin-1")},
        )
        assert response.status_code == 403, response.text
        _assert_problem(response)
    finally:
        client.cookies.clear()


@pytest.mark.parametrize("disabled", [0.0, 1, "no", "true"])
def test_booleans_and_ids_are_taken_as_documented_json_types(
    client: TestClient, targets: FuzzTargets, disabled: object
) -> None:
    """Pydantic's lax mode read {"disabled": 0.0} as false and re-enabled a principal."""
    path = f"/{targets.tenant}/admin/principals"
    created = client.post(path, json={"name": unique_slug("p")}, headers=targets.tenant_admin)
    principal = created.json()
    response = client.patch(
        f"{path}/{principal['id']}", json={"disabled": disabled}, headers=targets.tenant_admin
    )
    assert response.status_code == 422, response.text
    key = client.post(
        f"/{targets.tenant}/admin/keys",
        json={"principal_id": str(principal["id"])},
        headers=targets.tenant_admin,
    )
    assert key.status_code == 422, key.text
