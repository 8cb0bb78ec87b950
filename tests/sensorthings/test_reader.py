"""Reading SensorThings resources: entities, collections, paging, properties, $ref, $expand."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stadtkern.errors import BadRequest, NotFound
from stadtkern.sensorthings.settings import SensorThingsSettings
from tests.sensorthings.fast_reads import tokenless
from tests.sensorthings.reader_data import (
    Json,
    Query,
    Town,
    other_town,
    sta_database,
    town,
)

__all__ = ["other_town", "sta_database", "town"]  # fixtures used by the tests below


def ids(page: Json) -> list[int]:
    """The @iot.ids of a page's entities, in order."""
    return [entity["@iot.id"] for entity in page["value"]]


def selects(statements: list[str]) -> int:
    """How many of the statements were queries."""
    return sum(statement.lstrip().upper().startswith("SELECT") for statement in statements)


# --- entities -------------------------------------------------------------------------------


def test_thing_shows_every_field_and_navigation_link(town: Town) -> None:
    thing = town.link("Things", "T1")
    assert town.json(f"Things({town.ids['T1']})") == {
        "@iot.id": town.ids["T1"],
        "@iot.selfLink": thing,
        "name": "Laterne 1",
        "description": "Laterne 1 am Markt",
        "properties": {"owner": "Stadtwerke"},
        "Locations@iot.navigationLink": f"{thing}/Locations",
        "HistoricalLocations@iot.navigationLink": f"{thing}/HistoricalLocations",
        "Datastreams@iot.navigationLink": f"{thing}/Datastreams",
        "MultiDatastreams@iot.navigationLink": f"{thing}/MultiDatastreams",
        "TaskingCapabilities@iot.navigationLink": f"{thing}/TaskingCapabilities",
    }
    assert town.get(f"Things({town.ids['T1']})").media_type == "application/json"


def test_observation_fields_render_by_kind(town: Town) -> None:
    observation = town.link("Observations", "O9")
    assert town.json(f"Observations({town.ids['O9']})") == {
        "@iot.id": town.ids["O9"],
        "@iot.selfLink": observation,
        "phenomenonTime": "2026-12-01T10:30:00Z/2026-12-01T10:45:00Z",
        "resultTime": None,
        "result": 3.5,
        "resultQuality": {"Güte": "geprüft"},
        "validTime": "2026-12-01T10:30:00Z/2026-12-01T11:30:00Z",
        "parameters": {"Messung": "manuell"},
        "Datastream@iot.navigationLink": f"{observation}/Datastream",
        "MultiDatastream@iot.navigationLink": f"{observation}/MultiDatastream",
        "FeatureOfInterest@iot.navigationLink": f"{observation}/FeatureOfInterest",
    }


def test_results_of_every_type_come_back_as_stored(town: Town) -> None:
    page = town.json(
        f"Datastreams({town.ids['D1']})/Observations", [("$select", "result,resultTime")]
    )
    assert page == {
        "value": [
            {"result": 20.5, "resultTime": "2026-12-01T10:00:05Z"},
            {"result": 21, "resultTime": "2026-12-01T10:01:05Z"},
            {"result": "warm", "resultTime": "2026-12-01T10:02:05Z"},
            {"result": True, "resultTime": "2026-12-01T10:03:05Z"},
            {"result": {"min": 19, "max": 23}, "resultTime": "2026-12-01T10:04:05Z"},
        ]
    }
    assert type(page["value"][1]["result"]) is int
    multi = town.json(f"MultiDatastreams({town.ids['M1']})/Observations", [("$select", "result")])
    assert multi == {"value": [{"result": [60, 4.5]}, {"result": [61, 4.0]}]}


def test_datastream_times_and_observed_area(town: Town) -> None:
    query = [("$select", "phenomenonTime,resultTime,observedArea")]
    assert town.json(f"Datastreams({town.ids['D3']})", query) == {
        "phenomenonTime": "2026-12-01T10:30:00Z/2026-12-01T10:45:00Z",
        "resultTime": None,
        "observedArea": {
            "type": "Polygon",
            "coordinates": [[[7.768, 49.436], [7.769, 49.436], [7.769, 49.437], [7.768, 49.436]]],
        },
    }


