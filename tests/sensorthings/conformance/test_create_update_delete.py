"""Conformance class Create-Update-Delete (OGC 18-088 §10).

Requirement class http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.sensorthings.conformance.conftest import (
    CELSIUS,
    GEOJSON,
    HAUPTBAHNHOF,
    OM_MEASUREMENT,
    STADION,
    STIFTSKIRCHE,
    Graph,
    Json,
    Sta,
    add_observations,
    assert_client_error,
    datastream_body,
    feature_body,
    instant,
    location_body,
    make_graph,
    observed_property_body,
    point,
    same_json,
    same_time,
    sensor_body,
    thing_body,
)

SETS = (
    "Things",
    "Locations",
    "HistoricalLocations",
    "Sensors",
    "ObservedProperties",
    "Datastreams",
    "Observations",
    "FeaturesOfInterest",
)


def counts(sta: Sta) -> dict[str, int]:
    """How many entities each entity set holds."""
    return {entity_set: sta.count(entity_set) for entity_set in SETS}


def deep_thing(*, observation_time: Any = "2024-05-01T12:00:00Z") -> Json:
    """A Thing with a new Location and a Datastream with a new Sensor, ObservedProperty and
    two Observations, the second with its own new FeatureOfInterest."""
    return thing_body(
        "Laterne Rathaus",
        properties={"owner": "Stadtwerke"},
        Locations=[location_body("Rathaus", point(STIFTSKIRCHE))],
        Datastreams=[
            {
                "name": "Lufttemperatur Rathaus",
                "description": "Temperatur am Rathaus",
                "unitOfMeasurement": CELSIUS,
                "observationType": OM_MEASUREMENT,
                "Sensor": sensor_body(),
                "ObservedProperty": observed_property_body(),
                "Observations": [
                    {"phenomenonTime": observation_time, "result": 20.5},
                    {
                        "phenomenonTime": "2024-05-01T13:00:00Z",
                        "result": 21.0,
                        "FeatureOfInterest": feature_body("Rathausplatz"),
                    },
                ],
            }
        ],
    )


# --- create -------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_entity(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: 201 Created, the Location header is the new
    entity's selfLink and the body the entity."""
    response = sta.post("Things", thing_body("Laterne 1", properties={"nummer": 1}))
    assert response.status_code == 201, response.text
    created = response.json()
    entity_id = created["@iot.id"]
    assert response.headers["location"] == sta.link("Things", entity_id)
    assert created["@iot.selfLink"] == sta.link("Things", entity_id)
    assert created["name"] == "Laterne 1"
    assert created["properties"] == {"nummer": 1}
    read = sta.read(response.headers["location"])
    assert read["name"] == "Laterne 1"
    assert read["description"] == "Laterne 1 in der Altstadt"


