"""Conformance class Filtering Extension (OGC 18-088 §9.3): the query options.

Requirement class http://www.opengis.net/spec/iot_sensing/1.1/req/request-data. Each test
builds a small city of its own (three Things in and near Kaiserslautern, Observations, three
features) and checks a table of queries; a table test reports every query that went wrong,
not only the first. Distances and lengths are in metres (Stadtkern's documented deviation
from FROST, which answers in degrees).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.sensorthings.conformance.conftest import (
    KUSEL,
    STADION,
    STIFTSKIRCHE,
    Json,
    Sta,
    add_observations,
    assert_client_error,
    box,
    feature_body,
    location_body,
    make_graph,
    wkt_box,
)

STIFT = "Laterne Stiftskirche"
STADION_LAMP = "Laterne Stadion"
PEGEL = "Pegel Kusel"
# Feature polygons: A and B share the edge at 7.75; C overlaps both.
BOX_A = (7.70, 49.40, 7.75, 49.45)
BOX_B = (7.75, 49.40, 7.80, 49.45)
BOX_C = (7.72, 49.42, 7.78, 49.44)
# A 0.01° footpath along 49.44° N: 723 m on the mean-radius sphere.
FOOTPATH = {"type": "LineString", "coordinates": [[7.765, 49.44], [7.775, 49.44]]}


@dataclass(frozen=True)
class City:
    """Ids by label of what `build_city` made."""

    things: dict[str, int]
    locations: dict[str, int]
    datastreams: dict[str, int]
    observations: dict[str, int]
    features: dict[str, int]


def build_city(sta: Sta) -> City:
    """Three Things with Datastreams, six Observations, three features and a footpath."""
    specs = {
        STIFT: (
            STIFTSKIRCHE,
            {
                "owner": "Stadtwerke",
                "rank": 2,
                "height": 4.5,
                "lit": True,
                "address": {"city": "Kaiserslautern", "street": "Stiftsplatz"},
            },
        ),
        STADION_LAMP: (
            STADION,
            {
                "owner": "Stadt",
                "rank": 1,
                "height": 6.0,
                "lit": False,
                "address": {"city": "Kaiserslautern"},
            },
        ),
        PEGEL: (
            KUSEL,
            {"owner": "Stadtwerke", "rank": 3, "height": 1.5, "address": {"city": "Kusel"}},
        ),
    }
    graphs = {
        name: make_graph(sta, name=name, at=at, properties=properties)
        for name, (at, properties) in specs.items()
    }
    features = {
        label: sta.create_id("FeaturesOfInterest", feature_body(f"Feld {label}", box(*bounds)))
        for label, bounds in (("A", BOX_A), ("B", BOX_B), ("C", BOX_C))
    }
    locations = {f"Standort {name}": graph.location for name, graph in graphs.items()}
    locations["Fußweg"] = sta.create_id("Locations", location_body("Fußweg", FOOTPATH))
    foi = {"@iot.id": features["A"]}
    observations: dict[str, int] = {}
    rows: list[tuple[str, str, str, object, Json]] = [
        (
            "o1",
            STIFT,
            "2024-05-01T10:00:00Z",
            12.5,
            {"resultTime": "2024-05-01T10:00:05Z", "parameters": {"depth": 1.5}},
        ),
        (
            "o2",
            STIFT,
            "2024-05-01T12:30:15Z",
            18.0,
            {"resultTime": "2024-05-01T12:31:00.250Z", "parameters": {"depth": 3}},
        ),
        ("o3", STIFT, "2024-05-02T08:00:00Z/2024-05-02T09:00:00Z", 21.0, {}),
        ("o4", STIFT, "2024-06-15T23:59:59Z", -3.0, {"resultTime": "2024-06-15T23:59:59Z"}),
        ("k1", PEGEL, "2024-05-01T10:00:00Z", "hoch", {"resultTime": "2024-05-01T10:00:00Z"}),
        ("k2", PEGEL, "2024-05-03T10:00:00Z", "niedrig", {"resultTime": "2024-05-03T10:00:00Z"}),
    ]
    for label, thing, when, result, extra in rows:
        observations[label] = add_observations(
            sta,
            graphs[thing].datastream,
            [(when, result)],
            FeatureOfInterest=foi,
            **extra,
        )[0]
    return City(
        things={name: graph.thing for name, graph in graphs.items()},
        locations=locations,
        datastreams={name: graph.datastream for name, graph in graphs.items()},
        observations=observations,
        features=features,
    )


@pytest.fixture
def city(sta: Sta) -> City:
    """A fresh city in the test's own tenant."""
    return build_city(sta)