def test_times_keep_milli_and_microseconds(town: Town) -> None:
    historical = town.json(f"HistoricalLocations({town.ids['H1']})/time")
    assert historical == {"time": "2026-12-01T09:00:00.120001Z"}
    observation = town.json(f"Observations({town.ids['O6']})/phenomenonTime")
    assert observation == {"phenomenonTime": "2026-12-01T10:00:00.250Z"}


# --- collections and paging -----------------------------------------------------------------


def test_pages_follow_the_next_link_to_the_end(town: Town) -> None:
    first = town.json("Observations", [("$top", "4"), ("$select", "id")])
    observations = [town.ids[key] for key in ("O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8")]
    assert tokenless(first) == {
        "@iot.nextLink": f"{town.base}/Observations?$select=id&$top=4&$skiptoken=…",
        "value": [{"@iot.id": entity} for entity in observations[:4]],
    }
    second = town.follow(first["@iot.nextLink"])
    assert ids(second) == observations[4:]
    assert tokenless(second)["@iot.nextLink"] == (
        f"{town.base}/Observations?$select=id&$top=4&$skiptoken=…"
    )
    last = town.follow(second["@iot.nextLink"])
    assert ids(last) == [town.ids[key] for key in ("O9", "Q1", "Q2")]
    assert "@iot.nextLink" not in last


def test_next_link_keeps_other_parameters_and_encodes_them(town: Town) -> None:
    query = [
        ("$filter", "name eq 'Laterne 1' or name eq 'Laterne 2'"),
        ("$top", "1"),
        ("tag", "a&b=c #1"),
    ]
    page = town.json("Things", query)
    assert ids(page) == [town.ids["T1"]]
    assert tokenless(page)["@iot.nextLink"] == (
        f"{town.base}/Things?$filter=name%20eq%20'Laterne%201'%20or%20name%20eq%20'Laterne%202'"
        "&tag=a%26b=c%20%231&$top=1&$skiptoken=…"
    )
    rest = town.follow(page["@iot.nextLink"])
    assert ids(rest) == [town.ids["T2"]]
    assert "@iot.nextLink" not in rest


def test_count_is_the_size_of_the_filtered_collection(town: Town) -> None:
    query = [
        ("$filter", "phenomenonTime lt 2026-12-01T10:02:00Z"),
        ("$count", "true"),
        ("$top", "2"),
        ("$select", "id"),
    ]
    page = town.json("Observations", query)
    assert page["@iot.count"] == 6
    assert ids(page) == [town.ids["O1"], town.ids["O2"]]
    assert "@iot.count" not in town.json("Things")
    empty = town.json("Things", [("$filter", "name eq 'Rathaus'"), ("$count", "true")])
    assert empty == {"@iot.count": 0, "value": []}


def test_orderby_with_id_as_the_tie_breaker(town: Town) -> None:
    latest = town.json("Observations", [("$orderby", "phenomenonTime desc"), ("$top", "3")])
    assert ids(latest) == [town.ids["O9"], town.ids["O5"], town.ids["O4"]]
    by_result_time = town.json("Observations", [("$orderby", "resultTime"), ("$select", "id")])
    unset = ["O6", "O7", "O8", "O9", "Q1", "Q2"]
    assert ids(by_result_time) == [town.ids[key] for key in [*unset, "O1", "O2", "O3", "O4", "O5"]]


def test_top_has_a_default_and_a_cap(town: Town) -> None:
    small = replace(town, settings=SensorThingsSettings(default_top=2, max_top=3))
    page = small.json("Things", [("$select", "id")])
    assert ids(page) == [town.ids["T1"], town.ids["T2"]]
    assert tokenless(page)["@iot.nextLink"] == f"{town.base}/Things?$select=id&$top=2&$skiptoken=…"
    capped = small.json("Observations", [("$top", "10"), ("$select", "id")])
    assert len(capped["value"]) == 3
    assert tokenless(capped)["@iot.nextLink"] == (
        f"{town.base}/Observations?$select=id&$top=3&$skiptoken=…"
    )
    assert town.json("Things", [("$top", "0")]) == {"value": []}


