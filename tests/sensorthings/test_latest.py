"""`Datastreams/$latest`: the newest Observation of every Datastream, by place and kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.test_batch import (
    BATCH,
    PartResponse,
    http_part,
    multipart_body,
    parse_multipart,
)
from tests.sensorthings.fast_reads import HOST, Town, fill_latest

MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
STIFTSKIRCHE = (7.7689, 49.4447)
HAUPTBAHNHOF = (7.7682, 49.4367)
KUSEL = (7.3990, 49.5380)
AROUND_KAISERSLAUTERN = "7.70,49.40,7.80,49.50"


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """Two lanterns in Kaiserslautern, a gauge in Kusel, and a Datastream without data."""
    town = Town.make(client, make_tenant, database)
    _, (lantern_1,) = town.stream("Lantern 1", kind="lantern", at=STIFTSKIRCHE)
    _, (lantern_2,) = town.stream("Lantern 2", kind="lantern", at=HAUPTBAHNHOF)
    _, (gauge,) = town.stream("Gauge", kind="gauge", at=KUSEL)
    town.stream("Lantern 3", kind="lantern", at=STIFTSKIRCHE)  # no Observations yet
    # Out of time order on purpose: the latest is by phenomenonTime, not by insertion.
    town.observe(lantern_1, [(MORNING + timedelta(minutes=2), 21.5), (MORNING, 19.0)])
    town.observe(lantern_2, [(MORNING, "dim"), (MORNING + timedelta(minutes=1), {"on": True})])
    town.observe(gauge, [(MORNING + timedelta(hours=1), 112)])
    fill_latest(town)
    town.ids = {"L1": lantern_1, "L2": lantern_2, "G": gauge}  # type: ignore[attr-defined]
    return town


def _streams(body: dict[str, object]) -> list[str]:
    return [entry["Datastream"]["name"] for entry in body["value"]]  # type: ignore[attr-defined]


def test_every_datastream_with_observations_shows_its_latest(town: Town) -> None:
    body = town.json("Datastreams/$latest")
    assert _streams(body) == ["Lantern 1 stream 0", "Lantern 2 stream 0", "Gauge stream 0"]
    first = body["value"][0]
    lantern_1 = town.ids["L1"]  # type: ignore[attr-defined]
    assert first == {
        "Datastream": {
            "@iot.id": lantern_1,
            "name": "Lantern 1 stream 0",
            "unitOfMeasurement": {
                "name": "degree Celsius",
                "symbol": "°C",
                "definition": "ucum:Cel",
            },
            "@iot.selfLink": f"{HOST}{town.base}/Datastreams({lantern_1})",
        },
        "Thing": {"@iot.id": first["Thing"]["@iot.id"], "name": "Lantern 1"},
        "location": {"type": "Point", "coordinates": list(STIFTSKIRCHE)},
        "Observation": {
            "@iot.id": first["Observation"]["@iot.id"],
            "phenomenonTime": "2026-11-30T08:02:00Z",
            "result": 21.5,
            "resultTime": None,
        },
    }
    observation = town.json(f"Observations({first['Observation']['@iot.id']})")
    assert observation["result"] == 21.5
    assert [entry["Observation"]["result"] for entry in body["value"]] == [21.5, {"on": True}, 112]


def test_bbox_and_kind_narrow_the_map(town: Town) -> None:
    inside = town.json("Datastreams/$latest", [("bbox", AROUND_KAISERSLAUTERN)])
    assert _streams(inside) == ["Lantern 1 stream 0", "Lantern 2 stream 0"]
    gauges = town.json("Datastreams/$latest", [("kind", "gauge")])
    assert _streams(gauges) == ["Gauge stream 0"]
    both = town.json("Datastreams/$latest", [("kind", "gauge"), ("bbox", AROUND_KAISERSLAUTERN)])
    assert both["value"] == []
    odd = town.json("Datastreams/$latest", [("kind", "it's")])
    assert odd["value"] == []


def test_pages_continue_by_skiptoken_and_count(town: Town) -> None:
    first = town.json("Datastreams/$latest", [("$top", "2"), ("$count", "true")])
    assert first["@iot.count"] == 3
    assert _streams(first) == ["Lantern 1 stream 0", "Lantern 2 stream 0"]
    assert "$skiptoken=" in first["@iot.nextLink"]
    assert "/Datastreams/$latest?" in first["@iot.nextLink"]
    rest = town.follow(first["@iot.nextLink"])
    assert _streams(rest) == ["Gauge stream 0"]
    assert "@iot.nextLink" not in rest
    small = town.with_settings("Datastreams/$latest", [("$top", "50")], latest_max_top=1)
    assert len(small["value"]) == 1


def test_other_towns_see_nothing(
    town: Town, client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database
) -> None:
    other = Town.make(client, make_tenant, database)
    assert other.json("Datastreams/$latest") == {"value": []}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ([("bbox", "7,49,8")], "bbox: expected minLon,minLat,maxLon,maxLat"),
        ([("bbox", "8,49,7,50")], "is not a box in WGS 84"),
        ([("bbox", "a,b,c,d")], "bbox: expected"),
        ([("$filter", "id eq 1")], "takes only $top"),
        ([("$skiptoken", "garbage!")], "$skiptoken: malformed token"),
        ([("kind", "a"), ("kind", "b")], "kind is given more than once"),
    ],
)
def test_bad_parameters_are_named(town: Town, query: list[tuple[str, str]], detail: str) -> None:
    assert detail in town.problem("Datastreams/$latest", query)


def test_latest_is_read_only_and_only_on_datastreams(town: Town) -> None:
    assert "can only be read" in town.post("Datastreams/$latest", {"name": "x"}).json()["detail"]
    assert "only available as Datastreams/$latest" in town.problem("Things/$latest")
    lantern_1 = town.ids["L1"]  # type: ignore[attr-defined]
    assert "only available" in town.problem(f"Datastreams({lantern_1})/$latest")


def test_the_writer_keeps_the_latest_table(town: Town) -> None:
    """A newer Observation through the general writer replaces the latest; an older does not."""
    lantern_1 = town.ids["L1"]  # type: ignore[attr-defined]
    older = town.post(
        f"Datastreams({lantern_1})/Observations",
        {"phenomenonTime": "2026-11-30T07:00:00Z", "result": 1.0},
    )
    assert older.status_code == 201
    newer = town.post(
        f"Datastreams({lantern_1})/Observations",
        {"phenomenonTime": "2026-11-30T09:00:00Z", "result": 30.0},
    )
    assert newer.status_code == 201
    assert town.latest_rows() == town.newest()
    body = town.json("Datastreams/$latest", [("$top", "1")])
    assert body["value"][0]["Observation"]["result"] == 30.0


def test_every_kind_of_result_and_time_reads_as_written(town: Town) -> None:
    """PostgreSQL writes the entries in SQL, SQLite in Python: both say the same."""
    results: list[object] = [
        0.1 + 0.2,  # needs 17 digits
        -3.0e-7,
        112,
        2**60 + 1,  # beyond a double: kept exactly
        "gedimmt",
        False,
        {"on": True, "level": [1, 2]},
        None,
    ]
    times = [
        MORNING.replace(microsecond=123000),  # milliseconds
        MORNING.replace(microsecond=123456),  # microseconds
        MORNING,
    ]
    expected_times = [
        "2026-11-30T08:00:00.123Z",
        "2026-11-30T08:00:00.123456Z",
        "2026-11-30T08:00:00Z",
    ]
    streams = []
    for index, result in enumerate(results):
        _, (stream,) = town.stream(f"Probe {index}", kind="probe", at=KUSEL)
        town.observe(stream, [(times[index % len(times)], result)])
        streams.append(stream)
    body = town.json("Datastreams/$latest", [("kind", "probe")])
    entries = {entry["Datastream"]["@iot.id"]: entry for entry in body["value"]}
    for index, (stream, result) in enumerate(zip(streams, results, strict=True)):
        observation = entries[stream]["Observation"]
        assert observation["result"] == result
        assert type(observation["result"]) is type(result) or isinstance(result, float)
        assert observation["phenomenonTime"] == expected_times[index % len(times)]
        assert observation["resultTime"] is None


def test_an_interval_and_a_result_time_read_as_written(town: Town) -> None:
    _, (stream,) = town.stream("Counter", kind="counter", at=KUSEL)
    created = town.post(
        "Observations",
        {
            "Datastream": {"@iot.id": stream},
            "phenomenonTime": "2026-11-30T08:00:00Z/2026-11-30T08:15:00.5Z",
            "resultTime": "2026-11-30T08:15:01.000001Z",
            "result": 42,
        },
    )
    assert created.status_code == 201, created.text
    (entry,) = town.json("Datastreams/$latest", [("kind", "counter")])["value"]
    assert entry["Observation"]["phenomenonTime"] == (
        "2026-11-30T08:00:00Z/2026-11-30T08:15:00.500Z"
    )
    assert entry["Observation"]["resultTime"] == "2026-11-30T08:15:01.000001Z"


def test_latest_values_inside_a_batch(town: Town) -> None:
    """The JSON the database wrote is embedded as JSON in both batch formats."""
    direct = town.json("Datastreams/$latest")
    answer = town.post(
        "$batch", {"requests": [{"id": "m", "method": "get", "url": "Datastreams/$latest"}]}
    )
    assert answer.status_code == 200, answer.text
    (item,) = answer.json()["responses"]
    assert item["status"] == 200
    assert item["body"] == direct
    parts = multipart_body([http_part("GET", "Datastreams/$latest")])
    answer = town.client.post(
        f"{town.base}/$batch",
        content=parts,
        headers={**town.tenant.headers, "Content-Type": f"multipart/mixed;boundary={BATCH}"},
    )
    assert answer.status_code == 200, answer.text
    (part,) = parse_multipart(answer.headers["content-type"], answer.text)
    assert isinstance(part, PartResponse)
    assert part.json() == direct
