"""Hourly rollups: `roll_up` of new rows, the general writer's changes, `$aggregate` reading
whole hours from them, and the migration that fills them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stadtkern.db import Database
from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.rollups import HOURS, hour_of, recompute, roll_up
from tests.conftest import TenantFixture
from tests.sensorthings.fast_reads import Town
from tests.sensorthings.test_aggregate import expected, same
from tests.sensorthings.test_partitions import TIMES, upgrade_to
from tests.sensorthings.test_partitions import _fill as fill_observations

START = datetime(2026, 11, 30, 21, 50, tzinfo=UTC)
PATH = "Datastreams({})/Observations/$aggregate"
FUNCTIONS = "avg,min,max,count,sum"
ROLLED = {"aggregate_rollups": True}


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """A Datastream with 200 values over five hours and a few that are not numbers."""
    town = Town.make(client, make_tenant, database)
    _, (stream,) = town.stream("Pegel", at=(7.7585, 49.4484))
    rows: list[tuple[datetime, object]] = [
        (START + timedelta(minutes=index), (index % 37) / 4) for index in range(200)
    ]
    rows += [(START + timedelta(seconds=30), "offline"), (START, None), (START, 7)]
    town.observe(stream, rows)  # the ingest batch, which rolls them up
    town.stream_id = stream  # type: ignore[attr-defined]
    town.rows = rows  # type: ignore[attr-defined]
    return town


def _stored_rows(town: Town) -> dict[int, tuple[Any, ...]]:
    """Observation id -> what `roll_up` takes: (tenant, Datastream, time, number)."""
    table = OBSERVATION.table
    columns = ("tenant_id", "datastream_id", "phenomenon_time_start", "result_number")
    with town.database.read() as session:
        found = session.execute(
            select(table.c.id, *(table.c[name] for name in columns)).where(
                table.c.datastream_id == town.stream_id  # type: ignore[attr-defined]
            )
        ).all()
    return {int(row[0]): tuple(row[1:]) for row in found}


def _hours(town: Town) -> dict[int, tuple[int, float, float, float]]:
    columns = (HOURS.c.value_count, HOURS.c.value_sum, HOURS.c.value_min, HOURS.c.value_max)
    with town.database.read() as session:
        found = session.execute(
            select(HOURS.c.hour, *columns).where(
                HOURS.c.datastream_id == town.stream_id  # type: ignore[attr-defined]
            )
        ).all()
    return {int(hour): (int(count), total, low, high) for hour, count, total, low, high in found}


def _aggregate(town: Town, interval: str, **settings: Any) -> list[dict[str, Any]]:
    path = PATH.format(town.stream_id)  # type: ignore[attr-defined]
    body = town.with_settings(path, [("interval", interval), ("fn", FUNCTIONS)], **settings)
    value: list[dict[str, Any]] = body["value"]
    return value


def _posted(town: Town, body: dict[str, Any]) -> int:
    """POST an Observation (the ingest pipeline writes it and rolls it up)."""
    stream = town.stream_id  # type: ignore[attr-defined]
    made = town.post(f"Datastreams({stream})/Observations", body)
    assert made.status_code == 201, made.text
    return int(made.json()["@iot.id"])


def _forget_hours(town: Town) -> None:
    with town.database.write() as session:
        session.execute(HOURS.delete().where(HOURS.c.datastream_id == town.stream_id))  # type: ignore[attr-defined]


def _recompute_all(town: Town) -> None:
    with town.database.write() as session:
        recompute(session, town.ref().id, town.stream_id)  # type: ignore[attr-defined]


def test_the_ingest_batch_keeps_the_hours(town: Town) -> None:
    kept = _hours(town)
    assert len(kept) == 5  # 21:00 to 01:00, from the ingest batch
    _recompute_all(town)
    assert kept == _hours(town)


def test_roll_up_adds_new_rows_to_their_hours(town: Town) -> None:
    rows = list(_stored_rows(town).values())
    _forget_hours(town)
    with town.database.write() as session:  # two batches; some hours get rows from both
        multi = (town.ref().id, None, START, 5.0)  # a MultiDatastream's row: not rolled up
        roll_up(session, [*rows[::2], multi])
    with town.database.write() as session:
        roll_up(session, rows[1::2])
    rolled = _hours(town)
    _recompute_all(town)
    assert rolled == _hours(town)
    assert len(rolled) == 5  # 21:00 to 01:00
    assert hour_of(datetime(1969, 12, 31, 23, 30, tzinfo=UTC)) == -3600
    for interval, seconds in (("PT1H", 3600), ("PT2H", 7200), ("P1D", 86_400)):
        wanted = expected(town.rows, seconds, FUNCTIONS.split(","))  # type: ignore[attr-defined]
        same(_aggregate(town, interval, **ROLLED), wanted)
        same(_aggregate(town, interval), wanted)


def test_whole_hours_come_from_the_rollups_and_the_rest_from_the_rows(town: Town) -> None:
    """With no hours kept, hourly buckets find nothing but the parts of an hour at `from`
    and `to`; buckets shorter than an hour read the rows."""
    rows: list[tuple[datetime, object]] = town.rows  # type: ignore[attr-defined]
    stream = town.stream_id  # type: ignore[attr-defined]
    _forget_hours(town)
    assert _aggregate(town, "PT1H", **ROLLED) == []
    same(_aggregate(town, "PT30M", **ROLLED), expected(rows, 1800, FUNCTIONS.split(",")))
    fns = ["avg", "min", "max", "count"]
    edges = [("interval", "PT1H"), ("from", "2026-11-30T21:55:00Z"), ("to", "2026-11-30T23:50:00Z")]
    start, end = START + timedelta(minutes=5), START + timedelta(hours=2)
    only_edges = [
        *expected(rows, 3600, fns, start, START + timedelta(minutes=10)),
        *expected(rows, 3600, fns, end - timedelta(minutes=50), end),
    ]
    same(town.with_settings(PATH.format(stream), edges, **ROLLED)["value"], only_edges)
    _recompute_all(town)
    for query, low, high in (
        (edges, start, end),
        (
            [("interval", "PT2H"), ("from", "2026-11-30T22:00:00Z")],
            START + timedelta(minutes=10),
            None,
        ),
        (
            [("interval", "P1D"), ("to", "2026-12-01T00:00:01.5Z")],
            None,
            datetime(2026, 12, 1, 0, 0, 1, 500000, tzinfo=UTC),
        ),
        (
            [
                ("interval", "PT1H"),
                ("from", "2026-11-30T22:01:00Z"),
                ("to", "2026-11-30T22:59:00Z"),
            ],
            START + timedelta(minutes=11),
            START + timedelta(minutes=69),
        ),
    ):
        seconds = {"PT1H": 3600, "PT2H": 7200, "P1D": 86_400}[query[0][1]]
        body = town.with_settings(PATH.format(stream), [*query, ("fn", FUNCTIONS)], **ROLLED)
        same(body["value"], expected(rows, seconds, FUNCTIONS.split(","), low, high))


def test_the_general_writer_keeps_the_hours_true(town: Town) -> None:
    _recompute_all(town)

    def check() -> None:
        for interval in ("PT1H", "P1D"):
            same(_aggregate(town, interval, **ROLLED), _aggregate(town, interval))

    new_id = _posted(town, {"phenomenonTime": "2026-12-01T05:10:00Z", "result": 99.5})
    check()  # a new hour
    _posted(town, {"phenomenonTime": "2026-11-30T22:10:30Z", "result": -4.25})
    check()  # an hour with values
    headers = town.tenant.headers
    for change in ({"result": 1.5}, {"phenomenonTime": "2026-11-30T23:59:59Z"}, {"result": "x"}):
        answer = town.client.patch(
            f"{town.base}/Observations({new_id})", json=change, headers=headers
        )
        assert answer.status_code == 200, answer.text
        check()
    assert town.client.delete(f"{town.base}/Observations({new_id})", headers=headers).is_success
    check()
    (feature,) = town.json("FeaturesOfInterest")["value"]
    gone = town.client.delete(
        f"{town.base}/FeaturesOfInterest({feature['@iot.id']})", headers=headers
    )
    assert gone.is_success
    assert _hours(town) == {}
    check()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_rolls_up_the_observations_there_are(
    backend: str, make_database: Callable[[str], Database]
) -> None:
    database = make_database(backend)
    upgrade_to(database, "sensorthings_0004")
    stream, _ids = fill_observations(database)  # results 0, 1, 2, 3 at TIMES
    upgrade_to(database, "sensorthings_0005")
    with database.read() as session:
        migrated = session.execute(
            select(HOURS.c.hour, HOURS.c.value_count, HOURS.c.value_sum).where(
                HOURS.c.datastream_id == stream
            )
        ).all()
    wanted = {(hour_of(moment), 1, float(number)) for number, moment in enumerate(TIMES)}
    assert set(map(tuple, migrated)) == wanted