# --- navigation, properties, $ref -----------------------------------------------------------


def test_navigation_collections_hold_only_related_entities(town: Town) -> None:
    t1, t2 = town.ids["T1"], town.ids["T2"]
    assert ids(town.json(f"Things({t1})/Datastreams")) == [town.ids["D1"], town.ids["D2"]]
    assert ids(town.json(f"Things({t2})/Locations")) == [town.ids["L1"], town.ids["L2"]]
    assert ids(town.json(f"Locations({town.ids['L1']})/Things")) == [t1, t2]
    assert ids(town.json(f"Things({town.ids['T3']})/Datastreams")) == []
    feuchte = town.json(
        f"Things({t1})/Datastreams", [("$filter", "name eq 'Feuchte 1'"), ("$count", "true")]
    )
    assert feuchte["@iot.count"] == 1
    assert ids(feuchte) == [town.ids["D2"]]
    deep = town.json(f"Observations({town.ids['O1']})/Datastream/Thing/Locations")
    assert ids(deep) == [town.ids["L1"]]


def test_filter_reaches_through_an_association_table(town: Town) -> None:
    query = [("$filter", "Locations/name eq 'Bahnhof'"), ("$select", "id")]
    assert ids(town.json("Things", query)) == [town.ids["T2"]]
    nested = "Things($filter=Locations/name eq 'Bahnhof';$select=id)"
    assert town.json("Locations", [("$select", "id"), ("$expand", nested)]) == {
        "value": [
            {"@iot.id": town.ids["L1"], "Things": [{"@iot.id": town.ids["T2"]}]},
            {"@iot.id": town.ids["L2"], "Things": [{"@iot.id": town.ids["T2"]}]},
        ]
    }


def test_to_one_navigation_is_an_entity(town: Town) -> None:
    thing = town.json(f"Datastreams({town.ids['D3']})/Thing", [("$select", "id,name")])
    assert thing == {"@iot.id": town.ids["T2"], "name": "Laterne 2"}


def test_observed_properties_of_a_multi_datastream_follow_the_positions(town: Town) -> None:
    path = f"MultiDatastreams({town.ids['M1']})/ObservedProperties"
    assert town.json(path, [("$select", "name")]) == {
        "value": [{"name": "Feuchte"}, {"name": "Temperatur"}]
    }
    by_name = town.json(path, [("$select", "name"), ("$orderby", "name desc")])
    assert by_name == {"value": [{"name": "Temperatur"}, {"name": "Feuchte"}]}


def test_property_paths(town: Town) -> None:
    thing = f"Things({town.ids['T1']})"
    assert town.json(f"{thing}/name") == {"name": "Laterne 1"}
    assert town.json(f"{thing}/properties") == {"properties": {"owner": "Stadtwerke"}}
    assert town.json(f"{thing}/id") == {"@iot.id": town.ids["T1"]}
    assert town.json(f"Locations({town.ids['L1']})/location") == {
        "location": {"type": "Point", "coordinates": [7.7689, 49.4447]}
    }
    assert town.json(f"Observations({town.ids['O9']})/resultTime") == {"resultTime": None}
    assert town.json(f"Datastreams({town.ids['D3']})/Thing/name") == {"name": "Laterne 2"}


@pytest.mark.parametrize(
    ("key", "path", "text"),
    [
        ("T1", "Things({})/name/$value", "Laterne 1"),
        ("T1", "Things({})/properties/$value", '{"owner":"Stadtwerke"}'),
        ("O1", "Observations({})/result/$value", "20.5"),
        ("O2", "Observations({})/result/$value", "21"),
        ("O4", "Observations({})/result/$value", "true"),
        ("O5", "Observations({})/result/$value", '{"min":19,"max":23}'),
        ("O1", "Observations({})/phenomenonTime/$value", "2026-12-01T10:00:00Z"),
        ("D3", "Datastreams({})/Thing/name/$value", "Laterne 2"),
    ],
)
def test_value_paths_answer_raw_text(town: Town, key: str, path: str, text: str) -> None:
    document = town.get(path.format(town.ids[key]))
    assert (document.body, document.media_type) == (text, "text/plain")


