"""Keyset paging: nextLinks continue by `$skiptoken` after the last row, without OFFSET."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from stadtkern.db import Database
from tests.conftest import TenantFixture
from tests.sensorthings.fast_reads import Json, Town

MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FACKELWOOG = (7.7585, 49.4484)


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """One Datastream with 23 Observations: equal times, intervals, resultTimes and gaps."""
    town = Town.make(client, make_tenant, database)
    _, (stream,) = town.stream("Lantern", at=FACKELWOOG)
    town.observe(stream, [(MORNING + timedelta(minutes=i // 3), float(i % 5)) for i in range(18)])
    for index, (time, result_time) in enumerate(
        [
            ("2026-11-30T08:02:00Z/2026-11-30T08:05:00Z", None),
            ("2026-11-30T08:02:00Z/2026-11-30T08:03:00Z", "2026-11-30T09:00:00Z"),
            ("2026-11-30T08:02:00Z", "2026-11-30T09:00:00Z"),
            ("2026-11-30T07:00:00Z", "2026-11-30T08:00:00Z"),
            ("2026-11-30T07:00:00Z", None),
        ]
    ):
        body = {"phenomenonTime": time, "result": index, "resultTime": result_time}
        assert town.post(f"Datastreams({stream})/Observations", body).status_code == 201
    town.path = f"Datastreams({stream})/Observations"  # type: ignore[attr-defined]
    return town


def _walk(town: Town, path: str, query: list[tuple[str, str]]) -> tuple[list[int], list[str]]:
    """Every id over all pages, and the nextLinks followed."""
    page = town.json(path, query)
    seen = [entity["@iot.id"] for entity in page["value"]]
    links = []
    while "@iot.nextLink" in page:
        links.append(page["@iot.nextLink"])
        assert len(links) < 50
        page = town.follow(page["@iot.nextLink"])
        seen += [entity["@iot.id"] for entity in page["value"]]
    return seen, links


@pytest.mark.parametrize(
    "orderby",
    [
        None,
        "phenomenonTime desc",
        "phenomenonTime",
        "resultTime",
        "resultTime desc",
        "result desc, phenomenonTime",
        "id desc",
    ],
)
def test_pages_by_token_give_the_same_rows_as_one_page(town: Town, orderby: str | None) -> None:
    path = town.path  # type: ignore[attr-defined]
    order = [] if orderby is None else [("$orderby", orderby)]
    whole = town.json(path, [*order, ("$top", "1000"), ("$select", "id")])
    assert len(whole["value"]) == 23
    seen, links = _walk(town, path, [*order, ("$top", "4"), ("$select", "id")])
    assert seen == [entity["@iot.id"] for entity in whole["value"]]
    assert len(links) == 5
    for link in links:
        names = [name for name, _ in parse_qsl(urlsplit(link).query)]
        assert "$skiptoken" in names
        assert "$skip" not in names


def test_entity_sets_page_by_id_and_skip_still_works(town: Town) -> None:
    for index in range(5):
        town.stream(f"Mast {index}", at=FACKELWOOG)
    whole = [thing["@iot.id"] for thing in town.json("Things", [("$top", "100")])["value"]]
    seen, _ = _walk(town, "Things", [("$top", "2")])
    assert seen == whole
    skipped, links = _walk(town, "Things", [("$top", "2"), ("$skip", "3")])
    assert skipped == whole[3:]
    assert all("$skip=" not in link for link in links)


@contextmanager
def _statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((str(args[2]), args[3]))

    event.listen(database.read_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.read_engine, "before_cursor_execute", record)


def test_a_token_page_is_a_range_condition_not_an_offset(town: Town) -> None:
    path = town.path  # type: ignore[attr-defined]
    first = town.json(path, [("$orderby", "phenomenonTime desc"), ("$top", "3")])
    query = parse_qsl(urlsplit(first["@iot.nextLink"]).query)
    with _statements(town.database) as seen:  # the app has its own engine; this one is ours
        town.with_settings(path, query)
    pages = [(sql, params) for sql, params in seen if "phenomenon_time_start DESC" in sql]
    assert pages
    for sql, params in pages:
        # SQLAlchemy always writes OFFSET on SQLite, as 0 when none is given.
        assert "OFFSET" not in sql.upper() or list(params)[-1] == 0, sql
        # The leading key is a NOT NULL column, ordered without NULLS LAST: an index serves.
        assert "NULLS" not in sql.split("ORDER BY")[1].split(",")[0]


def _token(page: Json) -> str:
    return dict(parse_qsl(urlsplit(page["@iot.nextLink"]).query))["$skiptoken"]


def test_tokens_fit_only_their_own_collection_and_order(town: Town) -> None:
    path = town.path  # type: ignore[attr-defined]
    by_time = _token(town.json(path, [("$orderby", "phenomenonTime desc"), ("$top", "2")]))
    by_id = _token(town.json("Observations", [("$top", "2")]))
    other_order = [("$orderby", "resultTime"), ("$skiptoken", by_time)]
    assert "belongs to another collection or $orderby" in town.problem(path, other_order)
    assert "belongs to another collection" in town.problem(path, [("$skiptoken", by_id)])
    assert "malformed token" in town.problem(path, [("$skiptoken", "not-a-token")])
    assert "malformed token" in town.problem(path, [("$skiptoken", "eyJzIjoxfQ")])
    both = [("$skiptoken", by_id), ("$skip", "2")]
    assert "$skiptoken and $skip cannot be combined" in town.problem("Observations", both)
    same_order_other_case = [("$orderby", "phenomenonTime  DESC"), ("$skiptoken", by_time)]
    assert town.json(path, same_order_other_case)["value"]