def check_filters(
    sta: Sta, entity_set: str, labels: dict[str, int], cases: list[tuple[str, set[str]]]
) -> None:
    """Run each $filter; report every one whose matches differ from the expected labels."""
    by_id = {entity_id: label for label, entity_id in labels.items()}
    wrong: list[str] = []
    for expression, expected in cases:
        response = sta.get(entity_set, {"$filter": expression})
        if response.status_code != 200:
            wrong.append(f"{expression!r}: HTTP {response.status_code} {response.text[:200]}")
            continue
        found = {by_id.get(entity["@iot.id"], "?") for entity in response.json()["value"]}
        if found != expected:
            wrong.append(f"{expression!r}: expected {sorted(expected)}, got {sorted(found)}")
    assert not wrong, "\n".join(wrong)


# --- $filter ------------------------------------------------------------------------------


def test_comparison_and_logical_operators(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-filter-operations: eq ne gt ge lt le, and or not,
    parentheses (18-088 §9.3.3.5.1)."""
    check_filters(
        sta,
        "Things",
        city.things,
        [
            (f"name eq '{STADION_LAMP}'", {STADION_LAMP}),
            (f"name ne '{STADION_LAMP}'", {STIFT, PEGEL}),
            (f"name gt '{STADION_LAMP}'", {STIFT, PEGEL}),
            (f"name ge '{STIFT}'", {STIFT, PEGEL}),
            (f"name lt '{STIFT}'", {STADION_LAMP}),
            (f"name le '{STIFT}'", {STADION_LAMP, STIFT}),
            (f"name eq '{STIFT}' or name eq '{PEGEL}'", {STIFT, PEGEL}),
            (f"name ne '{STIFT}' and name ne '{PEGEL}'", {STADION_LAMP}),
            (f"not (name eq '{STIFT}')", {STADION_LAMP, PEGEL}),
            (
                f"name eq '{PEGEL}' or name eq '{STIFT}' and name eq '{STADION_LAMP}'",
                {PEGEL},
            ),
            (
                f"(name eq '{PEGEL}' or name eq '{STIFT}') and properties/rank gt 2",
                {PEGEL},
            ),
            (f"id eq {city.things[STADION_LAMP]}", {STADION_LAMP}),
        ],
    )


def test_arithmetic_operators(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-filter-operations: add sub mul div mod and unary minus."""
    check_filters(
        sta,
        "Things",
        city.things,
        [
            ("properties/rank add 1 eq 3", {STIFT}),
            ("properties/rank sub 1 eq 0", {STADION_LAMP}),
            ("properties/height mul 2 gt 10", {STADION_LAMP}),
            ("properties/height div 2 eq 3", {STADION_LAMP}),
            ("length(name) mod 2 eq 1", {STADION_LAMP, PEGEL}),
            ("-properties/rank lt -2", {PEGEL}),
            ("properties/rank add properties/height gt 6.8", {STADION_LAMP}),
        ],
    )


def test_string_functions(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: substringof endswith startswith length
    indexof substring tolower toupper trim concat (indexes are 0-based, as in OData)."""
    check_filters(
        sta,
        "Things",
        city.things,
        [
            ("substringof('Stadion', name)", {STADION_LAMP}),
            ("endswith(name, 'Kusel')", {PEGEL}),
            ("startswith(name, 'Laterne')", {STIFT, STADION_LAMP}),
            ("length(name) eq 15", {STADION_LAMP}),
            ("length(name) gt 15", {STIFT}),
            ("indexof(name, 'Stadion') eq 8", {STADION_LAMP}),
            ("substring(name, 8) eq 'Stadion'", {STADION_LAMP}),
            ("substring(name, 0, 5) eq 'Pegel'", {PEGEL}),
            ("tolower(name) eq 'laterne stadion'", {STADION_LAMP}),
            ("toupper(name) eq 'PEGEL KUSEL'", {PEGEL}),
            ("trim(concat(' ', name)) eq 'Pegel Kusel'", {PEGEL}),
            ("concat(concat(name, ', '), properties/owner) eq 'Pegel Kusel, Stadtwerke'", {PEGEL}),
        ],
    )


def test_date_and_time_functions(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: year month day hour minute second
    fractionalseconds date time totaloffsetminutes now mindatetime maxdatetime (in UTC), on
    resultTime, an instant (TM_Instant)."""
    every = set(city.observations)
    with_result_time = every - {"o3"}
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            ("year(resultTime) eq 2024 and month(resultTime) eq 6", {"o4"}),
            ("day(resultTime) eq 3", {"k2"}),
            ("hour(resultTime) eq 12 and minute(resultTime) eq 31", {"o2"}),
            ("second(resultTime) eq 5", {"o1"}),
            ("fractionalseconds(resultTime) gt 0.2", {"o2"}),
            ("date(resultTime) eq 2024-05-01", {"o1", "o2", "k1"}),
            ("time(resultTime) ge 23:00:00", {"o4"}),
            ("totaloffsetminutes(resultTime) eq 0", with_result_time),
            ("resultTime lt now()", with_result_time),
            ("resultTime gt mindatetime()", with_result_time),
            ("resultTime lt maxdatetime()", with_result_time),
            ("phenomenonTime lt now()", every),
            ("resultTime eq null", {"o3"}),
            ("resultTime ne null", with_result_time),
        ],
    )