def test_value_of_id_and_of_null(town: Town) -> None:
    assert town.get(f"Things({town.ids['T2']})/id/$value").body == str(town.ids["T2"])
    assert town.get(f"Observations({town.ids['O9']})/resultTime/$value").body is None


def test_ref_of_a_collection_and_of_an_entity(town: Town) -> None:
    refs = town.json(f"Things({town.ids['T1']})/Datastreams/$ref")
    assert refs == {
        "value": [
            {"@iot.selfLink": town.link("Datastreams", "D1")},
            {"@iot.selfLink": town.link("Datastreams", "D2")},
        ]
    }
    one = town.json(f"Datastreams({town.ids['D1']})/Thing/$ref")
    assert one == {"@iot.selfLink": town.link("Things", "T1")}
    paged = town.json(
        "Observations/$ref", [("$top", "2"), ("$count", "true"), ("$orderby", "id desc")]
    )
    assert tokenless(paged) == {
        "@iot.count": 11,
        "@iot.nextLink": f"{town.base}/Observations/$ref?$count=true&$orderby=id%20desc"
        "&$top=2&$skiptoken=…",
        "value": [
            {"@iot.selfLink": town.link("Observations", "Q2")},
            {"@iot.selfLink": town.link("Observations", "Q1")},
        ],
    }


# --- $select --------------------------------------------------------------------------------


def test_select_keeps_only_the_named_members(town: Town) -> None:
    page = town.json("Things", [("$select", "id,name,Datastreams"), ("$top", "1")])
    assert tokenless(page) == {
        "@iot.nextLink": f"{town.base}/Things?$select=id,name,Datastreams&$top=1&$skiptoken=…",
        "value": [
            {
                "@iot.id": town.ids["T1"],
                "name": "Laterne 1",
                "Datastreams@iot.navigationLink": f"{town.link('Things', 'T1')}/Datastreams",
            }
        ],
    }
    named = town.json(f"Things({town.ids['T3']})", [("$select", "name,name")])
    assert named == {"name": "Pegel Fackelwoog"}


# --- $expand --------------------------------------------------------------------------------

NESTED = (
    "Datastreams($select=name;$orderby=name desc;$count=true;"
    "$expand=Observations($select=id,result;$orderby=phenomenonTime desc;$top=2;$count=true))"
)


def test_nested_expand_with_per_parent_top_orderby_and_count(town: Town) -> None:
    query = [("$filter", "name eq 'Laterne 1'"), ("$select", "name"), ("$expand", NESTED)]
    link_query = "$select=id,result&$orderby=phenomenonTime%20desc&$count=true&$top=2&$skip=2"
    d1, d2 = town.link("Datastreams", "D1"), town.link("Datastreams", "D2")
    expected = {
        "name": "Laterne 1",
        "Datastreams@iot.count": 2,
        "Datastreams": [
            {
                "name": "Temperatur 1",
                "Observations@iot.count": 5,
                "Observations": [
                    {"@iot.id": town.ids["O5"], "result": {"min": 19, "max": 23}},
                    {"@iot.id": town.ids["O4"], "result": True},
                ],
                "Observations@iot.nextLink": f"{d1}/Observations?{link_query}",
            },
            {
                "name": "Feuchte 1",
                "Observations@iot.count": 3,
                "Observations": [
                    {"@iot.id": town.ids["O8"], "result": 57.0},
                    {"@iot.id": town.ids["O7"], "result": 56.5},
                ],
                "Observations@iot.nextLink": f"{d2}/Observations?{link_query}",
            },
        ],
    }
    assert town.json("Things", query) == {"value": [expected]}
    more = town.follow(expected["Datastreams"][0]["Observations@iot.nextLink"])  # type: ignore[index]
    assert tokenless(more) == {
        "@iot.count": 5,
        "@iot.nextLink": f"{d1}/Observations?{link_query.replace('$skip=2', '$skiptoken=…')}",
        "value": [
            {"@iot.id": town.ids["O3"], "result": "warm"},
            {"@iot.id": town.ids["O2"], "result": 21},
        ],
    }


