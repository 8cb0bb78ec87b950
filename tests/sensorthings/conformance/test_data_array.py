"""Conformance class Data Array Extension (OGC 18-088 §13).

Requirement class http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array:
Observations read as `$resultFormat=dataArray` and created in bulk with POST
`CreateObservations`.
"""

from __future__ import annotations

import re
from typing import Any

from tests.sensorthings.conformance.conftest import (
    HAUPTBAHNHOF,
    OM_COMPLEX,
    OM_MEASUREMENT,
    Json,
    Sta,
    add_observations,
    assert_client_error,
    feature_body,
    make_graph,
    observed_property_body,
    point,
    same_json,
    same_time,
)

SELF_LINK = re.compile(r"^http://testserver/[^/]+/v1\.1/Observations\((\d+)\)$")


def _groups(page: Json) -> dict[str, Json]:
    groups: dict[str, Json] = {}
    for group in page["value"]:
        link = group.get("Datastream@iot.navigationLink") or group.get(
            "MultiDatastream@iot.navigationLink"
        )
        assert link, group
        groups[link] = group
    return groups


def test_get_observations_as_data_array(sta: Sta) -> None:
    """/req/data-array/data-array: $resultFormat=dataArray groups Observations per Datastream
    with components (as $select lists them), dataArray@iot.count and dataArray rows."""
    first = make_graph(sta, name="Laterne 1")
    second = make_graph(sta, name="Laterne 2", at=HAUPTBAHNHOF)
    ids_first = add_observations(
        sta, first.datastream, [("2024-05-01T10:00:00Z", 1.5), ("2024-05-01T11:00:00Z", 2.5)]
    )
    ids_second = add_observations(sta, second.datastream, [("2024-05-01T10:30:00Z", "an")])
    page = sta.read(
        "Observations",
        {"$resultFormat": "dataArray", "$select": "id,phenomenonTime,result", "$orderby": "id"},
    )
    groups = _groups(page)
    assert set(groups) == {
        sta.link("Datastreams", first.datastream),
        sta.link("Datastreams", second.datastream),
    }
    one = groups[sta.link("Datastreams", first.datastream)]
    assert one["components"] == ["id", "phenomenonTime", "result"]
    assert one["dataArray@iot.count"] == 2
    assert [row[0] for row in one["dataArray"]] == ids_first
    assert same_time(one["dataArray"][0][1], "2024-05-01T10:00:00Z")
    assert [row[2] for row in one["dataArray"]] == [1.5, 2.5]
    two = groups[sta.link("Datastreams", second.datastream)]
    assert two["dataArray"] == [[ids_second[0], two["dataArray"][0][1], "an"]]


def test_data_array_of_one_datastream_with_count(sta: Sta) -> None:
    """/req/data-array/data-array: also on Datastreams(1)/Observations, with $count and
    $top; every row has one value per component."""
    graph = make_graph(sta)
    add_observations(
        sta,
        graph.datastream,
        [(f"2024-05-01T1{hour}:00:00Z", hour) for hour in range(4)],
        resultTime="2024-05-02T00:00:00Z",
    )
    page = sta.read(
        f"Datastreams({graph.datastream})/Observations",
        {
            "$resultFormat": "dataArray",
            "$count": "true",
            "$top": "3",
            "$orderby": "phenomenonTime desc",
            "$select": "result,resultTime",
        },
    )
    assert page["@iot.count"] == 4
    assert "@iot.nextLink" in page
    (group,) = page["value"]
    assert group["Datastream@iot.navigationLink"] == sta.link("Datastreams", graph.datastream)
    assert group["components"] == ["result", "resultTime"]
    assert group["dataArray@iot.count"] == 3
    assert [row[0] for row in group["dataArray"]] == [3, 2, 1]
    assert all(same_time(row[1], "2024-05-02T00:00:00Z") for row in group["dataArray"])


