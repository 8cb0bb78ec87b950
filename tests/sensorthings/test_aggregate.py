"""`Datastreams(id)/Observations/$aggregate`: epoch-aligned buckets computed in the database."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from stadtkern.db import Database
from stadtkern.sensorthings.times import epoch_instant, format_instant
from tests.conftest import TenantFixture
from tests.sensorthings.fast_reads import Town

START = datetime(2026, 11, 30, 22, 7, tzinfo=UTC)  # not on an hour: buckets still are
PATH = "Datastreams({})/Observations/$aggregate"
FACKELWOOG = (7.7585, 49.4484)


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """A Datastream with 300 one-minute values and a few that are not numbers."""
    town = Town.make(client, make_tenant, database)
    _, (stream,) = town.stream("Pegel", at=FACKELWOOG)
    rows: list[tuple[datetime, object]] = [
        (START + timedelta(minutes=index), round(math.sin(index / 17) * 10 + index / 7, 3))
        for index in range(300)
    ]
    rows += [(START + timedelta(minutes=5, seconds=30), "offline"), (START, None)]
    rows += [(START + timedelta(minutes=9, seconds=1), 7)]  # an integer counts as a number
    town.observe(stream, rows)
    town.stream_id = stream  # type: ignore[attr-defined]
    town.rows = rows  # type: ignore[attr-defined]
    return town


def expected(
    rows: list[tuple[datetime, object]],
    seconds: int,
    fns: list[str],
    low: datetime | None = None,
    high: datetime | None = None,
) -> list[dict[str, object]]:
    """The buckets computed in Python."""
    buckets: dict[int, list[float]] = {}
    for moment, value in rows:
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if (low is not None and moment < low) or (high is not None and moment >= high):
            continue
        epoch = int(moment.timestamp())
        buckets.setdefault(epoch - epoch % seconds, []).append(float(value))
    answer = []
    for start in sorted(buckets):
        values = buckets[start]
        begin = datetime.fromtimestamp(start, UTC)
        entry: dict[str, object] = {
            "start": begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (begin + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        functions = {
            "avg": sum(values) / len(values),
            "min": min(values),
            "max": max(values),
            "count": len(values),
            "sum": sum(values),
        }
        entry.update({name: functions[name] for name in fns})
        answer.append(entry)
    return answer


def same(actual: list[dict[str, object]], wanted: list[dict[str, object]]) -> None:
    assert [list(entry) for entry in actual] == [list(entry) for entry in wanted]
    for got, want in zip(actual, wanted, strict=True):
        for key, value in want.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-9), key
                assert isinstance(got[key], float)
            else:
                assert got[key] == value, key


def test_hourly_buckets_start_on_the_hour(town: Town) -> None:
    stream = town.stream_id  # type: ignore[attr-defined]
    fns = ["avg", "min", "max", "count", "sum"]
    body = town.json(PATH.format(stream), [("interval", "PT1H"), ("fn", ",".join(fns))])
    assert body["value"][0]["start"] == "2026-11-30T22:00:00Z"
    assert body["value"][0]["end"] == "2026-11-30T23:00:00Z"
    assert [entry["count"] for entry in body["value"]] == [54, 60, 60, 60, 60, 7]
    same(body["value"], expected(town.rows, 3600, fns))  # type: ignore[attr-defined]


def test_default_functions_and_other_intervals(town: Town) -> None:
    stream = town.stream_id  # type: ignore[attr-defined]
    rows = town.rows  # type: ignore[attr-defined]
    quarter = town.json(PATH.format(stream), [("interval", "PT15M")])
    same(quarter["value"], expected(rows, 900, ["avg", "min", "max", "count"]))
    daily = town.json(PATH.format(stream), [("interval", "P1D"), ("fn", "count,max")])
    assert [(entry["start"], entry["count"]) for entry in daily["value"]] == [
        ("2026-11-30T00:00:00Z", 114),
        ("2026-12-01T00:00:00Z", 187),
    ]
    same(daily["value"], expected(rows, 86400, ["count", "max"]))
    mixed = town.json(PATH.format(stream), [("interval", "P1DT1H30M5S"), ("fn", "sum")])
    same(mixed["value"], expected(rows, 86400 + 5405, ["sum"]))


def test_from_is_inclusive_and_to_exclusive(town: Town) -> None:
    stream = town.stream_id  # type: ignore[attr-defined]
    low, high = datetime(2026, 11, 30, 23, 30, tzinfo=UTC), datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    query = [
        ("interval", "PT1H"),
        ("fn", "count,min"),
        ("from", "2026-12-01T00:30:00+01:00"),
        ("to", "2026-12-01T01:00:00Z"),
    ]
    body = town.json(PATH.format(stream), query)
    assert [entry["count"] for entry in body["value"]] == [30, 60]
    same(body["value"], expected(town.rows, 3600, ["count", "min"], low, high))  # type: ignore[attr-defined]
    empty = town.json(PATH.format(stream), [("interval", "PT1H"), ("from", "2030-01-01T00:00:00Z")])
    assert empty == {"value": []}


def test_times_before_1970_fall_into_their_bucket(town: Town) -> None:
    _, (old,) = town.stream("Altes Pegelbuch", at=FACKELWOOG)
    town.observe(
        old,
        [
            (datetime(1969, 12, 31, 23, 30, tzinfo=UTC), 1.5),
            (datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), 2.5),
        ],
    )
    body = town.json(PATH.format(old), [("interval", "PT1H"), ("fn", "avg,count")])
    assert body["value"] == [
        {"start": "1969-12-31T23:00:00Z", "end": "1970-01-01T00:00:00Z", "avg": 2.0, "count": 2}
    ]


def test_a_datastream_without_observations_has_no_buckets(town: Town) -> None:
    _, (empty,) = town.stream("Leer", at=FACKELWOOG)
    assert town.json(PATH.format(empty), [("interval", "PT1H")]) == {"value": []}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ([], "the parameter interval is required"),
        ([("interval", "1h")], "interval: '1h' is not an ISO 8601 duration"),
        ([("interval", "P1M")], "years and months have no fixed length"),
        ([("interval", "PT")], "is not an ISO 8601 duration"),
        ([("interval", "PT0S")], "is not between PT1S and P366D"),
        ([("interval", "P367D")], "is not between PT1S and P366D"),
        ([("interval", "PT1H"), ("fn", "avg,median")], "fn: unknown function 'median'"),
        ([("interval", "PT1H"), ("from", "yesterday")], "from: 'yesterday' is not an ISO 8601"),
        (
            [
                ("interval", "PT1H"),
                ("from", "2026-12-01T00:00:00Z"),
                ("to", "2026-11-01T00:00:00Z"),
            ],
            "to lies before from",
        ),
        (
            [
                ("interval", "PT1S"),
                ("from", "2026-01-01T00:00:00Z"),
                ("to", "2026-12-01T00:00:00Z"),
            ],
            "buckets of 1 s",
        ),
        ([("interval", "PT1H"), ("$filter", "result gt 1")], "takes no $ options"),
        ([("interval", "PT1H"), ("interval", "PT2H")], "interval is given more than once"),
    ],
)
def test_bad_requests_name_the_problem(
    town: Town, query: list[tuple[str, str]], detail: str
) -> None:
    stream = town.stream_id  # type: ignore[attr-defined]
    assert detail in town.problem(PATH.format(stream), query)


def test_only_on_a_datastreams_observations_and_only_read(
    town: Town, client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database
) -> None:
    stream = town.stream_id  # type: ignore[attr-defined]
    assert "only available as" in town.problem("Observations/$aggregate", [("interval", "PT1H")])
    assert "only available as" in town.problem("Datastreams/$aggregate", [("interval", "PT1H")])
    posted = town.post(PATH.format(stream), {"result": 1})
    assert posted.status_code == 400
    assert "can only be read" in posted.json()["detail"]
    other = Town.make(client, make_tenant, database)
    assert "no Datastream" in other.problem(PATH.format(stream), [("interval", "PT1H")], 404)


# From the year 1000 on: strftime writes earlier years without their leading zeros.
@given(st.integers(min_value=-30_610_224_000, max_value=253_402_300_799))
def test_epoch_instant_writes_what_format_instant_writes(seconds: int) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    assert epoch_instant(seconds) == format_instant(moment)
