"""`$count` modes: exact (the default), estimate and limited, by setting and by `countMode=`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture
from tests.sensorthings.fast_reads import Town

MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FACKELWOOG = (7.7585, 49.4484)


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """Two Datastreams with 40 and 25 Observations."""
    town = Town.make(client, make_tenant, database)
    _, (first, second) = town.stream("Lantern", at=FACKELWOOG, streams=2)
    town.observe(first, [(MORNING + timedelta(minutes=i), float(i)) for i in range(40)])
    town.observe(second, [(MORNING + timedelta(minutes=i), float(i)) for i in range(25)])
    town.streams = (first, second)  # type: ignore[attr-defined]
    return town


def _count(body: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in body.items() if key.startswith("@iot.count")}


def test_plain_count_is_exact_and_unannotated(town: Town) -> None:
    body = town.json("Observations", [("$count", "true"), ("$top", "1")])
    assert _count(body) == {"@iot.count": 65}
    asked = town.json("Observations", [("$count", "true"), ("countMode", "exact")])
    assert _count(asked) == {"@iot.count": 65, "@iot.countMode": "exact"}
    assert "@iot.count" not in town.json("Observations", [("countMode", "limited")])


def test_limited_stops_at_the_limit(town: Town) -> None:
    query = [("$count", "true"), ("countMode", "limited"), ("$top", "1")]
    capped = town.with_settings("Observations", query, count_limit=30)
    assert _count(capped) == {
        "@iot.count": 30,
        "@iot.countMode": "limited",
        "@iot.countLimited": True,
    }
    exact = town.with_settings("Observations", query, count_limit=65)
    assert _count(exact) == {"@iot.count": 65, "@iot.countMode": "exact"}
    filtered = [("$filter", "result lt 10"), *query]
    assert _count(town.with_settings("Observations", filtered, count_limit=30)) == {
        "@iot.count": 20,
        "@iot.countMode": "exact",
    }
    by_setting = town.with_settings(
        "Observations", [("$count", "true")], count_mode="limited", count_limit=10
    )
    assert _count(by_setting)["@iot.countLimited"] is True


def test_estimate_is_exact_below_the_limit(town: Town) -> None:
    first, _ = town.streams  # type: ignore[attr-defined]
    query = [("$count", "true"), ("countMode", "estimate")]
    small = town.json(f"Datastreams({first})/Observations", query)
    assert _count(small) == {"@iot.count": 40, "@iot.countMode": "exact"}


def test_estimate_beyond_the_limit_is_an_estimate(town: Town, database: Database) -> None:
    query = [("$count", "true"), ("countMode", "estimate"), ("$top", "1")]
    body = town.with_settings("Observations", query, count_limit=5)
    counted = _count(body)
    if database.url.get_backend_name() == "postgresql":
        # The planner may think the table small (no ANALYZE yet): then it counts up to the
        # limit and says so; otherwise its estimate is at least the limit.
        assert counted["@iot.countMode"] in ("estimate", "limited")
    else:
        assert counted["@iot.countMode"] == "estimate"
    assert isinstance(counted["@iot.count"], int)
    assert counted["@iot.count"] >= 5


def test_estimate_follows_the_planner_after_analyze(town: Town, database: Database) -> None:
    if database.url.get_backend_name() != "postgresql":
        pytest.skip("the planner's estimate is PostgreSQL's")
    with database.write() as session:
        session.connection().exec_driver_sql("ANALYZE sta_observation")
    query = [("$count", "true"), ("countMode", "estimate")]
    body = town.with_settings("Observations", [*query, ("$top", "1")], count_limit=5)
    assert body["@iot.countMode"] == "estimate"
    # Other tests' towns share the table: the estimate is of the tenant's rows, roughly.
    assert body["@iot.count"] >= 5


def test_count_modes_apply_to_data_array_and_geojson(town: Town) -> None:
    query = [("$count", "true"), ("countMode", "limited"), ("$top", "1")]
    for form in ("dataArray", "GeoJSON"):
        body = town.with_settings("Observations", [*query, ("$resultFormat", form)], count_limit=3)
        assert body["@iot.countLimited"] is True, form
        assert body["@iot.count"] == 3


def test_unknown_mode_is_a_bad_request(town: Town) -> None:
    detail = town.problem("Observations", [("$count", "true"), ("countMode", "guess")])
    assert "countMode: unknown mode 'guess' (known: exact, estimate, limited)" in detail
    twice = [("$count", "true"), ("countMode", "exact"), ("countMode", "limited")]
    assert "countMode is given more than once" in town.problem("Observations", twice)