def test_data_array_without_select_has_rows_as_long_as_components(sta: Sta) -> None:
    """/req/data-array/data-array: without $select the components name the properties and
    each row holds exactly that many values."""
    graph = make_graph(sta)
    add_observations(sta, graph.datastream, [("2024-05-01T10:00:00Z", 1)])
    (group,) = sta.read("Observations", {"$resultFormat": "dataArray"})["value"]
    assert "result" in group["components"]
    assert "phenomenonTime" in group["components"]
    assert all(len(row) == len(group["components"]) for row in group["dataArray"])
    assert group["dataArray"][0][group["components"].index("result")] == 1


def _created_ids(response_body: list[Any]) -> list[int | None]:
    ids: list[int | None] = []
    for line in response_body:
        assert isinstance(line, str), line
        match = SELF_LINK.match(line)
        if match:
            ids.append(int(match.group(1)))
        else:
            assert line.lower().startswith("error"), line
            ids.append(None)
    return ids


def test_create_observations_returns_self_links_in_order(sta: Sta) -> None:
    """/req/data-array/data-array: POST CreateObservations answers 201 with one selfLink per
    row, in the order of the rows; the Observations hold the values of the components."""
    graph = make_graph(sta)
    feature = sta.create_id("FeaturesOfInterest", feature_body())
    response = sta.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["phenomenonTime", "result", "resultTime", "FeatureOfInterest/id"],
                "dataArray@iot.count": 3,
                "dataArray": [
                    ["2024-05-01T10:20:00-07:00", 20, "2024-05-01T17:21:00Z", feature],
                    ["2024-05-01T10:21:00-07:00", 30.5, None, feature],
                    ["2024-05-01T10:22:00-07:00", "hoch", None, feature],
                ],
            }
        ],
    )
    assert response.status_code == 201, response.text
    created = _created_ids(response.json())
    assert None not in created
    observations = [sta.read(f"Observations({entity_id})") for entity_id in created]
    assert [o["result"] for o in observations] == [20, 30.5, "hoch"]
    assert same_time(observations[0]["phenomenonTime"], "2024-05-01T17:20:00Z")
    assert same_time(observations[0]["resultTime"], "2024-05-01T17:21:00Z")
    assert observations[1]["resultTime"] is None
    for entity_id in created:
        assert sta.read(f"Observations({entity_id})/FeatureOfInterest")["@iot.id"] == feature
        assert sta.read(f"Observations({entity_id})/Datastream")["@iot.id"] == graph.datastream


def test_create_observations_reports_an_error_per_row(sta: Sta) -> None:
    """/req/data-array/data-array: a row that cannot be created answers "error" in its place;
    the other rows are created (18-088 §13.2)."""
    graph = make_graph(sta)
    feature = sta.create_id("FeaturesOfInterest", feature_body())
    response = sta.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
                "dataArray@iot.count": 3,
                "dataArray": [
                    ["2024-05-01T10:20:00Z", 20, feature],
                    ["2024-05-01T10:21:00Z", 30, 987654321],
                    ["kein Zeitpunkt", 40, feature],
                ],
            }
        ],
    )
    assert response.status_code == 201, response.text
    created = _created_ids(response.json())
    assert created[0] is not None
    assert created[1:] == [None, None]
    assert sta.ids("Observations") == [created[0]]


