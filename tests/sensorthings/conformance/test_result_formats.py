"""Result formats beyond JSON: `$resultFormat=GeoJSON` and `$resultFormat=CSV`.

Neither is a conformance class of OGC 18-088; both are the widely used extensions that
18-088 §9.3.2 leaves room for ($resultFormat): the FROST-Server GeoJSON ResultFormat
(https://fraunhoferiosb.github.io/FROST-Server/extensions/GeoJSON-ResultFormat.html) and the
INSIDE CSV ResultFormat (https://github.com/INSIDE-information-systems/SensorThingsAPI/blob/
master/CSV-ResultFormat/CSV-ResultFormat.md). The query options apply as with JSON.
"""

from __future__ import annotations

import csv
import io

from tests.sensorthings.conformance.conftest import (
    HAUPTBAHNHOF,
    STADION,
    STIFTSKIRCHE,
    Json,
    Sta,
    add_observations,
    box,
    feature_body,
    make_graph,
    point,
)

GEOJSON_TYPES = ("application/geo+json", "application/json", "application/vnd.geo+json")


def _geojson(sta: Sta, resource: str, params: dict[str, str]) -> Json:
    response = sta.get(resource, {**params, "$resultFormat": "GeoJSON"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(GEOJSON_TYPES), response.headers
    collection: Json = response.json()
    assert collection["type"] == "FeatureCollection"
    return collection


def test_geojson_of_locations(sta: Sta) -> None:
    """$resultFormat=GeoJSON: Locations as a FeatureCollection, one Feature per Location
    with its geometry and its properties; $filter and $orderby apply."""
    make_graph(sta, name="Laterne 1", at=STIFTSKIRCHE)
    make_graph(sta, name="Laterne 2", at=STADION)
    make_graph(sta, name="Laterne 3", at=HAUPTBAHNHOF)
    collection = _geojson(
        sta, "Locations", {"$orderby": "name", "$filter": "name ne 'Standort Laterne 3'"}
    )
    features = collection["features"]
    assert isinstance(features, list)
    assert [feature["type"] for feature in features] == ["Feature", "Feature"]
    assert [feature["geometry"] for feature in features] == [
        point(STIFTSKIRCHE),
        point(STADION),
    ]
    assert [feature["properties"]["name"] for feature in features] == [
        "Standort Laterne 1",
        "Standort Laterne 2",
    ]


def test_geojson_of_features_of_interest_with_polygons(sta: Sta) -> None:
    """$resultFormat=GeoJSON: a FeatureOfInterest's feature is the Feature's geometry."""
    area = box(7.76, 49.43, 7.78, 49.45)
    sta.create_id("FeaturesOfInterest", feature_body("Altstadt", area))
    collection = _geojson(sta, "FeaturesOfInterest", {})
    (feature,) = collection["features"]
    assert feature["geometry"] == area
    assert feature["properties"]["name"] == "Altstadt"


def test_geojson_of_things_takes_the_expanded_location(sta: Sta) -> None:
    """$resultFormat=GeoJSON: Things with $expand=Locations get the Location's geometry."""
    graph = make_graph(sta, name="Laterne 1", at=STADION)
    collection = _geojson(sta, "Things", {"$expand": "Locations"})
    (feature,) = collection["features"]
    assert feature["geometry"] == point(STADION)
    assert feature["properties"]["name"] == "Laterne 1"
    assert graph.thing in (feature.get("id"), feature["properties"].get("@iot.id"))


def test_geojson_of_an_empty_collection(sta: Sta) -> None:
    """$resultFormat=GeoJSON: nothing matches, an empty FeatureCollection."""
    assert _geojson(sta, "Locations", {})["features"] == []


def _csv(sta: Sta, resource: str, params: dict[str, str]) -> list[list[str]]:
    response = sta.get(resource, {**params, "$resultFormat": "CSV"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv"), response.headers
    return list(csv.reader(io.StringIO(response.text)))


def test_csv_of_observations(sta: Sta) -> None:
    """$resultFormat=CSV: a header row naming the selected properties, then one row per
    entity in order; values that need it are quoted (RFC 4180)."""
    graph = make_graph(sta)
    ids = add_observations(
        sta,
        graph.datastream,
        [
            ("2024-05-01T10:00:00Z", 21.5),
            ("2024-05-01T11:00:00Z", "hoch, steigend"),
            ("2024-05-01T12:00:00Z", 'sagt "Hallo"'),
        ],
    )
    rows = _csv(sta, "Observations", {"$select": "id,result", "$orderby": "id"})
    header, *body = rows
    assert header[0] in ("id", "@iot.id")
    assert header[1] == "result"
    assert body == [
        [str(ids[0]), "21.5"],
        [str(ids[1]), "hoch, steigend"],
        [str(ids[2]), 'sagt "Hallo"'],
    ]


def test_csv_honours_filter_top_and_navigation(sta: Sta) -> None:
    """$resultFormat=CSV on a navigation path with $filter and $top."""
    graph = make_graph(sta)
    add_observations(
        sta, graph.datastream, [(f"2024-05-01T1{hour}:00:00Z", hour) for hour in range(5)]
    )
    rows = _csv(
        sta,
        f"Datastreams({graph.datastream})/Observations",
        {"$select": "result", "$filter": "result ge 2", "$orderby": "result desc", "$top": "2"},
    )
    assert rows == [["result"], ["4"], ["3"]] or rows == [["result"], ["4.0"], ["3.0"]]


def test_csv_of_things_has_a_column_per_property(sta: Sta) -> None:
    """$resultFormat=CSV: without $select every property of the entity type has a column."""
    make_graph(sta, name="Laterne 1")
    header, row = _csv(sta, "Things", {})
    assert {"name", "description"} <= set(header)
    assert row[header.index("name")] == "Laterne 1"
    assert row[header.index("description")] == "Laterne 1 in der Altstadt"


def test_csv_of_an_empty_collection_is_just_the_header(sta: Sta) -> None:
    """$resultFormat=CSV: nothing matches, only the header row."""
    rows = _csv(sta, "Things", {"$select": "name"})
    assert rows == [["name"]]