def test_expanded_skip_still_counts_every_related_entity(town: Town) -> None:
    query = [("$select", "id"), ("$expand", "Datastreams($skip=1;$count=true;$select=id)")]
    assert town.json("Things", query) == {
        "value": [
            {
                "@iot.id": town.ids["T1"],
                "Datastreams@iot.count": 2,
                "Datastreams": [{"@iot.id": town.ids["D2"]}],
            },
            {"@iot.id": town.ids["T2"], "Datastreams@iot.count": 1, "Datastreams": []},
            {"@iot.id": town.ids["T3"], "Datastreams@iot.count": 0, "Datastreams": []},
        ]
    }


def test_expanded_filter_applies_per_parent(town: Town) -> None:
    query = [("$select", "id"), ("$expand", "Datastreams($filter=name eq 'Feuchte 1';$select=id)")]
    assert town.json("Things", query) == {
        "value": [
            {"@iot.id": town.ids["T1"], "Datastreams": [{"@iot.id": town.ids["D2"]}]},
            {"@iot.id": town.ids["T2"], "Datastreams": []},
            {"@iot.id": town.ids["T3"], "Datastreams": []},
        ]
    }


def test_expanded_to_one_navigation_is_an_object_or_left_out(town: Town) -> None:
    expand = "Datastream($select=name;$expand=Thing($select=name),Sensor($select=name))"
    observation = town.json(
        f"Observations({town.ids['O9']})", [("$select", "id"), ("$expand", expand)]
    )
    assert observation == {
        "@iot.id": town.ids["O9"],
        "Datastream": {
            "name": "Temperatur 2",
            "Thing": {"name": "Laterne 2"},
            "Sensor": {"name": "SHT31"},
        },
    }
    query = [
        ("$filter", f"id eq {town.ids['Q1']}"),
        ("$select", "id"),
        ("$expand", "Datastream,MultiDatastream($select=name)"),
    ]
    assert town.json("Observations", query) == {
        "value": [{"@iot.id": town.ids["Q1"], "MultiDatastream": {"name": "Klima 2"}}]
    }


def test_expand_paths_merge_into_one_navigation(town: Town) -> None:
    expand = "Datastreams/Observations($top=1;$select=id),Datastreams($select=name;$top=1)"
    thing = town.json(f"Things({town.ids['T1']})", [("$select", "id"), ("$expand", expand)])
    d1, t1 = town.link("Datastreams", "D1"), town.link("Things", "T1")
    assert thing == {
        "@iot.id": town.ids["T1"],
        "Datastreams": [
            {
                "name": "Temperatur 1",
                "Observations": [{"@iot.id": town.ids["O1"]}],
                "Observations@iot.nextLink": f"{d1}/Observations?$select=id&$top=1&$skip=1",
            }
        ],
        "Datastreams@iot.nextLink": (
            f"{t1}/Datastreams?$select=name&$expand=Observations($top=1;$select=id)&$top=1&$skip=1"
        ),
    }
    rest = town.follow(thing["Datastreams@iot.nextLink"])
    d2 = town.link("Datastreams", "D2")
    assert rest == {
        "value": [
            {
                "name": "Feuchte 1",
                "Observations": [{"@iot.id": town.ids["O6"]}],
                "Observations@iot.nextLink": f"{d2}/Observations?$select=id&$top=1&$skip=1",
            }
        ]
    }


def test_expand_through_an_association_table(town: Town) -> None:
    query = [("$select", "id"), ("$expand", "Things($select=id;$top=1)")]
    l1 = town.link("Locations", "L1")
    assert town.json("Locations", query) == {
        "value": [
            {
                "@iot.id": town.ids["L1"],
                "Things": [{"@iot.id": town.ids["T1"]}],
                "Things@iot.nextLink": f"{l1}/Things?$select=id&$top=1&$skip=1",
            },
            {"@iot.id": town.ids["L2"], "Things": [{"@iot.id": town.ids["T2"]}]},
        ]
    }
    named = town.json(
        f"Things({town.ids['T2']})",
        [("$select", "name"), ("$expand", "Locations($select=name;$orderby=name)")],
    )
    assert named == {
        "name": "Laterne 2",
        "Locations": [{"name": "Bahnhof"}, {"name": "Stiftskirche"}],
    }


