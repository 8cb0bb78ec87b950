"""Property-based fuzzing of a tenant's SensorThings service from its own OpenAPI document.

The document served at `/{tenant}/v1.1/openapi.json` is loaded into schemathesis; every
operation (entity sets, entities, navigation paths, `$batch`, `CreateObservations`) gets
generated ids, query options and bodies, valid and invalid, sent as the tenant's admin on
both backends. No answer may be a 5xx, and every 4xx is problem+json with title, status and
detail. Invalid bodies POSTed to the entity sets are refused and change no entity count.

The `{id}` of valid requests is pinned to a real entity of the entity set the path names, so
that they reach the service layer instead of stopping at 404; DELETE aims at a second,
disposable set of entities, so that the others stay in place for the rest of the run.
Invalid requests keep the documented id schema. Requests go through the session's
TestClient (see tests/test_api_fuzz.py for why); runs are derandomized, and
STADTKERN_FUZZ_EXAMPLES raises the number of examples.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import UnsupportedSchema
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.generation.feedback import FeedbackSources

from stadtkern.db import Database
from stadtkern.http.problems import PROBLEM_JSON
from stadtkern.sensorthings.catalogue import BY_SET, ENTITY_TYPES
from tests.conftest import issue_token, unique_slug

MAX_EXAMPLES = int(os.environ.get("STADTKERN_FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error]
FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
OM_COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
POINT = {"type": "Point", "coordinates": [7.7689, 49.4447]}
UNIT = {"name": "degree Celsius", "symbol": "°C", "definition": "https://unitsofmeasure.org"}
_ENTITY_PATH = re.compile(r"^/(\w+)\(\{id\}\)")
Ids = dict[str, int]


def _named(name: str) -> dict[str, str]:
    return {"name": name, "description": f"{name} (fuzz target)"}


def _make_entities(post: Callable[[str, dict[str, Any]], int], get: Callable[[str], Any]) -> Ids:
    """One entity of every type, linked as the standard wants; their ids by entity name."""
    thing = post(
        "Things",
        {
            **_named("Laterne"),
            "properties": {"district": "Innenstadt"},
            "Locations": [
                {**_named("Stiftsplatz"), "encodingType": "application/geo+json", "location": POINT}
            ],
        },
    )
    sensor_body = {**_named("Sensor"), "encodingType": "text/html", "metadata": "https://x.org"}
    sensor = post("Sensors", sensor_body)
    properties = [
        post("ObservedProperties", {**_named(name), "definition": f"https://x.org/{name}"})
        for name in ("Temperatur", "Feuchte")
    ]
    stream = {"observationType": "OM_Measurement", "Thing": {"@iot.id": thing}}
    datastream = post(
        "Datastreams",
        {
            **_named("Temperatur"),
            **stream,
            "unitOfMeasurement": UNIT,
            "Sensor": {"@iot.id": sensor},
            "ObservedProperty": {"@iot.id": properties[0]},
        },
    )
    multi = post(
        "MultiDatastreams",
        {
            **_named("Klima"),
            **stream,
            "observationType": OM_COMPLEX,
            "unitOfMeasurements": [UNIT, UNIT],
            "multiObservationDataTypes": ["OM_Measurement", "OM_Measurement"],
            "Sensor": {"@iot.id": sensor},
            "ObservedProperties": [{"@iot.id": p} for p in properties],
        },
    )
    feature = post(
        "FeaturesOfInterest",
        {**_named("Stiftsplatz"), "encodingType": "application/geo+json", "feature": POINT},
    )
    observation = post(
        "Observations",
        {
            "result": 21.5,
            "phenomenonTime": "2026-11-26T06:00:00Z",
            "Datastream": {"@iot.id": datastream},
            "FeatureOfInterest": {"@iot.id": feature},
        },
    )
    post("Observations", {"result": [20.5, 61], "MultiDatastream": {"@iot.id": multi}})
    actuator_body = {**_named("Sirene"), "encodingType": "text/html", "metadata": "https://x.org"}
    actuator = post("Actuators", actuator_body)
    capability = post(
        "TaskingCapabilities",
        {
            **_named("Signal"),
            "taskingParameters": {"type": "DataRecord", "field": []},
            "Thing": {"@iot.id": thing},
            "Actuator": {"@iot.id": actuator},
        },
    )
    task = post(
        "Tasks",
        {"taskingParameters": {"signal": "test"}, "TaskingCapability": {"@iot.id": capability}},
    )

    def first(path: str) -> int:
        value: int = get(path)["value"][0]["@iot.id"]
        return value

    return {
        "Thing": thing,
        "Location": first(f"Things({thing})/Locations"),
        "HistoricalLocation": first(f"Things({thing})/HistoricalLocations"),
        "Sensor": sensor,
        "ObservedProperty": properties[0],
        "Datastream": datastream,
        "MultiDatastream": multi,
        "Observation": observation,
        "FeatureOfInterest": feature,
        "TaskingCapability": capability,
        "Actuator": actuator,
        "Task": task,
    }


@dataclass(frozen=True)
class StaTargets:
    """The tenant's service root, its admin, and the entities the requests aim at."""

    root: str
    headers: dict[str, str]
    ids: Ids  # kept for the whole run
    disposable: Ids  # what DELETE may take