def test_create_every_entity_type(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: each entity set accepts a POST of its
    mandatory properties and answers the stored values."""
    graph = make_graph(sta)
    foi = sta.create("FeaturesOfInterest", feature_body())
    assert foi["feature"] == point(STIFTSKIRCHE)
    assert foi["encodingType"] == GEOJSON
    observation = sta.create(
        "Observations",
        {
            "phenomenonTime": "2024-05-01T12:00:00Z",
            "result": 7,
            "Datastream": {"@iot.id": graph.datastream},
            "FeatureOfInterest": {"@iot.id": foi["@iot.id"]},
        },
    )
    assert observation["result"] == 7
    assert sta.read(f"Sensors({graph.sensor})")["metadata"] == (
        "https://datasheets.maximintegrated.com/en/ds/DS18B20.pdf"
    )
    assert sta.read(f"ObservedProperties({graph.observed_property})")["definition"] == (
        "http://dbpedia.org/page/Temperature"
    )
    assert counts(sta) == {
        "Things": 1,
        "Locations": 1,
        "HistoricalLocations": 1,
        "Sensors": 1,
        "ObservedProperties": 1,
        "Datastreams": 1,
        "Observations": 1,
        "FeaturesOfInterest": 1,
    }


def test_create_through_a_navigation_path_links_the_parent(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: POST Things(1)/Datastreams and
    Datastreams(1)/Observations link the new entity to the entity of the path."""
    graph = make_graph(sta)
    response = sta.post(
        f"Things({graph.thing})/Datastreams",
        {
            "name": "Luftfeuchte",
            "description": "Relative Luftfeuchte",
            "unitOfMeasurement": {"name": "Prozent", "symbol": "%", "definition": "ucum:%"},
            "observationType": OM_MEASUREMENT,
            "Sensor": {"@iot.id": graph.sensor},
            "ObservedProperty": {"@iot.id": graph.observed_property},
        },
    )
    assert response.status_code == 201, response.text
    datastream = response.json()["@iot.id"]
    assert response.headers["location"] == sta.link("Datastreams", datastream)
    assert sta.read(f"Datastreams({datastream})/Thing")["@iot.id"] == graph.thing
    observation = sta.create_id(
        f"Datastreams({datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 55},
    )
    assert sta.read(f"Observations({observation})/Datastream")["@iot.id"] == datastream


def test_link_to_existing_entities_creates_no_copies(sta: Sta) -> None:
    """/req/create-update-delete/link-to-existing-entities: {"@iot.id": n} links the entity
    that exists instead of creating another."""
    location = sta.create_id("Locations", location_body())
    thing = sta.create_id("Things", thing_body(Locations=[{"@iot.id": location}]))
    sensor = sta.create_id("Sensors", sensor_body())
    observed_property = sta.create_id("ObservedProperties", observed_property_body())
    datastream = sta.create_id("Datastreams", datastream_body(thing, sensor, observed_property))
    assert sta.ids(f"Things({thing})/Locations") == [location]
    assert sta.read(f"Datastreams({datastream})/Sensor")["@iot.id"] == sensor
    assert counts(sta) == {
        "Things": 1,
        "Locations": 1,
        "HistoricalLocations": 1,
        "Sensors": 1,
        "ObservedProperties": 1,
        "Datastreams": 1,
        "Observations": 0,
        "FeaturesOfInterest": 0,
    }


def test_deep_insert_creates_and_links_the_whole_graph(sta: Sta) -> None:
    """/req/create-update-delete/deep-insert: a Thing with its Location, Datastream, Sensor,
    ObservedProperty, Observations and a FeatureOfInterest, in one request."""
    response = sta.post("Things", deep_thing())
    assert response.status_code == 201, response.text
    thing = response.json()["@iot.id"]
    assert response.headers["location"] == sta.link("Things", thing)
    (location,) = sta.values(f"Things({thing})/Locations")
    assert location["name"] == "Rathaus"
    (datastream,) = sta.values(f"Things({thing})/Datastreams")
    assert sta.read(f"Datastreams({datastream['@iot.id']})/Sensor")["name"] == "DS18B20"
    assert sta.read(f"Datastreams({datastream['@iot.id']})/ObservedProperty")["name"] == (
        "Lufttemperatur"
    )
    observations = sta.values(
        f"Datastreams({datastream['@iot.id']})/Observations", {"$orderby": "phenomenonTime"}
    )
    assert [o["result"] for o in observations] == [20.5, 21.0]
    second_feature = sta.read(f"Observations({observations[1]['@iot.id']})/FeatureOfInterest")
    assert second_feature["name"] == "Rathausplatz"
    assert counts(sta) == {
        "Things": 1,
        "Locations": 1,
        "HistoricalLocations": 1,
        "Sensors": 1,
        "ObservedProperties": 1,
        "Datastreams": 1,
        "Observations": 2,
        # the second Observation's own feature, and the one generated for the first
        "FeaturesOfInterest": 2,
    }


def test_deep_insert_of_an_observation_with_its_feature(sta: Sta) -> None:
    """/req/create-update-delete/deep-insert: an Observation linking its Datastream and
    carrying a new FeatureOfInterest (18-088 §10.2 example)."""
    graph = make_graph(sta)
    created = sta.create(
        "Observations",
        {
            "phenomenonTime": "2024-05-01T12:00:00Z",
            "result": 3,
            "Datastream": {"@iot.id": graph.datastream},
            "FeatureOfInterest": feature_body("Messfeld", point(HAUPTBAHNHOF)),
        },
    )
    feature = sta.read(f"Observations({created['@iot.id']})/FeatureOfInterest")
    assert feature["feature"] == point(HAUPTBAHNHOF)
    assert feature["name"] == "Messfeld"


@pytest.mark.parametrize(
    ("label", "broken"),
    [
        ("observation time not a time", deep_thing(observation_time="gestern")),
        (
            "datastream without unitOfMeasurement",
            {
                **deep_thing(),
                "Datastreams": [
                    {
                        k: v
                        for k, v in deep_thing()["Datastreams"][0].items()
                        if k != "unitOfMeasurement"
                    }
                ],
            },
        ),
        (
            "sensor without encodingType",
            {
                **deep_thing(),
                "Datastreams": [
                    {
                        **deep_thing()["Datastreams"][0],
                        "Sensor": {k: v for k, v in sensor_body().items() if k != "encodingType"},
                    }
                ],
            },
        ),
        (
            "location with invalid geometry",
            {
                **deep_thing(),
                "Locations": [
                    location_body("Nirgendwo", {"type": "Point", "coordinates": "Stiftsplatz"})
                ],
            },
        ),
        (
            "link to an id that does not exist",
            {
                **deep_thing(),
                "Datastreams": [
                    {**deep_thing()["Datastreams"][0], "ObservedProperty": {"@iot.id": 987654321}}
                ],
            },
        ),
    ],
)
def test_deep_insert_is_atomic(sta: Sta, label: str, broken: Json) -> None:
    """/req/create-update-delete/deep-insert-status-code: if one nested entity is invalid the
    request fails with 400 and no entity at all is created."""
    before = counts(sta)
    response = sta.post("Things", broken)
    assert_client_error(response, 400, 404)
    assert counts(sta) == before, label


def test_feature_of_interest_generated_from_the_things_location(sta: Sta) -> None:
    """/req/create-update-delete/create-entity (Observation): without a FeatureOfInterest the
    service creates one from the Location of the Datastream's Thing, and reuses it."""
    graph = make_graph(sta, at=STADION)
    first, second = add_observations(
        sta, graph.datastream, [("2024-05-01T12:00:00Z", 1), ("2024-05-01T13:00:00Z", 2)]
    )
    feature = sta.read(f"Observations({first})/FeatureOfInterest")
    assert feature["feature"] == point(STADION)
    assert feature["encodingType"] == GEOJSON
    assert sta.read(f"Observations({second})/FeatureOfInterest")["@iot.id"] == feature["@iot.id"]
    assert sta.count("FeaturesOfInterest") == 1


def test_observation_without_feature_and_without_location_is_refused(sta: Sta) -> None:
    """/req/create-update-delete/create-entity: no FeatureOfInterest and no Location to make
    one from: 400 and nothing stored."""
    thing = sta.create_id("Things", thing_body())
    sensor = sta.create_id("Sensors", sensor_body())
    observed_property = sta.create_id("ObservedProperties", observed_property_body())
    datastream = sta.create_id("Datastreams", datastream_body(thing, sensor, observed_property))
    response = sta.post(
        f"Datastreams({datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 1},
    )
    assert_client_error(response, 400)
    assert sta.count("Observations") == 0
    assert sta.count("FeaturesOfInterest") == 0


def test_observation_without_phenomenon_time_gets_the_current_time(sta: Sta) -> None:
    """/req/create-update-delete/create-entity (Observation): a missing phenomenonTime is set
    by the service to the time of creation."""
    graph = make_graph(sta)
    before = datetime.now(UTC)
    created = sta.create(f"Datastreams({graph.datastream})/Observations", {"result": 5})
    after = datetime.now(UTC)
    stored = sta.read(f"Observations({created['@iot.id']})")["phenomenonTime"]
    assert "/" not in stored
    assert before.replace(microsecond=0) <= instant(stored) <= after


def test_historical_location_created_when_the_location_changes(sta: Sta) -> None:
    """/req/create-update-delete/historical-location-auto-creation: a Thing that gets a new
    Location gets a HistoricalLocation with that Location and the time of the change."""
    graph = make_graph(sta)
    (first,) = sta.values(f"Things({graph.thing})/HistoricalLocations")
    assert sta.ids(f"HistoricalLocations({first['@iot.id']})/Locations") == [graph.location]
    station = sta.create_id("Locations", location_body("Hauptbahnhof", point(HAUPTBAHNHOF)))
    before = datetime.now(UTC)
    response = sta.patch(f"Things({graph.thing})", {"Locations": [{"@iot.id": station}]})
    after = datetime.now(UTC)
    assert response.status_code == 200, response.text
    assert sta.ids(f"Things({graph.thing})/Locations") == [station]
    history = sta.values(f"Things({graph.thing})/HistoricalLocations", {"$orderby": "time desc"})
    assert len(history) == 2
    latest = history[0]
    assert before.replace(microsecond=0) <= instant(latest["time"]) <= after
    assert sta.ids(f"HistoricalLocations({latest['@iot.id']})/Locations") == [station]
    assert sta.count("Locations") == 2


def test_historical_location_created_for_a_location_posted_to_the_thing(sta: Sta) -> None:
    """/req/create-update-delete/historical-location-auto-creation: POST
    Things(1)/Locations makes the new Location current and records it."""
    graph = make_graph(sta)
    created = sta.create_id(
        f"Things({graph.thing})/Locations", location_body("Stadion", point(STADION))
    )
    assert created in sta.ids(f"Things({graph.thing})/Locations")
    history = sta.values(f"Things({graph.thing})/HistoricalLocations", {"$orderby": "time desc"})
    assert len(history) == 2
    assert created in sta.ids(f"HistoricalLocations({history[0]['@iot.id']})/Locations")


def test_datastream_times_are_maintained_by_the_service(sta: Sta) -> None:
    """/req/datamodel/datastream/properties: phenomenonTime and resultTime of a Datastream
    span those of its Observations, kept current as Observations come and go."""
    graph = make_graph(sta)
    empty = sta.read(f"Datastreams({graph.datastream})")
    assert empty.get("phenomenonTime") is None
    assert empty.get("resultTime") is None
    early, interval, late = (
        sta.create_id(f"Datastreams({graph.datastream})/Observations", body)
        for body in (
            {
                "phenomenonTime": "2024-05-01T10:00:00Z",
                "resultTime": "2024-05-01T10:05:00Z",
                "result": 1,
            },
            {
                "phenomenonTime": "2024-05-02T08:00:00Z/2024-05-02T09:00:00Z",
                "resultTime": "2024-05-02T09:01:00Z",
                "result": 2,
            },
            {
                "phenomenonTime": "2024-05-03T10:00:00Z",
                "resultTime": "2024-05-03T10:00:30Z",
                "result": 3,
            },
        )
    )
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert same_time(datastream["phenomenonTime"], "2024-05-01T10:00:00Z/2024-05-03T10:00:00Z")
    assert same_time(datastream["resultTime"], "2024-05-01T10:05:00Z/2024-05-03T10:00:30Z")
    assert sta.delete(f"Observations({late})").status_code == 200
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert same_time(datastream["phenomenonTime"], "2024-05-01T10:00:00Z/2024-05-02T09:00:00Z")
    assert same_time(datastream["resultTime"], "2024-05-01T10:05:00Z/2024-05-02T09:01:00Z")
    assert {early, interval} == set(sta.ids(f"Datastreams({graph.datastream})/Observations"))


def test_datastream_times_follow_a_changed_observation(sta: Sta) -> None:
    """/req/datamodel/datastream/properties: PATCHing an Observation's phenomenonTime moves
    the Datastream's phenomenonTime with it."""
    graph = make_graph(sta)
    first, second = add_observations(
        sta, graph.datastream, [("2024-05-01T10:00:00Z", 1), ("2024-05-02T10:00:00Z", 2)]
    )
    response = sta.patch(f"Observations({second})", {"phenomenonTime": "2024-05-09T10:00:00Z"})
    assert response.status_code == 200, response.text
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert same_time(datastream["phenomenonTime"], "2024-05-01T10:00:00Z/2024-05-09T10:00:00Z")
    assert first != second


def test_server_maintained_datastream_times_are_not_taken_from_clients(sta: Sta) -> None:
    """/req/datamodel/datastream/properties: phenomenonTime is the span of the Observations,
    whatever a client sends."""
    graph = make_graph(sta)
    add_observations(sta, graph.datastream, [("2024-05-01T10:00:00Z", 1)])
    sta.patch(
        f"Datastreams({graph.datastream})",
        {"phenomenonTime": "1999-01-01T00:00:00Z/1999-12-31T00:00:00Z"},
    )
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert same_time(datastream["phenomenonTime"], "2024-05-01T10:00:00Z/2024-05-01T10:00:00Z")


RESULTS: list[tuple[str, Any]] = [
    ("decimal", 21.5),
    ("integer", 21),
    ("zero", 0),
    ("negative", -7.25),
    ("large", 1.5e300),
    ("string", "on"),
    ("empty string", ""),
    ("unicode string", "Straße frei ✓"),
    ("numeric string", "42"),
    ("true", True),
    ("false", False),
    ("object", {"pm10": 17, "pm2_5": 9.5, "ok": True, "note": None, "tags": ["a", "b"]}),
    ("empty object", {}),
    ("array", [1, "zwei", None, False, {"drei": 3}]),
    ("empty array", []),
    ("null", None),
]


@pytest.mark.parametrize(("label", "result"), RESULTS, ids=[label for label, _ in RESULTS])
def test_every_result_type_round_trips_unchanged(sta: Sta, label: str, result: Any) -> None:
    """/req/datamodel/observation/properties: result is Any; it is returned as sent, with
    its JSON type (true is not 1, "42" is not 42)."""
    graph = make_graph(sta)
    created = sta.create(
        f"Datastreams({graph.datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": result},
    )
    assert "result" in created
    assert same_json(created["result"], result), (label, created["result"])
    stored = sta.read(f"Observations({created['@iot.id']})")
    assert same_json(stored["result"], result), (label, stored["result"])
    assert same_json(sta.read(f"Observations({created['@iot.id']})/result"), {"result": result}), (
        label
    )