def test_create_observations_for_several_streams_and_generated_features(sta: Sta) -> None:
    """/req/data-array/data-array: several Datastreams and a MultiDatastream in one request;
    rows without FeatureOfInterest get the one generated from the Thing's Location."""
    graph = make_graph(sta, at=HAUPTBAHNHOF)
    speed = sta.create_id("ObservedProperties", observed_property_body("Wind"))
    direction = sta.create_id("ObservedProperties", observed_property_body("Richtung"))
    multi = sta.create_id(
        "MultiDatastreams",
        {
            "name": "Wind",
            "description": "Wind",
            "observationType": OM_COMPLEX,
            "unitOfMeasurements": [
                {"name": "m/s", "symbol": "m/s", "definition": "ucum:m/s"},
                {"name": "Grad", "symbol": "°", "definition": "ucum:deg"},
            ],
            "multiObservationDataTypes": [OM_MEASUREMENT, OM_MEASUREMENT],
            "Thing": {"@iot.id": graph.thing},
            "Sensor": {"@iot.id": graph.sensor},
            "ObservedProperties": [{"@iot.id": speed}, {"@iot.id": direction}],
        },
    )
    response = sta.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["phenomenonTime", "result"],
                "dataArray@iot.count": 2,
                "dataArray": [["2024-05-01T10:00:00Z", 1], ["2024-05-01T11:00:00Z", 2]],
            },
            {
                "MultiDatastream": {"@iot.id": multi},
                "components": ["phenomenonTime", "result"],
                "dataArray@iot.count": 2,
                "dataArray": [["2024-05-01T10:00:00Z", [5.5, 90]], ["2024-05-01T11:00:00Z", 7]],
            },
        ],
    )
    assert response.status_code == 201, response.text
    created = _created_ids(response.json())
    assert len(created) == 4
    assert None not in created[:3]
    assert created[3] is None  # a scalar result for a MultiDatastream of two properties
    assert same_json(sta.read(f"Observations({created[2]})")["result"], [5.5, 90])
    features = {
        sta.read(f"Observations({entity_id})/FeatureOfInterest")["@iot.id"]
        for entity_id in created[:3]
    }
    assert len(features) == 1
    (feature,) = features
    assert sta.read(f"FeaturesOfInterest({feature})")["feature"] == point(HAUPTBAHNHOF)


def test_data_array_of_a_multi_datastream(sta: Sta) -> None:
    """/req/data-array/data-array: Observations of a MultiDatastream group under
    MultiDatastream@iot.navigationLink, their array results as one component value."""
    graph = make_graph(sta)
    speed = sta.create_id("ObservedProperties", observed_property_body("Wind"))
    direction = sta.create_id("ObservedProperties", observed_property_body("Richtung"))
    multi = sta.create_id(
        "MultiDatastreams",
        {
            "name": "Wind",
            "description": "Wind",
            "observationType": OM_COMPLEX,
            "unitOfMeasurements": [
                {"name": "m/s", "symbol": "m/s", "definition": "ucum:m/s"},
                {"name": "Grad", "symbol": "°", "definition": "ucum:deg"},
            ],
            "multiObservationDataTypes": [OM_MEASUREMENT, OM_MEASUREMENT],
            "Thing": {"@iot.id": graph.thing},
            "Sensor": {"@iot.id": graph.sensor},
            "ObservedProperties": [{"@iot.id": speed}, {"@iot.id": direction}],
        },
    )
    sta.create(
        f"MultiDatastreams({multi})/Observations",
        {"phenomenonTime": "2024-05-01T10:00:00Z", "result": [4.5, 225]},
    )
    page = sta.read(
        f"MultiDatastreams({multi})/Observations",
        {"$resultFormat": "dataArray", "$select": "result"},
    )
    (group,) = page["value"]
    assert group["MultiDatastream@iot.navigationLink"] == sta.link("MultiDatastreams", multi)
    assert group["components"] == ["result"]
    assert same_json(group["dataArray"], [[[4.5, 225]]])


def test_create_observations_rejects_a_malformed_body(sta: Sta) -> None:
    """/req/data-array/data-array: a body that is not a list of data arrays is 400 and
    creates nothing."""
    graph = make_graph(sta)
    for body in (
        {"Datastream": {"@iot.id": graph.datastream}},
        [{"Datastream": {"@iot.id": graph.datastream}, "dataArray": [[1]]}],
        [{"components": ["result"], "dataArray": [[1]]}],
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["result", "colour"],
                "dataArray": [[1, "rot"]],
            }
        ],
    ):
        assert_client_error(sta.post("CreateObservations", body), 400)
    assert sta.count("Observations") == 0


def test_create_observations_needs_an_operator(sta: Sta) -> None:
    """Bulk creation is writing: a viewer is refused and nothing is stored."""
    graph = make_graph(sta)
    viewer = sta.as_role("viewer")
    response = viewer.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["phenomenonTime", "result"],
                "dataArray": [["2024-05-01T10:00:00Z", 1]],
            }
        ],
    )
    assert_client_error(response, 403)
    assert sta.count("Observations") == 0
