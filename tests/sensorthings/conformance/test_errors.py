"""Error behaviour across the conformance classes (OGC 18-088 §9.2.2, §9.3.1, §10).

Whatever a client sends, the service answers a 4xx problem (`application/problem+json` with
status, title and detail), never a 500, and stores nothing of a refused request.
Requirements: /req/request-data/status-code, /req/request-data/query-status-code,
/req/create-update-delete/create-entity, update-entity, delete-entity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sensorthings.conformance.conftest import (
    CELSIUS,
    OM_MEASUREMENT,
    Json,
    Sta,
    assert_client_error,
    assert_problem,
    datastream_body,
    location_body,
    make_graph,
    sensor_body,
    thing_body,
)
from tests.sensorthings.conformance.test_create_update_delete import counts


def _location(geometry: Any) -> Json:
    return location_body("kaputt", geometry)


BAD_BODIES: list[tuple[str, str, Any]] = [
    ("Things", "name missing", {"description": "ohne Namen"}),
    ("Things", "name a number", thing_body(name=5)),  # type: ignore[arg-type]
    ("Things", "name null", {"name": None, "description": "x"}),
    ("Things", "properties a string", thing_body(properties="groß")),
    ("Things", "properties a list", thing_body(properties=[1, 2])),
    ("Things", "unknown property", thing_body(colour="rot")),
    ("Things", "NUL in a string", thing_body("Later\u0000ne")),
    ("Things", "not an object", [thing_body()]),
    ("Things", "a bare string", "Laterne"),
    ("Things", "Locations not a list", thing_body(Locations={"@iot.id": 1})),
    ("Locations", "location missing", {"name": "x", "description": "x", "encodingType": "x"}),
    ("Locations", "coordinates not numbers", _location({"type": "Point", "coordinates": ["a"]})),
    ("Locations", "unknown geometry type", _location({"type": "Circle", "radius": 5})),
    ("Locations", "latitude beyond 90", _location({"type": "Point", "coordinates": [7.7, 95.0]})),
    (
        "Locations",
        "ring not closed",
        _location({"type": "Polygon", "coordinates": [[[7.7, 49.4], [7.8, 49.4], [7.8, 49.5]]]}),
    ),
    ("Locations", "geometry not an object", _location("POINT(7.7 49.4)")),
    ("Sensors", "encodingType missing", {"name": "x", "description": "x", "metadata": "x"}),
    ("ObservedProperties", "definition missing", {"name": "x", "description": "x"}),
    (
        "FeaturesOfInterest",
        "feature missing",
        {"name": "x", "description": "x", "encodingType": "application/geo+json"},
    ),
]


@pytest.mark.parametrize(
    ("entity_set", "label", "body"),
    BAD_BODIES,
    ids=[f"{entity_set}: {label}" for entity_set, label, _ in BAD_BODIES],
)
def test_invalid_entity_is_400_and_not_stored(
    sta: Sta, entity_set: str, label: str, body: Any
) -> None:
    """/req/create-update-delete/create-entity: missing mandatory properties, wrong types,
    unknown properties and invalid geometries are refused with 400."""
    assert_client_error(sta.post(entity_set, body), 400)
    assert sta.count(entity_set) == 0, label


def test_invalid_json_is_400(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: a body that is not JSON is a bad request."""
    for content in ('{"name": "Laterne", ', "", "name=Laterne", "{'name': 'x'}"):
        response = sta.post("Things", content=content, headers={"Content-Type": "application/json"})
        assert_client_error(response, 400)
    assert sta.count("Things") == 0


