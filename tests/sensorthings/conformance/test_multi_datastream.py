"""Conformance class MultiDatastream Extension (OGC 18-088 §14).

Requirement class http://www.opengis.net/spec/iot_sensing/1.1/req/multi-datastream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.sensorthings.conformance.conftest import (
    OM_CATEGORY,
    OM_COMPLEX,
    OM_MEASUREMENT,
    Graph,
    Json,
    Sta,
    assert_client_error,
    make_graph,
    observed_property_body,
    same_json,
    same_time,
    sensor_body,
    thing_body,
)

METRES_PER_SECOND = {"name": "Meter pro Sekunde", "symbol": "m/s", "definition": "ucum:m/s"}
DEGREES = {"name": "Grad", "symbol": "°", "definition": "ucum:deg"}


@dataclass(frozen=True)
class Wind:
    """A MultiDatastream of wind speed and direction on a Thing."""

    graph: Graph
    speed: int
    direction: int
    multi_datastream: int


def wind_body(graph: Graph, speed: int, direction: int, **extra: Any) -> Json:
    """A MultiDatastream of two ObservedProperties, linked by id."""
    return {
        "name": "Wind Rathausdach",
        "description": "Windgeschwindigkeit und -richtung",
        "observationType": OM_COMPLEX,
        "unitOfMeasurements": [METRES_PER_SECOND, DEGREES],
        "multiObservationDataTypes": [OM_MEASUREMENT, OM_MEASUREMENT],
        "properties": {"height": 32},
        "Thing": {"@iot.id": graph.thing},
        "Sensor": {"@iot.id": graph.sensor},
        "ObservedProperties": [{"@iot.id": speed}, {"@iot.id": direction}],
        **extra,
    }


@pytest.fixture
def wind(sta: Sta) -> Wind:
    """A Thing with a Datastream and a wind MultiDatastream."""
    graph = make_graph(sta)
    speed = sta.create_id("ObservedProperties", observed_property_body("Windgeschwindigkeit"))
    direction = sta.create_id("ObservedProperties", observed_property_body("Windrichtung"))
    multi = sta.create_id("MultiDatastreams", wind_body(graph, speed, direction))
    return Wind(graph, speed, direction, multi)


def test_multi_datastream_properties(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/properties: unitOfMeasurements, multiObservationDataTypes and
    observationType (OM_ComplexObservation) are stored as sent."""
    entity = sta.read(f"MultiDatastreams({wind.multi_datastream})")
    assert entity["@iot.selfLink"] == sta.link("MultiDatastreams", wind.multi_datastream)
    assert entity["name"] == "Wind Rathausdach"
    assert entity["observationType"] == OM_COMPLEX
    assert entity["unitOfMeasurements"] == [METRES_PER_SECOND, DEGREES]
    assert entity["multiObservationDataTypes"] == [OM_MEASUREMENT, OM_MEASUREMENT]
    assert entity["properties"] == {"height": 32}
    for navigation in ("Thing", "Sensor", "ObservedProperties", "Observations"):
        assert entity[f"{navigation}@iot.navigationLink"] == (
            f"{entity['@iot.selfLink']}/{navigation}"
        )


def test_multi_datastream_relations(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/relations: one Thing, one Sensor, its ObservedProperties; and
    the reverse links on Thing, Sensor and ObservedProperty."""
    multi = f"MultiDatastreams({wind.multi_datastream})"
    assert sta.read(f"{multi}/Thing")["@iot.id"] == wind.graph.thing
    assert sta.read(f"{multi}/Sensor")["@iot.id"] == wind.graph.sensor
    assert sorted(sta.ids(f"{multi}/ObservedProperties")) == sorted([wind.speed, wind.direction])
    assert sta.ids(f"Things({wind.graph.thing})/MultiDatastreams") == [wind.multi_datastream]
    assert sta.ids(f"Sensors({wind.graph.sensor})/MultiDatastreams") == [wind.multi_datastream]
    assert sta.ids(f"ObservedProperties({wind.speed})/MultiDatastreams") == [wind.multi_datastream]
    thing = sta.read(f"Things({wind.graph.thing})")
    assert thing["MultiDatastreams@iot.navigationLink"] == (
        f"{sta.link('Things', wind.graph.thing)}/MultiDatastreams"
    )


def test_observation_of_a_multi_datastream(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/relations, constraints: an Observation of a MultiDatastream has
    an array result, one element per ObservedProperty, and links its MultiDatastream."""
    response = sta.post(
        f"MultiDatastreams({wind.multi_datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": [5.2, 270]},
    )
    assert response.status_code == 201, response.text
    observation = response.json()["@iot.id"]
    stored = sta.read(f"Observations({observation})")
    assert same_json(stored["result"], [5.2, 270])
    assert stored["MultiDatastream@iot.navigationLink"] == (
        f"{sta.link('Observations', observation)}/MultiDatastream"
    )
    assert sta.read(f"Observations({observation})/MultiDatastream")["@iot.id"] == (
        wind.multi_datastream
    )
    assert sta.ids(f"MultiDatastreams({wind.multi_datastream})/Observations") == [observation]
    assert sta.ids(f"Datastreams({wind.graph.datastream})/Observations") == []