def test_date_time_literals_with_offsets(sta: Sta, city: City) -> None:
    """/req/request-data/filter: date-time literals carry their zone; +02:00 is the same
    instant as the UTC time two hours earlier."""
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            ("phenomenonTime eq 2024-05-01T12:00:00+02:00", {"o1", "k1"}),
            ("phenomenonTime eq 2024-05-01T10:00:00Z", {"o1", "k1"}),
            ("phenomenonTime gt 2024-06-01T00:00:00-05:00", {"o4"}),
        ],
    )


def test_interval_comparisons(sta: Sta, city: City) -> None:
    """/req/request-data/filter: a phenomenonTime interval compares as a closed interval:
    before (lt) when it ends before, after (gt) when it starts after, eq when equal."""
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            ("phenomenonTime lt 2024-05-02T08:30:00Z", {"o1", "o2", "k1"}),
            ("phenomenonTime gt 2024-05-02T08:30:00Z", {"o4", "k2"}),
            ("phenomenonTime eq 2024-05-02T08:00:00Z/2024-05-02T09:00:00Z", {"o3"}),
            (
                "phenomenonTime lt 2024-05-02T09:00:01Z/2024-05-02T10:00:00Z",
                {"o1", "o2", "o3", "k1"},
            ),
            ("phenomenonTime gt 2024-05-01T00:00:00Z/2024-05-02T07:59:59Z", {"o3", "o4", "k2"}),
        ],
    )