def test_expanded_observed_properties_follow_the_positions(town: Town) -> None:
    query = [("$select", "id"), ("$expand", "ObservedProperties($select=name)")]
    assert town.json(f"MultiDatastreams({town.ids['M1']})", query) == {
        "@iot.id": town.ids["M1"],
        "ObservedProperties": [{"name": "Feuchte"}, {"name": "Temperatur"}],
    }


def test_expanded_observed_area_is_geojson(town: Town) -> None:
    query = [("$select", "id"), ("$expand", "Datastreams($select=observedArea)")]
    thing = town.json(f"Things({town.ids['T2']})", query)
    assert thing["Datastreams"][0]["observedArea"]["type"] == "Polygon"


def test_two_expand_levels_take_one_query_each(town: Town) -> None:
    query = [("$count", "true"), ("$expand", "Datastreams($expand=Observations)")]
    with town.statements() as statements:
        page = town.json("Things", query)
    assert selects(statements) == 4  # count, page, Datastreams, Observations
    assert sum(len(thing["Datastreams"]) for thing in page["value"]) == 3
    with town.statements() as statements:
        town.json("Observations", [("$expand", "Datastream($expand=Thing),FeatureOfInterest")])
    assert selects(statements) == 4  # page, Datastreams, Things, FeaturesOfInterest


def test_expand_depth_is_limited(town: Town) -> None:
    shallow = replace(town, settings=SensorThingsSettings(max_expand_depth=2))
    thing = f"Things({town.ids['T1']})"
    shallow.json(thing, [("$expand", "Datastreams/Observations")])
    with pytest.raises(BadRequest, match="deeper than 2"):
        shallow.json(thing, [("$expand", "Datastreams/Observations/FeatureOfInterest")])
    with pytest.raises(BadRequest, match="deeper than 2"):
        shallow.json(thing, [("$expand", "Datastreams($expand=Sensor($expand=Datastreams))")])


# --- errors ---------------------------------------------------------------------------------


def test_ids_of_another_town_are_not_found(town: Town, other_town: Town) -> None:
    for path in (
        f"Things({town.ids['T1']})",
        f"Things({town.ids['T1']})/Datastreams",
        f"Things({town.ids['T1']})/name/$value",
        f"Things({town.ids['T1']})/Datastreams/$ref",
        f"Datastreams({town.ids['D1']})/Thing",
        f"Observations({town.ids['O1']})",
        f"Locations({town.ids['L1']})/Things",
    ):
        with pytest.raises(NotFound):
            other_town.get(path)
    things = other_town.json("Things", [("$select", "id"), ("$expand", "Datastreams")])
    assert things == {"value": [{"@iot.id": other_town.ids["T1"], "Datastreams": []}]}
    assert other_town.json("Observations") == {"value": []}


def test_unknown_ids_are_not_found(town: Town) -> None:
    for path in ("Things(987654321)", "Things(987654321)/Datastreams", "Sensors(987654321)/id"):
        with pytest.raises(NotFound):
            town.get(path)


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("Things", [("$filter", "name gt 5")], r"^\$filter: cannot compare string with integer"),
        ("Things", [("$orderby", "Datastreams/name")], "to-many"),
        ("Things", [("$select", "colour")], r"^\$select: Thing has no property 'colour'"),
        ("Things", [("$select", "properties/owner")], "only properties"),
        ("Things", [("$expand", "Sensors")], "no navigation property 'Sensors'"),
        (
            "Things",
            [("$expand", "Datastreams($filter=colour eq 1)")],
            r"^\$expand: \$filter: .*'colour' at position 20",
        ),
        ("Things", [("$expand", "Datastreams($top=1),Datastreams($top=2)")], "twice"),
        (
            "Things",
            [("$expand", "Datastreams($select=colour)")],
            r"^\$expand: \$select: Datastream has no property 'colour' at position 20",
        ),
    ],
)
def test_options_that_cannot_apply_are_bad_requests(
    town: Town, path: str, query: Query, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        town.get(path, query)