def test_observation_metadata_round_trips_unchanged(sta: Sta) -> None:
    """/req/datamodel/observation/properties: resultQuality (Any), validTime (interval),
    parameters (object) and a phenomenonTime interval come back as sent."""
    graph = make_graph(sta)
    quality = [{"type": "uncertainty", "value": 0.2}, {"flag": "plausible"}]
    parameters = {"calibrated": True, "depth": 2, "hint": None, "sensorIds": [1, 2]}
    created = sta.create(
        f"Datastreams({graph.datastream})/Observations",
        {
            "phenomenonTime": "2024-05-01T12:00:00+02:00/2024-05-01T13:00:00+02:00",
            "resultTime": "2024-05-01T11:00:05Z",
            "validTime": "2024-05-01T10:00:00Z/2024-05-02T10:00:00Z",
            "result": 12,
            "resultQuality": quality,
            "parameters": parameters,
        },
    )
    stored = sta.read(f"Observations({created['@iot.id']})")
    assert same_time(stored["phenomenonTime"], "2024-05-01T10:00:00Z/2024-05-01T11:00:00Z")
    assert same_time(stored["resultTime"], "2024-05-01T11:00:05Z")
    assert same_time(stored["validTime"], "2024-05-01T10:00:00Z/2024-05-02T10:00:00Z")
    assert same_json(stored["resultQuality"], quality)
    assert same_json(stored["parameters"], parameters)