def test_unsupported_media_type(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: entities are JSON; other media types are
    refused (415, or 400)."""
    response = sta.post(
        "Things",
        content='{"name": "Laterne", "description": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    assert_client_error(response, 400, 415)
    assert sta.count("Things") == 0


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("Thing unknown", {"Thing": {"@iot.id": 987654321}}),
        ("Sensor id a string", {"Sensor": {"@iot.id": "eins"}}),
        ("ObservedProperty missing", {"ObservedProperty": None}),
        ("unitOfMeasurement a string", {"unitOfMeasurement": "°C"}),
        ("observationType missing", {"observationType": None}),
    ],
)
def test_invalid_datastream_is_refused(sta: Sta, label: str, change: Json) -> None:
    """/req/create-update-delete/link-to-existing-entities, create-entity: links to ids that
    do not exist, and invalid values, are refused; nothing is stored."""
    graph = make_graph(sta)
    body = datastream_body(graph.thing, graph.sensor, graph.observed_property)
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    before = counts(sta)
    assert_client_error(sta.post("Datastreams", body), 400, 404)
    assert counts(sta) == before, label


def test_link_to_an_entity_of_another_tenant_is_refused(
    sta: Sta, make_sta: Callable[[], Sta]
) -> None:
    """Tenant isolation: an @iot.id of another tenant's entity is an unknown id here."""
    foreign = make_graph(make_sta())
    mine = make_graph(sta)
    body = datastream_body(foreign.thing, mine.sensor, mine.observed_property)
    assert_client_error(sta.post("Datastreams", body), 400, 404)
    assert_client_error(
        sta.post(f"Things({mine.thing})/Locations/$ref", {"@iot.id": foreign.location}), 400, 404
    )
    assert_client_error(
        sta.post(
            "Observations",
            {
                "phenomenonTime": "2024-05-01T12:00:00Z",
                "result": 1,
                "Datastream": {"@iot.id": foreign.datastream},
            },
        ),
        400,
        404,
    )
    assert sta.count("Datastreams") == 1
    assert sta.ids(f"Things({mine.thing})/Locations") == [mine.location]
    assert sta.count("Observations") == 0


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("phenomenonTime not a time", {"phenomenonTime": "gestern", "result": 1}),
        ("phenomenonTime without zone", {"phenomenonTime": "2024-05-01T12:00:00", "result": 1}),
        (
            "interval ending before it starts",
            {"phenomenonTime": "2024-05-02T00:00:00Z/2024-05-01T00:00:00Z", "result": 1},
        ),
        (
            "resultTime an interval",
            {
                "phenomenonTime": "2024-05-01T12:00:00Z",
                "resultTime": "2024-05-01T12:00:00Z/2024-05-01T13:00:00Z",
                "result": 1,
            },
        ),
        ("result missing", {"phenomenonTime": "2024-05-01T12:00:00Z"}),
        (
            "parameters a list",
            {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 1, "parameters": [1]},
        ),
        (
            "validTime not a time",
            {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 1, "validTime": "immer"},
        ),
    ],
)
def test_invalid_observation_is_400(sta: Sta, label: str, body: Json) -> None:
    """/req/datamodel/observation/properties: phenomenonTime is a time with a zone or an
    interval, resultTime an instant, result mandatory, parameters an object."""
    graph = make_graph(sta)
    assert_client_error(sta.post(f"Datastreams({graph.datastream})/Observations", body), 400)
    assert sta.count("Observations") == 0, label


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("name a number", {"name": 5}),
        ("name null", {"name": None}),
        ("unknown property", {"colour": "rot"}),
        ("Locations to an unknown id", {"Locations": [{"@iot.id": 987654321}]}),
        ("not an object", ["name"]),
    ],
)
def test_invalid_patch_is_400_and_changes_nothing(sta: Sta, label: str, body: Any) -> None:
    """/req/create-update-delete/update-entity: a PATCH with invalid content is refused and
    the entity keeps all its values."""
    graph = make_graph(sta)
    assert_client_error(sta.patch(f"Things({graph.thing})", body), 400, 404)
    thing = sta.read(f"Things({graph.thing})")
    assert thing["name"] == "Laterne 1", label
    assert sta.ids(f"Things({graph.thing})/Locations") == [graph.location]
    assert sta.count("HistoricalLocations") == 1


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "frobnicate", "path": "/name", "value": "x"}],
        [{"op": "replace", "path": "/name"}],
        [{"op": "remove", "path": "/properties/nothing"}],
        [{"op": "replace", "path": "/name", "value": 5}],
        {"op": "replace", "path": "/name", "value": "x"},
    ],
)
def test_invalid_json_patch_is_refused(sta: Sta, operations: Any) -> None:
    """/req/create-update-delete/update-entity-jsonpatch: an invalid patch document or an
    operation that cannot apply is refused; the entity is unchanged."""
    thing = sta.create_id("Things", thing_body(properties={"owner": "Stadt"}))
    response = sta.patch(f"Things({thing})", operations, content_type="application/json-patch+json")
    assert_client_error(response, 400, 409, 422)
    stored = sta.read(f"Things({thing})")
    assert stored["name"] == "Laterne 1"
    assert stored["properties"] == {"owner": "Stadt"}