def test_math_functions(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: round floor ceiling (half away from 0)."""
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            ("round(result) eq 13", {"o1"}),
            ("floor(result) eq 12", {"o1"}),
            ("ceiling(result) eq 13", {"o1"}),
            ("round(result) eq -3", {"o4"}),
        ],
    )


def test_result_and_parameters_filters(sta: Sta, city: City) -> None:
    """/req/request-data/filter: result compares as the type it holds (a string result never
    equals a number); parameters/... reads the JSON object."""
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            ("result gt 20", {"o3"}),
            ("result lt 0", {"o4"}),
            ("result eq 'hoch'", {"k1"}),
            ("result eq 18", {"o2"}),
            ("result eq '18'", set()),
            ("parameters/depth eq 1.5", {"o1"}),
            ("parameters/depth gt 2", {"o2"}),
        ],
    )


def test_json_property_filters(sta: Sta, city: City) -> None:
    """/req/request-data/filter: properties/owner eq 'x', nested paths, numbers, booleans;
    a missing key reads as null; a number never equals a string."""
    check_filters(
        sta,
        "Things",
        city.things,
        [
            ("properties/owner eq 'Stadtwerke'", {STIFT, PEGEL}),
            ("properties/address/city eq 'Kusel'", {PEGEL}),
            ("properties/address/street eq 'Stiftsplatz'", {STIFT}),
            ("properties/rank ge 2", {STIFT, PEGEL}),
            ("properties/height lt 5", {STIFT, PEGEL}),
            ("properties/lit eq true", {STIFT}),
            ("properties/lit eq false", {STADION_LAMP}),
            ("properties/lit eq null", {PEGEL}),
            ("properties/rank eq '2'", set()),
            ("properties/nothing eq 'x'", set()),
        ],
    )


def test_filters_across_navigation(sta: Sta, city: City) -> None:
    """/req/request-data/filter: paths through navigation properties, to one
    (Datastream/Thing/name) and to many (Datastreams/Observations/result: any)."""
    check_filters(
        sta,
        "Observations",
        city.observations,
        [
            (f"Datastream/Thing/name eq '{PEGEL}'", {"k1", "k2"}),
            ("Datastream/Thing/properties/owner eq 'Stadt'", set()),
            ("FeatureOfInterest/name eq 'Feld A'", set(city.observations)),
        ],
    )
    check_filters(
        sta,
        "Things",
        city.things,
        [
            ("Datastreams/Observations/result gt 20", {STIFT}),
            ("Datastreams/Observations/result eq 'niedrig'", {PEGEL}),
            ("Locations/name eq 'Standort Laterne Stadion'", {STADION_LAMP}),
        ],
    )
    check_filters(
        sta,
        "Datastreams",
        city.datastreams,
        [
            (f"Thing/name eq '{PEGEL}'", {PEGEL}),
            ("Thing/properties/rank lt 3", {STIFT, STADION_LAMP}),
        ],
    )


def test_geo_distance_is_in_metres(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: geo.distance (Stadtkern: metres on the
    mean-radius sphere; the Stadion is ~1.25 km from the Stiftskirche, Kusel ~28 km)."""
    here = f"geography'POINT({STIFTSKIRCHE[0]} {STIFTSKIRCHE[1]})'"
    check_filters(
        sta,
        "Locations",
        city.locations,
        [
            (f"geo.distance(location, {here}) lt 1", {f"Standort {STIFT}"}),
            (f"geo.distance(location, {here}) gt 20000", {f"Standort {PEGEL}"}),
        ],
    )
    check_filters(
        sta,
        "Things",
        city.things,
        [
            (f"geo.distance(Locations/location, {here}) lt 1", {STIFT}),
            (f"geo.distance(Locations/location, {here}) lt 2000", {STIFT, STADION_LAMP}),
            (
                f"geo.distance(Locations/location, {here}) gt 1000 "
                f"and geo.distance(Locations/location, {here}) lt 1500",
                {STADION_LAMP},
            ),
            (f"geo.distance(Locations/location, {here}) gt 20000", {PEGEL}),
            (f"geo.distance(Locations/location, {here}) gt 30000", set()),
        ],
    )


def test_geo_length_is_in_metres(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: geo.length of a LineString (metres)."""
    check_filters(
        sta,
        "Locations",
        city.locations,
        [
            ("geo.length(location) gt 700 and geo.length(location) lt 750", {"Fußweg"}),
            ("geo.length(location) gt 1", {"Fußweg"}),
        ],
    )


def test_geo_intersects_and_spatial_relations_of_locations(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: geo.intersects, st_within, st_contains,
    st_disjoint, st_equals on Locations."""
    area = f"geography'{wkt_box(7.76, 49.43, 7.78, 49.45)}'"
    stift = f"Standort {STIFT}"
    stadion = f"Standort {STADION_LAMP}"
    kusel = f"Standort {PEGEL}"
    check_filters(
        sta,
        "Locations",
        city.locations,
        [
            (f"geo.intersects(location, {area})", {stift, stadion, "Fußweg"}),
            (f"st_intersects(location, {area})", {stift, stadion, "Fußweg"}),
            (f"st_within(location, {area})", {stift, stadion, "Fußweg"}),
            (f"st_contains({area}, location)", {stift, stadion, "Fußweg"}),
            (f"st_disjoint(location, {area})", {kusel}),
            (
                f"st_equals(location, geography'POINT({STIFTSKIRCHE[0]} {STIFTSKIRCHE[1]})')",
                {stift},
            ),
        ],
    )


def test_spatial_relations_of_features(sta: Sta, city: City) -> None:
    """/req/request-data/built-in-query-functions: st_touches st_overlaps st_crosses
    st_intersects st_relate on FeaturesOfInterest polygons."""
    b = f"geography'{wkt_box(*BOX_B)}'"
    line = "geography'LINESTRING(7.71 49.43, 7.74 49.43)'"
    check_filters(
        sta,
        "FeaturesOfInterest",
        city.features,
        [
            (f"st_touches(feature, {b})", {"A"}),
            (f"st_overlaps(feature, {b})", {"C"}),
            (f"st_crosses({line}, feature)", {"C"}),
            (f"st_intersects(feature, {b})", {"A", "B", "C"}),
            (f"st_equals(feature, {b})", {"B"}),
            (f"st_relate(feature, {b}, 'T********')", {"B", "C"}),
            (f"st_within(feature, geography'{wkt_box(7.6, 49.3, 7.9, 49.5)}')", {"A", "B", "C"}),
        ],
    )


# --- $expand ------------------------------------------------------------------------------


def test_expand_collection_inline(sta: Sta, city: City) -> None:
    """/req/request-data/expand: $expand=Datastreams puts the related entities inline."""
    things = sta.values("Things", {"$expand": "Datastreams,Locations", "$orderby": "name"})
    assert [thing["name"] for thing in things] == [STADION_LAMP, STIFT, PEGEL]
    for thing in things:
        assert [ds["@iot.id"] for ds in thing["Datastreams"]] == [city.datastreams[thing["name"]]]
        assert [loc["@iot.id"] for loc in thing["Locations"]] == [
            city.locations[f"Standort {thing['name']}"]
        ]
        assert thing["Datastreams"][0]["name"] == f"Temperatur {thing['name']}"


def test_expand_slash_path_and_to_one(sta: Sta, city: City) -> None:
    """/req/request-data/expand: Datastreams/ObservedProperty expands two levels; a to-one
    navigation expands as an object."""
    thing = sta.read(f"Things({city.things[PEGEL]})", {"$expand": "Datastreams/ObservedProperty"})
    (datastream,) = thing["Datastreams"]
    assert datastream["ObservedProperty"]["name"] == f"Temperatur {PEGEL}"
    observation = sta.read(
        f"Observations({city.observations['k1']})", {"$expand": "Datastream/Thing"}
    )
    assert observation["Datastream"]["@iot.id"] == city.datastreams[PEGEL]
    assert observation["Datastream"]["Thing"]["name"] == PEGEL


def test_expand_with_its_own_options(sta: Sta, city: City) -> None:
    """/req/request-data/expand: nested $select, $filter, $orderby, $top and $expand apply to
    the expanded entities (18-088 §9.3.2.1)."""
    thing = sta.read(
        f"Things({city.things[STIFT]})",
        {
            "$select": "name",
            "$expand": (
                "Datastreams($select=name;"
                "$expand=Observations($orderby=phenomenonTime desc;$top=2;$select=result))"
            ),
        },
    )
    assert thing["name"] == STIFT
    assert "description" not in thing
    (datastream,) = thing["Datastreams"]
    assert datastream["name"] == f"Temperatur {STIFT}"
    assert "unitOfMeasurement" not in datastream
    assert [observation["result"] for observation in datastream["Observations"]] == [-3.0, 21.0]
    assert all(set(observation) == {"result"} for observation in datastream["Observations"])
    filtered = sta.read(
        f"Datastreams({city.datastreams[STIFT]})",
        {"$expand": "Observations($filter=result gt 15;$orderby=result asc)"},
    )
    assert [observation["result"] for observation in filtered["Observations"]] == [18.0, 21.0]


def test_expand_on_a_collection_with_filter(sta: Sta, city: City) -> None:
    """/req/request-data/expand: expanded collections stay per parent when filtered."""
    things = sta.values(
        "Things",
        {
            "$filter": "properties/owner eq 'Stadtwerke'",
            "$orderby": "name",
            "$expand": "Datastreams($expand=Observations($select=id;$orderby=id))",
        },
    )
    assert [thing["name"] for thing in things] == [STIFT, PEGEL]
    stift_observations = [o["@iot.id"] for o in things[0]["Datastreams"][0]["Observations"]]
    assert stift_observations == sorted(
        city.observations[label] for label in ("o1", "o2", "o3", "o4")
    )
    pegel_observations = [o["@iot.id"] for o in things[1]["Datastreams"][0]["Observations"]]
    assert pegel_observations == sorted([city.observations["k1"], city.observations["k2"]])


# --- $select ------------------------------------------------------------------------------


def test_select_returns_only_the_selected_properties(sta: Sta, city: City) -> None:
    """/req/request-data/select: only the listed properties; id as @iot.id."""
    page = sta.read("Things", {"$select": "name", "$orderby": "name"})
    assert page["value"] == [{"name": STADION_LAMP}, {"name": STIFT}, {"name": PEGEL}]
    entity = sta.read(f"Things({city.things[PEGEL]})", {"$select": "id,name,properties"})
    assert set(entity) == {"@iot.id", "name", "properties"}
    assert entity["@iot.id"] == city.things[PEGEL]
    assert entity["properties"]["address"] == {"city": "Kusel"}


def test_select_a_navigation_property_gives_its_link(sta: Sta, city: City) -> None:
    """/req/request-data/select: selecting a navigation property returns its navigationLink."""
    entity = sta.read(f"Things({city.things[PEGEL]})", {"$select": "name,Datastreams"})
    assert set(entity) == {"name", "Datastreams@iot.navigationLink"}
    assert entity["Datastreams@iot.navigationLink"] == (
        f"{sta.link('Things', city.things[PEGEL])}/Datastreams"
    )


# --- $orderby, $top, $skip, $count ----------------------------------------------------------


def _names(sta: Sta, params: dict[str, str]) -> list[str]:
    return [thing["name"] for thing in sta.read("Things", params)["value"]]


def test_orderby_one_and_several_keys(sta: Sta, city: City) -> None:
    """/req/request-data/orderby: asc (default) and desc, several keys in order, JSON paths."""
    assert _names(sta, {"$orderby": "name"}) == [STADION_LAMP, STIFT, PEGEL]
    assert _names(sta, {"$orderby": "name desc"}) == [PEGEL, STIFT, STADION_LAMP]
    assert _names(sta, {"$orderby": "properties/rank asc"}) == [STADION_LAMP, STIFT, PEGEL]
    assert _names(sta, {"$orderby": "properties/owner asc,name desc"}) == [
        STADION_LAMP,
        PEGEL,
        STIFT,
    ]
    assert _names(sta, {"$orderby": "properties/owner desc, name"}) == [
        STIFT,
        PEGEL,
        STADION_LAMP,
    ]
    results = [
        o["result"]
        for o in sta.read(
            f"Datastreams({city.datastreams[STIFT]})/Observations", {"$orderby": "result desc"}
        )["value"]
    ]
    assert results == [21.0, 18.0, 12.5, -3.0]
    times = sta.read("Observations", {"$orderby": "phenomenonTime,id", "$select": "id"})["value"]
    order = {entity_id: label for label, entity_id in city.observations.items()}
    assert [order[o["@iot.id"]] for o in times] == ["o1", "k1", "o2", "o3", "k2", "o4"]


def test_top_and_skip(sta: Sta, city: City) -> None:
    """/req/request-data/top, /req/request-data/skip."""
    assert _names(sta, {"$orderby": "name", "$top": "2"}) == [STADION_LAMP, STIFT]
    assert _names(sta, {"$orderby": "name", "$skip": "1", "$top": "1"}) == [STIFT]
    assert _names(sta, {"$orderby": "name", "$skip": "2"}) == [PEGEL]
    assert _names(sta, {"$orderby": "name", "$skip": "5"}) == []


def test_count(sta: Sta, city: City) -> None:
    """/req/request-data/count: $count=true adds @iot.count, the number of all matching
    entities regardless of $top and $skip; $count=false leaves it out."""
    page = sta.read("Things", {"$count": "true", "$top": "1"})
    assert page["@iot.count"] == 3
    assert len(page["value"]) == 1
    filtered = sta.read("Observations", {"$count": "true", "$filter": "result gt 0", "$skip": "1"})
    assert filtered["@iot.count"] == 3
    assert len(filtered["value"]) == 2
    assert "@iot.count" not in sta.read("Things", {"$count": "false"})
    navigated = sta.read(f"Datastreams({city.datastreams[STIFT]})/Observations", {"$count": "true"})
    assert navigated["@iot.count"] == 4


def test_top_zero_and_count_in_expand(sta: Sta, city: City) -> None:
    """/req/request-data/top, /req/request-data/count: $top=0 answers no entities but the
    count; $count=true inside $expand counts the expanded collection."""
    page = sta.read("Things", {"$top": "0", "$count": "true"})
    assert page["value"] == []
    assert page["@iot.count"] == 3
    datastream = sta.read(
        f"Datastreams({city.datastreams[STIFT]})",
        {"$expand": "Observations($count=true;$top=1;$orderby=phenomenonTime)"},
    )
    assert datastream["Observations@iot.count"] == 4
    assert [o["@iot.id"] for o in datastream["Observations"]] == [city.observations["o1"]]


def test_next_link_pages_through_with_the_same_options(sta: Sta, city: City) -> None:
    """/req/request-data/pagination: @iot.nextLink while more entities match; following it
    keeps $filter and $orderby; the last page has none."""
    first = sta.read(
        "Observations",
        {
            "$top": "2",
            "$orderby": "phenomenonTime desc,id",
            "$filter": "phenomenonTime gt 2024-01-01T00:00:00Z",
        },
    )
    seen = [first["value"]]
    page = first
    while "@iot.nextLink" in page:
        assert page["@iot.nextLink"].startswith(f"{sta.service_url}/Observations?")
        page = sta.read(page["@iot.nextLink"])
        seen.append(page["value"])
    assert [len(values) for values in seen] == [2, 2, 2]
    labels = {entity_id: label for label, entity_id in city.observations.items()}
    flat = [labels[o["@iot.id"]] for values in seen for o in values]
    assert flat[:2] == ["o4", "k2"]
    assert sorted(flat) == sorted(city.observations)


def _observation_rows(count: int) -> list[list[object]]:
    return [[f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z", i] for i in range(count)]


def test_default_page_size_and_server_maximum_top(sta: Sta) -> None:
    """/req/request-data/pagination: without $top a page holds 100 entities; a $top above
    the server's maximum (1000) is capped and the nextLink continues to the rest."""
    graph = make_graph(sta)
    response = sta.post(
        "CreateObservations",
        [
            {
                "Datastream": {"@iot.id": graph.datastream},
                "components": ["phenomenonTime", "result"],
                "dataArray@iot.count": 1001,
                "dataArray": _observation_rows(1001),
            }
        ],
    )
    assert response.status_code == 201, response.text
    default = sta.read("Observations")
    assert len(default["value"]) == 100
    assert "@iot.nextLink" in default
    capped = sta.read("Observations", {"$top": "1500", "$orderby": "result"})
    assert len(capped["value"]) == 1000
    assert [o["result"] for o in capped["value"][:3]] == [0, 1, 2]
    rest = sta.read(capped["@iot.nextLink"])
    assert [o["result"] for o in rest["value"]] == [1000]
    assert "@iot.nextLink" not in rest
    assert len(set(sta.ids("Observations"))) == 1001


# --- errors in query options ----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "name eq"},
        {"$filter": "name eq 'unterminated"},
        {"$filter": "colour eq 'rot'"},
        {"$filter": "nosuchfunction(name) eq 1"},
        {"$filter": "geo.distance(location, geography'POINT(7.7)') lt 1"},
        {"$orderby": "colour"},
        {"$orderby": "name sideways"},
        {"$select": "colour"},
        {"$expand": "Colours"},
        {"$expand": "Datastreams($top=abc)"},
        {"$top": "-1"},
        {"$top": "abc"},
        {"$skip": "-3"},
        {"$count": "maybe"},
        {"$resultFormat": "pdf"},
    ],
)
def test_malformed_query_options_are_400(sta: Sta, params: dict[str, str]) -> None:
    """/req/request-data/query-status-code: a query option the service cannot evaluate is
    refused with 400 Bad Request and a problem, never a 500."""
    assert_client_error(sta.get("Things", params), 400)