@pytest.fixture(scope="module")
def targets(client: TestClient, database: Database, platform_admin: dict[str, str]) -> StaTargets:
    """A tenant with the sensorthings module and two sets of entities, once per backend."""
    slug = unique_slug("stafuzz")
    body = {
        "slug": slug,
        "name": f"Fuzz {slug}",
        "ars": "073120000000",
        "modules": ["sensorthings"],
    }
    response = client.post("/admin/tenants", json=body, headers=platform_admin)
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {issue_token(database, tenant=slug, roles=['admin'])}"}
    root = f"/{slug}/v1.1"

    def post(path: str, body: dict[str, Any]) -> int:
        answer = client.post(f"{root}/{path}", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        created: int = answer.json()["@iot.id"]
        return created

    def get(path: str) -> Any:
        answer = client.get(f"{root}/{path}", headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return StaTargets(root, headers, _make_entities(post, get), _make_entities(post, get))


def _pinned(document: dict[str, Any], targets: StaTargets) -> dict[str, Any]:
    """The document with each `{id}`, and each link by id in a body, fixed to a real entity."""
    for path, item in document["paths"].items():
        match = _ENTITY_PATH.match(path)
        if match is None:
            continue
        entity = BY_SET[match.group(1)].name
        for parameter in item.get("parameters", []):
            if parameter["name"] == "id":
                parameter["schema"] = {"type": "integer", "enum": [targets.ids[entity]]}
        if "delete" in item:
            schema = {"type": "integer", "enum": [targets.disposable[entity]]}
            item["delete"]["parameters"] = [
                {"name": "id", "in": "path", "required": True, "schema": schema}
            ]
    for entity, id_ in targets.ids.items():
        link = document["components"]["schemas"][f"{entity}Link"]
        link["properties"]["@iot.id"] = {"type": "integer", "enum": [id_]}
    return document


@pytest.fixture(scope="module")
def sta_schemas(client: TestClient, targets: StaTargets) -> dict[GenerationMode, Any]:
    """The served document per generation mode; valid requests name the target entities."""
    schemas = {}
    for mode in GenerationMode:
        response = client.get(f"{targets.root}/openapi.json")
        assert response.status_code == 200, response.text
        document = response.json()
        if mode is GenerationMode.POSITIVE:
            document = _pinned(document, targets)
        schemas[mode] = schemathesis.openapi.from_dict(document)
    return schemas


def _send(client: TestClient, case: Any, targets: StaTargets) -> httpx2.Response:
    request = case.as_transport_kwargs(base_url=f"{client.base_url}{targets.root}")
    body: dict[str, Any] = {}
    if "json" in request:
        body["json"] = request["json"]
    if "data" in request:
        body["content" if isinstance(request["data"], bytes | str) else "data"] = request["data"]
    return client.request(
        request["method"],
        request["url"],
        params=request.get("params"),
        headers={**request.get("headers", {}), **targets.headers},
        **body,
    )


def _assert_problem(response: httpx2.Response) -> None:
    assert response.headers["content-type"] == PROBLEM_JSON, response.text
    problem = response.json()
    assert problem["status"] == response.status_code, problem
    for member in ("title", "detail"):
        assert isinstance(problem[member], str), problem
        assert problem[member], problem


def _strategy(operation: Any, mode: GenerationMode, **fixed: Any) -> Any:
    # No feedback: its constants would depend on which modules the process imported.
    return operation.as_strategy(generation_mode=mode, feedback=FeedbackSources(), **fixed)


def _fuzz(client: TestClient, operation: Any, mode: GenerationMode, targets: StaTargets) -> None:
    @FUZZ
    @given(case=_strategy(operation, mode))
    def run(case: Any) -> None:
        response = _send(client, case, targets)
        case.validate_response(response, checks=CHECKS)
        if 400 <= response.status_code < 500:
            _assert_problem(response)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_sta_service_never_fails_with_5xx(
    client: TestClient,
    sta_schemas: dict[GenerationMode, Any],
    targets: StaTargets,
    mode: GenerationMode,
) -> None:
    """Generated requests to every operation never cause a 5xx; client errors are problems."""
    failures = []
    unsupported: list[str] = []
    operations = [result.ok() for result in sta_schemas[mode].get_all_operations()]
    # Deleting last, so that other operations still find their entities.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not (
            operation.body or any(p.location == "query" for p in operation.iter_parameters())
        ):
            continue  # only the id could be invalid: test_odd_ids_are_client_errors
        try:
            _fuzz(client, operation, mode, targets)
        except UnsupportedSchema:
            # The generator's limit, not the service's: some draws of invalid bodies meet a
            # `not` below the root it cannot negate (seen for POST HistoricalLocations).
            unsupported.append(operation.label)
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(unsupported) <= 2, unsupported  # the rest of the operations were fuzzed
    kept = client.get(f"{targets.root}/Things({targets.ids['Thing']})", headers=targets.headers)
    assert kept.status_code == 200, "DELETE reached an entity it was not aimed at"


@pytest.mark.parametrize(
    "key", [str(2**63), str(-(2**63) - 1), "-1", "0", "1.5", "'1'", "x", "", "1)(2", "%00"]
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
def test_odd_ids_are_client_errors(
    client: TestClient, targets: StaTargets, method: str, key: str
) -> None:
    """Ids that name no entity (beyond 64 bits, not integers) are a 400 or 404 problem."""
    body = None if method in ("GET", "DELETE") else {"name": "Laterne"}
    response = client.request(
        method, f"{targets.root}/Things({key})", json=body, headers=targets.headers
    )
    assert response.status_code in (400, 404), response.text
    _assert_problem(response)


# --- bad input changes nothing --------------------------------------------------------------


def _counts(client: TestClient, targets: StaTargets) -> dict[str, int]:
    """How many entities of each type the tenant holds (one $batch of counting GETs)."""
    requests = [
        {"id": entity.set_name, "method": "get", "url": f"{entity.set_name}?$count=true&$top=0"}
        for entity in ENTITY_TYPES.values()
    ]
    response = client.post(
        f"{targets.root}/$batch", json={"requests": requests}, headers=targets.headers
    )
    assert response.status_code == 200, response.text
    counts = {}
    for answer in response.json()["responses"]:
        assert answer["status"] == 200, answer
        counts[answer["id"]] = answer["body"]["@iot.count"]
    assert len(counts) == len(ENTITY_TYPES), counts
    return counts


@pytest.mark.parametrize("entity_set", [entity.set_name for entity in ENTITY_TYPES.values()])
def test_invalid_bodies_change_nothing(
    client: TestClient,
    sta_schemas: dict[GenerationMode, Any],
    targets: StaTargets,
    entity_set: str,
) -> None:
    """Bodies that break the documented schema are refused with a 4xx problem, and no entity
    of any type is created (deep inserts run in one transaction)."""
    operation = sta_schemas[GenerationMode.NEGATIVE][f"/{entity_set}"]["POST"]
    before = _counts(client, targets)

    @FUZZ
    @given(case=_strategy(operation, GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        response = _send(client, case, targets)
        assert 400 <= response.status_code < 500, (case.body, response.text)
        _assert_problem(response)
        assert _counts(client, targets) == before, case.body

    run()