@pytest.mark.parametrize(
    "path",
    [
        "Thongs",
        "Things(1)/Sensors",
        "Things(abc)",
        "Things(1.5)",
        "Things(99999999999999999999999)",
        "Things(-1)",
        "Things()",
        "Things(1",
        "Things(1)/name/$value/x",
        "Things(1)/colour",
        "Things/$value",
    ],
)
def test_malformed_or_unknown_resource_paths(sta: Sta, path: str) -> None:
    """/req/request-data/status-code: a path that names nothing is 404 (or 400 when it cannot
    be parsed), never a 500."""
    sta.create_id("Things", thing_body())
    assert_client_error(sta.get(path), 400, 404)


def test_method_not_allowed_on_collections(sta: Sta) -> None:
    """A collection cannot be replaced or patched as a whole."""
    assert_client_error(sta.put("Things", thing_body()), 400, 405)
    assert_client_error(sta.patch("Things", {"name": "x"}), 400, 405)
    assert sta.count("Things") == 0


def test_post_to_an_entity_or_unknown_parent_is_refused(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: POST creates in collections only, and the
    parent of a navigation path must exist."""
    graph = make_graph(sta)
    assert_client_error(sta.post(f"Things({graph.thing})", thing_body()), 400, 405)
    response = sta.post(
        "Things(987654321)/Datastreams",
        {
            "name": "x",
            "description": "x",
            "unitOfMeasurement": CELSIUS,
            "observationType": OM_MEASUREMENT,
            "Sensor": {"@iot.id": graph.sensor},
            "ObservedProperty": {"@iot.id": graph.observed_property},
        },
    )
    assert_client_error(response, 400, 404)
    assert sta.count("Datastreams") == 1
    assert sta.count("Things") == 1


def test_body_over_the_limit_is_413(sta: Sta) -> None:
    """A request body over the platform's limit (1 MiB) is refused with 413 and a problem."""
    huge = thing_body(properties={"blob": "x" * (1_100_000)})
    response = sta.post("Things", huge)
    assert_problem(response, 413)
    assert sta.count("Things") == 0


def test_sensor_metadata_of_any_json_type(sta: Sta) -> None:
    """/req/datamodel/sensor/properties: metadata is mandatory but of any JSON type; null is
    the absence of it and is refused."""
    assert_client_error(sta.post("Sensors", sensor_body(metadata=None)), 400)
    assert sta.count("Sensors") == 0


@pytest.mark.parametrize(
    "expression",
    [
        "id eq 99999999999999999999999",
        "properties/rank eq 1e999",
        "length(name) div 0 eq 1",
        "substring(name, 99999999999) eq 'x'",
        "properties/a/b/c/d/e/f/g/h/i/j eq 1",
        "not not not not (name eq 'x')",
        "geo.distance(Locations/location, geography'POINT(7.7 49.4)') gt 'weit'",
    ],
)
def test_hostile_filters_never_fail_the_server(sta: Sta, expression: str) -> None:
    """/req/request-data/query-status-code: odd but parseable filters answer 200 (matching
    nothing) or a 400 problem; never a 500."""
    sta.create_id("Things", thing_body(properties={"rank": 1}))
    response = sta.get("Things", {"$filter": expression})
    if response.status_code == 200:
        assert response.json()["value"] == [], expression
    else:
        assert_client_error(response, 400)


def test_deeply_nested_expand_is_refused_or_served(sta: Sta) -> None:
    """/req/request-data/expand: a very long $expand chain is served or refused with 400."""
    make_graph(sta)
    chain = "/".join(["Datastreams", "Thing"] * 20)
    response = sta.get("Things", {"$expand": chain})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert_problem(response, 400)


def test_errors_are_problems_for_anonymous_clients_too(sta: Sta) -> None:
    """Authentication failures are problems as well (401 with a WWW-Authenticate hint)."""
    response = sta.as_role().get("Things")
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


def test_patch_of_an_entity_in_another_tenant_does_not_leak(
    sta: Sta, make_sta: Callable[[], Sta]
) -> None:
    """Tenant isolation: PATCH and PUT of a foreign id are 404 and change nothing."""
    other = make_sta()
    foreign = other.create_id("Things", thing_body("fremd"))
    assert_problem(sta.patch(f"Things({foreign})", {"name": "meins"}), 404)
    assert_problem(sta.put(f"Things({foreign})", thing_body("meins")), 404)
    assert_problem(
        sta.patch(
            f"Things({foreign})",
            [{"op": "replace", "path": "/name", "value": "meins"}],
            content_type="application/json-patch+json",
        ),
        404,
    )
    assert other.read(f"Things({foreign})")["name"] == "fremd"
