"""The SensorThings writer on both backends: deep insert, links, side effects, updates, deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from stadtkern.db import Database, migrations
from stadtkern.errors import BadRequest, NotFound
from stadtkern.modules import StadtkernModule, discover_modules
from stadtkern.sensorthings import module as sensorthings_module
from stadtkern.sensorthings.catalogue import (
    HISTORICAL_LOCATION_LOCATION,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
    THING_LOCATION,
)
from stadtkern.sensorthings.json_patch import PatchTestFailed
from stadtkern.sensorthings.models import ResultType
from stadtkern.sensorthings.results import result_value
from tests.sensorthings.writer_support import (
    HAUPTBAHNHOF,
    NOW,
    OM_COMPLEX,
    STIFTSKIRCHE,
    Json,
    Sta,
    datastream,
    location,
    make_sta_tenant,
    observed_property,
    sensor,
)


@pytest.fixture(scope="module")
def sta_database(database: Database) -> Database:
    """The shared database with the SensorThings tables."""
    installed = list(discover_modules(None))
    if all(module.name != "sensorthings" for module in installed):
        installed.append(cast("StadtkernModule", sensorthings_module))  # not an entry point yet
    migrations.upgrade(database, installed)
    return database


@pytest.fixture
def sta(sta_database: Database) -> Sta:
    """Writer calls for a fresh tenant."""
    return Sta(sta_database, make_sta_tenant(sta_database))


def _thing(name: str = "Laterne 1", **extra: Any) -> Json:
    return {"name": name, "description": f"{name} in der Altstadt", **extra}


def _graph(sta: Sta) -> tuple[int, int]:
    """A Thing at the Stiftskirche with one Datastream; (thing, datastream)."""
    thing = sta.create_id("Things", _thing(Locations=[location()]))
    stream = sta.create_id(
        f"Things({thing})/Datastreams",
        datastream(Sensor=sensor(), ObservedProperty=observed_property()),
    )
    return thing, stream


def _observe(sta: Sta, stream: int, when: str, result: Any = 1.5, **extra: Any) -> int:
    body = {"phenomenonTime": when, "result": result, **extra}
    return sta.create_id(f"Datastreams({stream})/Observations", body)


def _deep_thing(observation: Json) -> Json:
    return _thing(
        Locations=[location()],
        Datastreams=[
            datastream(
                Sensor=sensor(),
                ObservedProperty=observed_property(),
                Observations=[
                    {"phenomenonTime": "2026-11-30T08:00:00+01:00", "result": 4},
                    observation,
                ],
            )
        ],
    )


# --- deep insert ---------------------------------------------------------------------------


def test_deep_insert_creates_and_links_everything(sta: Sta) -> None:
    written = sta.create("Things", _deep_thing({"result": 5}))
    assert sta.counts() == {
        "Thing": 1,
        "Location": 1,
        "HistoricalLocation": 1,
        "Sensor": 1,
        "ObservedProperty": 1,
        "Datastream": 1,
        "MultiDatastream": 0,
        "Observation": 2,
        "FeatureOfInterest": 1,
        "TaskingCapability": 0,
        "Actuator": 0,
        "Task": 0,
    }
    created = {(c.entity.name, c.operation) for c in written.changes}
    assert ("Datastream", "create") in created
    assert ("HistoricalLocation", "create") in created
    assert len([c for c in written.changes if c.entity.name == "Observation"]) == 2
    (stream,) = sta.ids("Datastream")
    assert sta.row("Datastream", stream)["thing_id"] == written.id
    assert all(c.operation == "create" for c in written.changes)


def test_one_invalid_nested_entity_creates_nothing(sta: Sta) -> None:
    _graph(sta)
    before = sta.counts()
    with pytest.raises(BadRequest, match="result"):
        sta.create("Things", _deep_thing({"phenomenonTime": "2026-11-30T09:00:00Z"}))
    with pytest.raises(BadRequest, match="no properties 'colour'"):
        sta.create("Things", _deep_thing({"result": 1, "colour": "red"}))
    assert sta.counts() == before


def test_top_level_id_is_ignored(sta: Sta) -> None:
    created = sta.create_id("Things", {**_thing(), "@iot.id": 987654})
    assert created != 987654


def test_link_by_id_and_unknown_or_foreign_ids(sta: Sta, sta_database: Database) -> None:
    thing, _ = _graph(sta)
    sensor_id = sta.create_id("Sensors", sensor("Zweiter"))
    prop = sta.create_id("ObservedProperties", observed_property("Feuchte"))
    links = {"Thing": {"@iot.id": thing}, "Sensor": {"@iot.id": sensor_id}}
    stream = sta.create_id("Datastreams", datastream(ObservedProperty={"@iot.id": prop}, **links))
    assert sta.row("Datastream", stream)["sensor_id"] == sensor_id
    other = Sta(sta_database, make_sta_tenant(sta_database))
    with pytest.raises(BadRequest, match=f"no Thing with @iot.id {thing}"):
        other.create_id("Datastreams", datastream(ObservedProperty=observed_property(), **links))
    with pytest.raises(BadRequest, match="no Sensor"):
        sta.create_id(
            "Datastreams",
            datastream(
                Thing={"@iot.id": thing},
                Sensor={"@iot.id": 987654321},
                ObservedProperty={"@iot.id": prop},
            ),
        )
    with pytest.raises(BadRequest, match="no other members"):
        sta.create_id("Things", _thing(Locations=[{"@iot.id": 1, "name": "x"}]))
    assert other.counts()["Datastream"] == 0


def test_post_to_a_foreign_or_unknown_parent_is_404(sta: Sta, sta_database: Database) -> None:
    thing, stream = _graph(sta)
    other = Sta(sta_database, make_sta_tenant(sta_database))
    with pytest.raises(NotFound):
        other.create(f"Things({thing})/Datastreams", datastream())
    with pytest.raises(NotFound):
        other.create(f"Datastreams({stream})/Observations", {"result": 1})
    with pytest.raises(BadRequest, match="collection"):
        sta.create(f"Things({thing})", _thing())


@pytest.mark.parametrize(
    ("entity_set", "body", "message"),
    [
        ("Datastreams", datastream(Sensor=sensor(), ObservedProperty=observed_property()), "Thing"),
        ("Datastreams", datastream(Thing=_thing(), ObservedProperty=observed_property()), "Sensor"),
        ("Datastreams", datastream(Thing=_thing(), Sensor=sensor()), "ObservedProperty"),
        ("Observations", {"result": 1}, "exactly one of Datastream and MultiDatastream"),
        ("HistoricalLocations", {"time": "2026-01-01T00:00:00Z"}, "Thing"),
        (
            "TaskingCapabilities",
            {"name": "t", "description": "", "taskingParameters": {}, "Thing": _thing()},
            "Actuator",
        ),
        ("Tasks", {"taskingParameters": {"signal": "test"}}, "TaskingCapability"),
    ],
)
def test_required_links(sta: Sta, entity_set: str, body: Json, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        sta.create(entity_set, body)
    assert sta.count("Thing") == 0


def test_observation_with_both_streams_is_refused(sta: Sta) -> None:
    _, stream = _graph(sta)
    multi = _multi_datastream(sta)
    body = {
        "result": [1, 2],
        "Datastream": {"@iot.id": stream},
        "MultiDatastream": {"@iot.id": multi},
    }
    with pytest.raises(BadRequest, match="exactly one"):
        sta.create("Observations", body)


def _multi_body(**extra: Any) -> Json:
    return {
        "name": "Wetter",
        "description": "Temperatur und Feuchte",
        "observationType": OM_COMPLEX,
        "unitOfMeasurements": [
            {"name": "Grad", "symbol": "°C", "definition": "x"},
            {"name": "Prozent", "symbol": "%", "definition": "y"},
        ],
        "multiObservationDataTypes": ["OM_Measurement", "OM_Measurement"],
        "Thing": _thing(Locations=[location()]),
        "Sensor": sensor(),
        "ObservedProperties": [observed_property("T"), observed_property("H")],
        **extra,
    }


def _multi_datastream(sta: Sta) -> int:
    return sta.create_id("MultiDatastreams", _multi_body())


def test_multi_datastream_keeps_the_order_of_its_properties(sta: Sta) -> None:
    multi = _multi_datastream(sta)
    table = MULTI_DATASTREAM_OBSERVED_PROPERTY
    props = sta.linked(table, "multi_datastream_id", multi, "observed_property_id")
    names = [sta.row("ObservedProperty", p)["name"] for p in props]
    assert names == ["T", "H"]
    observation = sta.create_id(f"MultiDatastreams({multi})/Observations", {"result": [20.5, 61]})
    assert result_value(sta.row("Observation", observation)) == [20.5, 61]
    with pytest.raises(BadRequest, match="2 ObservedProperties but the result has 3"):
        sta.create(f"MultiDatastreams({multi})/Observations", {"result": [1, 2, 3]})
    with pytest.raises(BadRequest, match="array"):
        sta.create(f"MultiDatastreams({multi})/Observations", {"result": 1})


@pytest.mark.parametrize(
    "change",
    [
        {"observationType": "OM_Measurement"},
        {"multiObservationDataTypes": ["OM_Measurement"]},
        {"ObservedProperties": [observed_property("T")]},
        {"unitOfMeasurements": [{"name": "a"}, "b"]},
    ],
)
def test_multi_datastream_rules(sta: Sta, change: Json) -> None:
    with pytest.raises(BadRequest, match="MultiDatastream"):
        sta.create("MultiDatastreams", _multi_body(**change))
    assert sta.count("ObservedProperty") == 0


def test_task_creation_time_is_the_servers(sta: Sta) -> None:
    capability = sta.create_id(
        "TaskingCapabilities",
        {
            "name": "Sirene",
            "description": "Warnung",
            "taskingParameters": {"type": "DataRecord", "field": []},
            "Thing": _thing(),
            "Actuator": {**sensor("Sirene"), "metadata": {"model": "E57"}},
        },
    )
    task = sta.create_id(
        f"TaskingCapabilities({capability})/Tasks",
        {"taskingParameters": {"signal": "test"}, "creationTime": "2000-01-01T00:00:00Z"},
    )
    assert sta.row("Task", task)["creation_time"] == NOW


# --- observations: feature of interest, times, results ------------------------------------


def test_feature_of_interest_is_generated_once_per_location(sta: Sta) -> None:
    thing, stream = _graph(sta)
    first = _observe(sta, stream, "2026-11-30T10:00:00Z")
    second = _observe(sta, stream, "2026-11-30T11:00:00Z")
    feature = sta.row("Observation", first)["feature_of_interest_id"]
    assert sta.row("Observation", second)["feature_of_interest_id"] == feature
    (place,) = sta.ids("Location")
    row = sta.row("FeatureOfInterest", feature)
    assert row["source_location_id"] == place
    assert row["feature_json"] == STIFTSKIRCHE
    assert row["encoding_type"] == "application/geo+json"
    assert row["name"] == "Stiftskirche"
    sta.update(f"Locations({place})", {"location": HAUPTBAHNHOF})
    third = _observe(sta, stream, "2026-11-30T12:00:00Z")
    moved = sta.row("Observation", third)["feature_of_interest_id"]
    assert moved != feature
    assert sta.row("FeatureOfInterest", moved)["feature_json"] == HAUPTBAHNHOF
    del thing


def test_given_feature_is_used_and_thing_without_location_is_refused(sta: Sta) -> None:
    stream = sta.create_id(
        "Datastreams",
        datastream(Thing=_thing(), Sensor=sensor(), ObservedProperty=observed_property()),
    )
    with pytest.raises(BadRequest, match="has no Location"):
        sta.create(f"Datastreams({stream})/Observations", {"result": 1})
    feature = {
        "name": "Ufer",
        "description": "",
        "encodingType": "application/vnd.geo+json",
        "feature": {"type": "Feature", "geometry": STIFTSKIRCHE, "properties": {}},
    }
    observation = _observe(sta, stream, "2026-11-30T10:00:00Z", FeatureOfInterest=feature)
    assert sta.count("FeatureOfInterest") == 1
    assert (
        sta.row("Observation", observation)["feature_of_interest_id"]
        == sta.ids("FeatureOfInterest")[0]
    )


def test_phenomenon_time_defaults_to_now(sta: Sta) -> None:
    _, stream = _graph(sta)
    observation = sta.create_id(f"Datastreams({stream})/Observations", {"result": 2})
    row = sta.row("Observation", observation)
    assert row["phenomenon_time_start"] == NOW
    assert row["phenomenon_time_end"] is None
    assert row["result_time"] is None


def _times(sta: Sta, stream: int) -> tuple[Any, ...]:
    row = sta.row("Datastream", stream)
    return (
        row["phenomenon_time_start"],
        row["phenomenon_time_end"],
        row["result_time_start"],
        row["result_time_end"],
    )


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 30, hour, minute, tzinfo=UTC)


def test_datastream_times_widen_and_shrink(sta: Sta) -> None:
    _, stream = _graph(sta)
    assert _times(sta, stream) == (None, None, None, None)
    first = _observe(sta, stream, "2026-11-30T10:00:00Z", resultTime="2026-11-30T10:05:00Z")
    _observe(sta, stream, "2026-11-30T11:00:00+01:00/2026-11-30T12:00:00+01:00")
    assert _times(sta, stream) == (_at(10), _at(11), _at(10, 5), _at(10, 5))
    sta.update(f"Observations({first})", {"phenomenonTime": "2026-11-30T10:30:00Z"})
    assert _times(sta, stream)[:2] == (_at(10), _at(11))
    sta.update(f"Observations({first})", {"phenomenonTime": "2026-11-30T09:30:00Z"})
    assert _times(sta, stream)[:2] == (_at(9, 30), _at(11))
    changes = sta.delete(f"Observations({first})")
    assert _times(sta, stream) == (_at(10), _at(11), None, None)
    assert {(c.entity.name, c.operation) for c in changes} == {
        ("Observation", "delete"),
        ("Datastream", "update"),
    }


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        (None, ResultType.NULL),
        (21, ResultType.INTEGER),
        (2**60 + 1, ResultType.INTEGER),
        (-3.25, ResultType.NUMBER),
        ("klar", ResultType.STRING),
        (True, ResultType.BOOLEAN),
        (False, ResultType.BOOLEAN),
        ({"pm10": 12, "pm25": [1, 2]}, ResultType.OBJECT),
        ([1, "a", None], ResultType.OBJECT),
    ],
)
def test_every_result_type_round_trips(sta: Sta, result: Any, kind: int) -> None:
    _, stream = _graph(sta)
    row = sta.row("Observation", _observe(sta, stream, "2026-11-30T10:00:00Z", result))
    assert row["result_type"] == kind
    back = result_value(row)
    assert back == result
    assert type(back) is type(result)


# --- Thing locations and history -----------------------------------------------------------


def _locations_of(sta: Sta, thing: int) -> list[int]:
    return sta.linked(THING_LOCATION, "thing_id", thing, "location_id")


def _history(sta: Sta, thing: int) -> list[list[int]]:
    return [
        sta.linked(HISTORICAL_LOCATION_LOCATION, "historical_location_id", h, "location_id")
        for h in sta.ids("HistoricalLocation", thing_id=thing)
    ]


def test_new_location_of_a_thing_replaces_the_current_one(sta: Sta) -> None:
    thing, _ = _graph(sta)
    (first,) = _locations_of(sta, thing)
    second = sta.create_id(f"Things({thing})/Locations", location("Bahnhof", HAUPTBAHNHOF))
    assert _locations_of(sta, thing) == [second]
    assert _history(sta, thing) == [[first], [second]]
    third = sta.create_id("Locations", location("Rathaus"))
    sta.add_reference(
        f"Things({thing})/Locations/$ref", {"@iot.selfLink": f"http://x/kl/v1.1/Locations({third})"}
    )
    assert _locations_of(sta, thing) == [second, third]
    assert _history(sta, thing)[-1] == [second, third]
    sta.delete_reference(f"Things({thing})/Locations({second})/$ref")
    assert _locations_of(sta, thing) == [third]
    sta.update(f"Things({thing})", {"Locations": [{"@iot.id": first}]})
    assert _locations_of(sta, thing) == [first]
    assert len(_history(sta, thing)) == 4


def test_manual_history_moves_the_thing_only_when_latest(sta: Sta) -> None:
    thing, _ = _graph(sta)
    (home,) = _locations_of(sta, thing)
    away = sta.create_id("Locations", location("Bahnhof", HAUPTBAHNHOF))
    earlier = {
        "time": "2020-01-01T00:00:00Z",
        "Thing": {"@iot.id": thing},
        "Locations": [{"@iot.id": away}],
    }
    sta.create("HistoricalLocations", earlier)
    assert _locations_of(sta, thing) == [home]
    later = (NOW + timedelta(days=1)).isoformat()
    sta.create(
        f"Things({thing})/HistoricalLocations", {"time": later, "Locations": [{"@iot.id": away}]}
    )
    assert _locations_of(sta, thing) == [away]


# --- updates -------------------------------------------------------------------------------


def test_patch_merges_and_put_replaces(sta: Sta) -> None:
    thing = sta.create_id("Things", _thing(properties={"owner": "SWK"}))
    written = sta.update(f"Things({thing})", {"description": "neu", "@iot.id": 5})
    assert written.changes[0].fields == frozenset({"description"})
    row = sta.row("Thing", thing)
    assert (row["name"], row["description"], row["properties"]) == (
        "Laterne 1",
        "neu",
        {"owner": "SWK"},
    )
    sta.update(f"Things({thing})", {"name": "Laterne 2", "description": "x"}, replace=True)
    assert sta.row("Thing", thing)["properties"] is None
    with pytest.raises(BadRequest, match="'description'"):
        sta.update(f"Things({thing})", {"name": "Laterne 3"}, replace=True)
    with pytest.raises(BadRequest, match="creates none"):
        sta.update(f"Things({thing})", {"Datastreams": [datastream()]})
    with pytest.raises(NotFound):
        sta.update("Things(987654321)", {"name": "x"})


def test_patch_rebinds_a_to_one_link(sta: Sta) -> None:
    _, stream = _graph(sta)
    other = sta.create_id("Sensors", sensor("Neu"))
    sta.update(f"Datastreams({stream})", {"Sensor": {"@iot.id": other}})
    assert sta.row("Datastream", stream)["sensor_id"] == other
    third = sta.create_id("Sensors", sensor("Dritter"))
    sta.add_reference(f"Datastreams({stream})/Sensor/$ref", {"@iot.id": third})
    assert sta.row("Datastream", stream)["sensor_id"] == third
    with pytest.raises(BadRequest, match="required relation"):
        sta.delete_reference(f"Datastreams({stream})/Sensor/$ref")


def test_json_patch_operations(sta: Sta) -> None:
    thing = sta.create_id("Things", _thing(properties={"owner": "SWK", "tags": ["a"]}))
    path = f"Things({thing})"
    sta.patch_json(
        path,
        [
            {"op": "test", "path": "/properties/owner", "value": "SWK"},
            {"op": "add", "path": "/properties/height", "value": 3.5},
            {"op": "replace", "path": "/name", "value": "Laterne 7"},
            {"op": "copy", "from": "/properties/owner", "path": "/properties/operator"},
            {"op": "move", "from": "/properties/tags", "path": "/properties/labels"},
            {"op": "add", "path": "/properties/labels/-", "value": "b"},
            {"op": "remove", "path": "/properties/owner"},
        ],
    )
    row = sta.row("Thing", thing)
    assert row["name"] == "Laterne 7"
    assert row["properties"] == {"height": 3.5, "operator": "SWK", "labels": ["a", "b"]}
    with pytest.raises(PatchTestFailed):
        sta.patch_json(path, [{"op": "test", "path": "/name", "value": "Laterne 1"}])
    with pytest.raises(BadRequest, match="no member"):
        sta.patch_json(path, [{"op": "replace", "path": "/nothing", "value": 1}])
    with pytest.raises(BadRequest, match="may not be null"):
        sta.patch_json(path, [{"op": "remove", "path": "/name"}])
    with pytest.raises(BadRequest, match="no properties 'colour'"):
        sta.patch_json(path, [{"op": "add", "path": "/colour", "value": "rot"}])
    assert sta.row("Thing", thing)["name"] == "Laterne 7"


def test_json_patch_of_an_observation_keeps_times(sta: Sta) -> None:
    _, stream = _graph(sta)
    observation = _observe(sta, stream, "2026-11-30T10:00:00.250Z", 1)
    sta.patch_json(
        f"Observations({observation})", [{"op": "replace", "path": "/result", "value": 2}]
    )
    row = sta.row("Observation", observation)
    assert result_value(row) == 2
    assert row["phenomenon_time_start"] == datetime(2026, 11, 30, 10, 0, 0, 250000, tzinfo=UTC)


# --- deletes and references ------------------------------------------------------------------


def test_deleting_a_thing_cascades(sta: Sta) -> None:
    thing, stream = _graph(sta)
    _observe(sta, stream, "2026-11-30T10:00:00Z")
    changes = sta.delete(f"Things({thing})")
    assert [(c.entity.name, c.operation) for c in changes] == [("Thing", "delete")]
    counts = sta.counts()
    assert counts["Datastream"] == counts["Observation"] == counts["HistoricalLocation"] == 0
    assert counts["Location"] == counts["Sensor"] == counts["FeatureOfInterest"] == 1
    with pytest.raises(NotFound):
        sta.delete(f"Things({thing})")


def test_deleting_a_location_takes_its_history(sta: Sta) -> None:
    thing, _ = _graph(sta)
    (place,) = _locations_of(sta, thing)
    sta.delete(f"Locations({place})")
    assert sta.count("HistoricalLocation") == 0
    assert _locations_of(sta, thing) == []


def test_deleting_an_observed_property_takes_its_multi_datastreams(sta: Sta) -> None:
    multi = _multi_datastream(sta)
    sta.create(f"MultiDatastreams({multi})/Observations", {"result": [1, 2]})
    (first, _) = sta.ids("ObservedProperty")
    sta.delete(f"ObservedProperties({first})")
    assert sta.count("MultiDatastream") == 0
    assert sta.count("Observation") == 0
    with pytest.raises(BadRequest, match="fixed"):
        sta.create(
            f"MultiDatastreams({_multi_datastream(sta)})/ObservedProperties", observed_property()
        )


# --- CreateObservations -----------------------------------------------------------------------


def test_create_observations_with_a_bad_row(sta: Sta) -> None:
    _, stream = _graph(sta)
    multi = _multi_datastream(sta)
    feature = sta.create_id(
        f"Datastreams({stream})/Observations",
        {"result": 0, "phenomenonTime": "2026-11-29T00:00:00Z"},
    )
    feature = sta.row("Observation", feature)["feature_of_interest_id"]
    body = [
        {
            "Datastream": {"@iot.id": stream},
            "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
            "dataArray": [
                ["2026-11-30T10:00:00Z", 20, feature],
                ["not a time", 21, feature],
                ["2026-11-30T12:00:00Z", 22, 987654321],
                ["2026-11-30T13:00:00Z", 23],
                ["2026-11-30T14:00:00Z", 24, feature],
            ],
        },
        {
            "MultiDatastream": {"@iot.id": multi},
            "components": ["result", "phenomenonTime"],
            "dataArray": [[[1, 2], "2026-11-30T10:00:00Z"], [[1], "2026-11-30T11:00:00Z"]],
        },
    ]
    created, changes = sta.create_observations(body)
    assert [isinstance(item, int) for item in created] == [
        True,
        False,
        False,
        False,
        True,
        True,
        False,
    ]
    assert [item for item in created if isinstance(item, str)] == ["error"] * 4
    assert _times(sta, stream)[:2] == (_at(0) - timedelta(days=1), _at(14))
    kinds = {(c.entity.name, c.operation) for c in changes}
    assert kinds == {
        ("Observation", "create"),
        ("FeatureOfInterest", "create"),  # from the Location of the MultiDatastream's Thing
        ("Datastream", "update"),
        ("MultiDatastream", "update"),
    }
    assert sta.count("Observation") == 4


def test_create_observations_refuses_malformed_groups(sta: Sta) -> None:
    _, stream = _graph(sta)
    for body in (
        {"Datastream": {"@iot.id": stream}},
        [{"Datastream": {"@iot.id": 987654321}, "components": ["result"], "dataArray": []}],
        [{"Datastream": {"@iot.id": stream}, "components": ["result", "colour"], "dataArray": []}],
        [{"Datastream": {"@iot.id": stream}, "components": ["phenomenonTime"], "dataArray": []}],
        [{"Datastream": {"@iot.id": stream}, "components": ["result"]}],
    ):
        with pytest.raises(BadRequest):
            sta.create_observations(body)
    assert sta.count("Observation") == 0