def test_thing_properties_round_trip_unchanged(sta: Sta) -> None:
    """/req/datamodel/thing/properties: properties is a JSON object kept as sent."""
    properties = {
        "owner": "Stadtwerke",
        "nested": {"deep": {"deeper": [1, 2.5, "drei", None, True]}},
        "empty": {},
        "flag": False,
    }
    created = sta.create("Things", thing_body(properties=properties))
    assert same_json(sta.read(f"Things({created['@iot.id']})")["properties"], properties)


# --- update -------------------------------------------------------------------------------


def test_patch_changes_only_what_it_names(sta: Sta) -> None:
    """/req/create-update-delete/update-entity: PATCH answers 200 with the entity; properties
    not in the request keep their values."""
    graph = make_graph(sta, properties={"owner": "Stadtwerke"})
    response = sta.patch(f"Things({graph.thing})", {"name": "Laterne 1a"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Laterne 1a"
    thing = sta.read(f"Things({graph.thing})")
    assert thing["name"] == "Laterne 1a"
    assert thing["description"] == "Laterne 1 in der Altstadt"
    assert thing["properties"] == {"owner": "Stadtwerke"}
    assert sta.ids(f"Things({graph.thing})/Datastreams") == [graph.datastream]


def test_patch_relinks_a_to_one_relation(sta: Sta) -> None:
    """/req/create-update-delete/update-entity: PATCH with {"Sensor": {"@iot.id": n}} links
    the Datastream to another existing Sensor."""
    graph = make_graph(sta)
    other = sta.create_id("Sensors", sensor_body("SHT31"))
    response = sta.patch(f"Datastreams({graph.datastream})", {"Sensor": {"@iot.id": other}})
    assert response.status_code == 200, response.text
    assert sta.read(f"Datastreams({graph.datastream})/Sensor")["@iot.id"] == other
    assert sta.ids(f"Sensors({graph.sensor})/Datastreams") == []
    assert sta.count("Sensors") == 2


def test_patch_with_json_patch(sta: Sta) -> None:
    """/req/create-update-delete/update-entity-jsonpatch: application/json-patch+json applies
    the RFC 6902 operations in order."""
    thing = sta.create_id(
        "Things",
        thing_body(properties={"owner": "Stadt", "old": 1, "tmp": "weg", "list": [1, 2]}),
    )
    operations = [
        {"op": "test", "path": "/name", "value": "Laterne 1"},
        {"op": "replace", "path": "/name", "value": "Laterne 1b"},
        {"op": "add", "path": "/properties/colour", "value": "grün"},
        {"op": "remove", "path": "/properties/old"},
        {"op": "copy", "from": "/properties/owner", "path": "/properties/formerOwner"},
        {"op": "move", "from": "/properties/tmp", "path": "/properties/kept"},
        {"op": "add", "path": "/properties/list/-", "value": 3},
    ]
    response = sta.patch(f"Things({thing})", operations, content_type="application/json-patch+json")
    assert response.status_code == 200, response.text
    stored = sta.read(f"Things({thing})")
    assert stored["name"] == "Laterne 1b"
    assert stored["description"] == "Laterne 1 in der Altstadt"
    assert stored["properties"] == {
        "owner": "Stadt",
        "colour": "grün",
        "formerOwner": "Stadt",
        "kept": "weg",
        "list": [1, 2, 3],
    }


def test_json_patch_with_a_failing_test_changes_nothing(sta: Sta) -> None:
    """/req/create-update-delete/update-entity-jsonpatch: RFC 6902 §5: if an operation fails
    the whole patch is not applied."""
    thing = sta.create_id("Things", thing_body(properties={"owner": "Stadt"}))
    operations = [
        {"op": "replace", "path": "/name", "value": "geändert"},
        {"op": "test", "path": "/properties/owner", "value": "Niemand"},
    ]
    response = sta.patch(f"Things({thing})", operations, content_type="application/json-patch+json")
    assert_client_error(response, 400, 409, 422)
    assert sta.read(f"Things({thing})")["name"] == "Laterne 1"


def test_put_replaces_the_entity(sta: Sta) -> None:
    """/req/create-update-delete/update-entity-put: PUT replaces every property; one left out
    is reset."""
    thing = sta.create_id("Things", thing_body(properties={"owner": "Stadt"}))
    response = sta.put(f"Things({thing})", {"name": "Laterne 2", "description": "ersetzt"})
    assert response.status_code == 200, response.text
    stored = sta.read(f"Things({thing})")
    assert stored["name"] == "Laterne 2"
    assert stored["description"] == "ersetzt"
    assert stored.get("properties") in (None, {})


def test_put_without_a_mandatory_property_is_refused(sta: Sta) -> None:
    """/req/create-update-delete/update-entity-put: the replacement must be a valid entity."""
    thing = sta.create_id("Things", thing_body())
    assert_client_error(sta.put(f"Things({thing})", {"description": "ohne Namen"}), 400)
    assert sta.read(f"Things({thing})")["name"] == "Laterne 1"


# --- delete -------------------------------------------------------------------------------


def _with_observation(sta: Sta) -> tuple[Graph, int, int]:
    graph = make_graph(sta)
    (observation,) = add_observations(sta, graph.datastream, [("2024-05-01T12:00:00Z", 1)])
    feature = sta.read(f"Observations({observation})/FeatureOfInterest")["@iot.id"]
    return graph, observation, feature


def test_delete_answers_200_and_the_entity_is_gone(sta: Sta) -> None:
    """/req/create-update-delete/delete-entity: 200 with an empty body, then 404."""
    thing = sta.create_id("Things", thing_body())
    response = sta.delete(f"Things({thing})")
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert sta.get(f"Things({thing})").status_code == 404


def test_delete_thing_cascades_to_datastreams_and_history(sta: Sta) -> None:
    """/req/create-update-delete/delete-entity: deleting a Thing deletes its Datastreams
    (with their Observations) and HistoricalLocations; Locations, Sensors, ObservedProperties
    and features stay."""
    graph, _, _ = _with_observation(sta)
    assert sta.delete(f"Things({graph.thing})").status_code == 200
    assert counts(sta) == {
        "Things": 0,
        "Locations": 1,
        "HistoricalLocations": 0,
        "Sensors": 1,
        "ObservedProperties": 1,
        "Datastreams": 0,
        "Observations": 0,
        "FeaturesOfInterest": 1,
    }


@pytest.mark.parametrize(
    ("target", "gone", "kept"),
    [
        ("datastream", {"Datastreams", "Observations"}, {"Things", "Sensors"}),
        ("sensor", {"Sensors", "Datastreams", "Observations"}, {"Things", "ObservedProperties"}),
        (
            "observed_property",
            {"ObservedProperties", "Datastreams", "Observations"},
            {"Things", "Sensors"},
        ),
        ("feature", {"FeaturesOfInterest", "Observations"}, {"Datastreams", "Things"}),
        ("observation", {"Observations"}, {"Datastreams", "FeaturesOfInterest"}),
    ],
)
def test_delete_cascades_as_the_integrity_constraints_require(
    sta: Sta, target: str, gone: set[str], kept: set[str]
) -> None:
    """/req/create-update-delete/delete-entity: a Datastream takes its Observations, a Sensor
    or ObservedProperty its Datastreams, a FeatureOfInterest its Observations."""
    graph, observation, feature = _with_observation(sta)
    paths = {
        "datastream": f"Datastreams({graph.datastream})",
        "sensor": f"Sensors({graph.sensor})",
        "observed_property": f"ObservedProperties({graph.observed_property})",
        "feature": f"FeaturesOfInterest({feature})",
        "observation": f"Observations({observation})",
    }
    assert sta.delete(paths[target]).status_code == 200
    after = counts(sta)
    assert {entity_set for entity_set in gone if after[entity_set] != 0} == set()
    assert {entity_set for entity_set in kept if after[entity_set] != 1} == set()


def test_delete_location_unlinks_it_from_the_thing(sta: Sta) -> None:
    """/req/create-update-delete/delete-entity: the Thing stays when its Location goes."""
    graph = make_graph(sta)
    assert sta.delete(f"Locations({graph.location})").status_code == 200
    assert sta.read(f"Things({graph.thing})")["name"] == "Laterne 1"
    assert sta.ids(f"Things({graph.thing})/Locations") == []


def test_historical_location_manual_creation(sta: Sta) -> None:
    """/req/create-update-delete/historical-location-manual-creation: a client may create a
    HistoricalLocation with its own time, stored as that instant."""
    graph = make_graph(sta)
    created = sta.create(
        "HistoricalLocations",
        {
            "time": "2020-01-01T09:00:00+01:00",
            "Thing": {"@iot.id": graph.thing},
            "Locations": [{"@iot.id": graph.location}],
        },
    )
    stored = sta.read(f"HistoricalLocations({created['@iot.id']})")
    assert instant(stored["time"]) == datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
    assert sta.count(f"Things({graph.thing})/HistoricalLocations") == 2