def test_observation_linked_by_id_in_the_body(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/relations: POST Observations with {"MultiDatastream":
    {"@iot.id": n}}."""
    created = sta.create(
        "Observations",
        {
            "phenomenonTime": "2024-05-01T12:00:00Z",
            "result": [3.0, 180],
            "MultiDatastream": {"@iot.id": wind.multi_datastream},
        },
    )
    assert sta.read(f"Observations({created['@iot.id']})/MultiDatastream")["@iot.id"] == (
        wind.multi_datastream
    )


def test_deep_insert_of_a_multi_datastream(sta: Sta) -> None:
    """/req/multi-datastream/relations: a Thing with a MultiDatastream whose Sensor and
    ObservedProperties are created in the same request."""
    response = sta.post(
        "Things",
        thing_body(
            "Wetterstation",
            MultiDatastreams=[
                {
                    "name": "Wind",
                    "description": "Wind",
                    "observationType": OM_COMPLEX,
                    "unitOfMeasurements": [METRES_PER_SECOND, DEGREES],
                    "multiObservationDataTypes": [OM_MEASUREMENT, OM_MEASUREMENT],
                    "Sensor": sensor_body("Anemometer"),
                    "ObservedProperties": [
                        observed_property_body("Windgeschwindigkeit"),
                        observed_property_body("Windrichtung"),
                    ],
                }
            ],
        ),
    )
    assert response.status_code == 201, response.text
    thing = response.json()["@iot.id"]
    (multi,) = sta.values(f"Things({thing})/MultiDatastreams")
    names = sorted(
        op["name"] for op in sta.values(f"MultiDatastreams({multi['@iot.id']})/ObservedProperties")
    )
    assert names == ["Windgeschwindigkeit", "Windrichtung"]
    assert sta.read(f"MultiDatastreams({multi['@iot.id']})/Sensor")["name"] == "Anemometer"


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("fewer units than properties", {"unitOfMeasurements": [METRES_PER_SECOND]}),
        ("fewer data types than properties", {"multiObservationDataTypes": [OM_MEASUREMENT]}),
        ("not a complex observation", {"observationType": OM_MEASUREMENT}),
        ("no observed properties", {"ObservedProperties": []}),
        ("units not a list", {"unitOfMeasurements": METRES_PER_SECOND}),
    ],
)
def test_multi_datastream_constraints_are_enforced(
    sta: Sta, wind: Wind, label: str, change: Json
) -> None:
    """/req/multi-datastream/constraints: unitOfMeasurements, multiObservationDataTypes and
    ObservedProperties have the same length; observationType is OM_ComplexObservation."""
    body = {**wind_body(wind.graph, wind.speed, wind.direction), **change}
    assert_client_error(sta.post("MultiDatastreams", body), 400)
    assert sta.count("MultiDatastreams") == 1, label


@pytest.mark.parametrize(
    ("label", "result"),
    [("scalar", 5.2), ("too short", [5.2]), ("too long", [5.2, 270, 1]), ("object", {"a": 1})],
)
def test_result_must_match_the_observed_properties(
    sta: Sta, wind: Wind, label: str, result: Any
) -> None:
    """/req/multi-datastream/constraints: the result of an Observation of a MultiDatastream
    is an array as long as the list of ObservedProperties."""
    response = sta.post(
        f"MultiDatastreams({wind.multi_datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": result},
    )
    assert_client_error(response, 400)
    assert sta.count("Observations") == 0, label


def test_observation_links_exactly_one_stream(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/constraints: an Observation links a Datastream or a
    MultiDatastream, never both and never neither."""
    both = {
        "phenomenonTime": "2024-05-01T12:00:00Z",
        "result": [1, 2],
        "Datastream": {"@iot.id": wind.graph.datastream},
        "MultiDatastream": {"@iot.id": wind.multi_datastream},
    }
    assert_client_error(sta.post("Observations", both), 400)
    neither = {"phenomenonTime": "2024-05-01T12:00:00Z", "result": 1}
    assert_client_error(sta.post("Observations", neither), 400)
    assert sta.count("Observations") == 0


def test_multi_datastream_times_are_maintained(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/properties: phenomenonTime spans the Observations' times."""
    for when in ("2024-05-01T12:00:00Z", "2024-05-03T12:00:00Z"):
        sta.create(
            f"MultiDatastreams({wind.multi_datastream})/Observations",
            {"phenomenonTime": when, "result": [1, 90]},
        )
    entity = sta.read(f"MultiDatastreams({wind.multi_datastream})")
    assert same_time(entity["phenomenonTime"], "2024-05-01T12:00:00Z/2024-05-03T12:00:00Z")


def test_category_data_types_and_mixed_results(sta: Sta, wind: Wind) -> None:
    """/req/multi-datastream/properties: element types may differ (a measurement and a
    category); the result array keeps each element's JSON type."""
    body = wind_body(
        wind.graph,
        wind.speed,
        wind.direction,
        name="Wind mit Kategorie",
        multiObservationDataTypes=[OM_MEASUREMENT, OM_CATEGORY],
    )
    multi = sta.create_id("MultiDatastreams", body)
    created = sta.create(
        f"MultiDatastreams({multi})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": [4.5, "NW"]},
    )
    assert same_json(sta.read(f"Observations({created['@iot.id']})")["result"], [4.5, "NW"])


def test_query_options_on_multi_datastreams(sta: Sta, wind: Wind) -> None:
    """/req/request-data (MultiDatastream): $expand, $filter across MultiDatastream."""
    sta.create(
        f"MultiDatastreams({wind.multi_datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": [5.2, 270]},
    )
    expanded = sta.read(
        f"MultiDatastreams({wind.multi_datastream})",
        {"$expand": "ObservedProperties($select=name),Observations($select=result)"},
    )
    assert sorted(op["name"] for op in expanded["ObservedProperties"]) == [
        "Windgeschwindigkeit",
        "Windrichtung",
    ]
    assert [o["result"] for o in expanded["Observations"]] == [[5.2, 270]]
    found = sta.values("Observations", {"$filter": "MultiDatastream/name eq 'Wind Rathausdach'"})
    assert len(found) == 1
    things = sta.values(
        "Things", {"$filter": "MultiDatastreams/ObservedProperties/name eq 'Windrichtung'"}
    )
    assert [thing["@iot.id"] for thing in things] == [wind.graph.thing]


def test_delete_cascades_to_multi_datastreams(sta: Sta, wind: Wind) -> None:
    """/req/create-update-delete/delete-entity: a MultiDatastream takes its Observations;
    deleting an ObservedProperty it uses deletes it; deleting the Thing deletes it."""
    sta.create(
        f"MultiDatastreams({wind.multi_datastream})/Observations",
        {"phenomenonTime": "2024-05-01T12:00:00Z", "result": [5.2, 270]},
    )
    assert sta.delete(f"ObservedProperties({wind.direction})").status_code == 200
    assert sta.count("MultiDatastreams") == 0
    assert sta.count("Observations") == 0
    assert sta.count("Datastreams") == 1
    gust = sta.create_id("ObservedProperties", observed_property_body("Böen"))
    second = sta.create_id(
        "MultiDatastreams",
        wind_body(
            wind.graph,
            wind.speed,
            gust,
            name="Wind und Böen",
            unitOfMeasurements=[METRES_PER_SECOND, METRES_PER_SECOND],
        ),
    )
    assert sta.delete(f"Things({wind.graph.thing})").status_code == 200
    assert sta.get(f"MultiDatastreams({second})").status_code == 404
