"""Request bodies validated into column values: types, required fields, times, GeoJSON, sizes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.bodies import BodyMode, parse_body
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    HISTORICAL_LOCATION,
    LOCATION,
    OBSERVATION,
    TASK,
    THING,
)
from stadtkern.sensorthings.models import ResultType
from stadtkern.sensorthings.times import format_instant, format_time, parse_instant

POINT = {"type": "Point", "coordinates": [7.7689, 49.4447]}
CREATE = BodyMode.CREATE
FULL_WIDTH_2026 = "\uff12\uff10\uff12\uff16"  # digits, but not ASCII ones


def _location(**extra: Any) -> dict[str, Any]:
    body = {"name": "a", "description": "b", "encodingType": "application/geo+json"}
    return {**body, "location": POINT, **extra}


def test_fields_and_links_are_split() -> None:
    body = parse_body(
        THING,
        {"name": "L", "description": "d", "Locations": [{"@iot.id": 1}], "@iot.id": 9},
        mode=CREATE,
    )
    assert body.columns == {"name": "L", "description": "d"}
    assert body.fields == frozenset({"name", "description"})
    assert body.links == {"Locations": [{"@iot.id": 1}]}


def test_unknown_properties_are_named() -> None:
    with pytest.raises(BadRequest, match="'colour', 'size'") as raised:
        parse_body(THING, {"name": "L", "description": "", "size": 1, "colour": 2}, mode=CREATE)
    assert raised.value.extensions["properties"] == ["colour", "size"]


def test_required_fields_on_create_and_put_but_not_patch() -> None:
    with pytest.raises(BadRequest, match="'description'"):
        parse_body(THING, {"name": "L"}, mode=CREATE)
    with pytest.raises(BadRequest, match="'description'"):
        parse_body(THING, {"name": "L"}, mode=BodyMode.REPLACE)
    assert parse_body(THING, {"name": "L"}, mode=BodyMode.MERGE).columns == {"name": "L"}


def test_put_resets_missing_optional_fields() -> None:
    body = parse_body(THING, {"name": "L", "description": "d"}, mode=BodyMode.REPLACE)
    assert body.columns == {"name": "L", "description": "d", "properties": None}


def test_server_fields_are_ignored() -> None:
    body = parse_body(
        DATASTREAM,
        {"phenomenonTime": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "observedArea": POINT},
        mode=BodyMode.MERGE,
    )
    assert body.columns == {}
    task = parse_body(TASK, {"taskingParameters": {}, "creationTime": "x"}, mode=CREATE)
    assert task.columns == {"tasking_parameters": {}}


@pytest.mark.parametrize(
    ("entity", "body", "message"),
    [
        (THING, {"name": 5}, "expected a string"),
        (THING, {"name": None}, "may not be null"),
        (THING, {"name": "x" * 256}, "at most 255"),
        (THING, {"name": "a\x00b"}, "NUL"),
        (THING, {"properties": []}, "expected a JSON object"),
        (LOCATION, {"encodingType": "e" * 101}, "at most 100"),
        (DATASTREAM, {"observationType": "o" * 256}, "at most 255"),
        (DATASTREAM, {"unitOfMeasurement": "Celsius"}, "JSON object"),
        (LOCATION, {"encodingType": "application/pdf"}, "geo\\+json"),
        (LOCATION, {"location": {"type": "Point", "coordinates": [200, 0]}}, "longitude"),
        (LOCATION, {"location": "POINT(1 2)"}, "GeoJSON"),
        (LOCATION, {"location": {"type": "Feature", "geometry": None}}, "geometry"),
        (THING, [], "expected a JSON object"),
        (HISTORICAL_LOCATION, {"time": "2026-01-01T00:00:00"}, "time zone"),
        (HISTORICAL_LOCATION, {"time": "2026-02-30T00:00:00Z"}, "invalid date-time"),
        (HISTORICAL_LOCATION, {"time": "2026-01-01T00:00:00+25:00"}, "invalid"),
        (HISTORICAL_LOCATION, {"time": f"{FULL_WIDTH_2026}-01-01T00:00:00Z"}, "not an ISO 8601"),
        (HISTORICAL_LOCATION, {"time": 1700000000}, "string"),
        (OBSERVATION, {"validTime": "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z"}, "ends before"),
        (OBSERVATION, {"validTime": "2026-01-02T00:00:00Z"}, "interval"),
        (OBSERVATION, {"phenomenonTime": None}, "may not be null"),
    ],
)
def test_invalid_values(entity: Any, body: Any, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_body(entity, body, mode=BodyMode.MERGE)


def test_geojson_is_kept_as_sent_with_its_geometry() -> None:
    feature = {"type": "Feature", "geometry": POINT, "properties": {"a": 1}}
    body = parse_body(LOCATION, _location(location=feature), mode=CREATE)
    assert body.columns["location_json"] == feature
    assert body.columns["geom"].wkt == "POINT (7.7689 49.4447)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T10:00:00Z", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T11:00:00+01:00", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T03:00:00-0700", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T10:00Z", datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ("2026-12-01T10:00:00.1234567Z", datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_times_become_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_instant(text, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


def test_observation_times_and_result() -> None:
    body = parse_body(
        OBSERVATION,
        {
            "phenomenonTime": "2026-12-01T10:00:00Z/2026-12-01T11:00:00Z",
            "resultTime": "2026-12-01T11:00:00Z",
            "result": 12,
        },
        mode=CREATE,
    )
    columns = body.columns
    assert columns["phenomenon_time_start"] == datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert columns["phenomenon_time_end"] == datetime(2026, 12, 1, 11, tzinfo=UTC)
    assert columns["result_type"] == ResultType.INTEGER
    assert columns["result_number"] == 12.0
    instant = parse_body(
        OBSERVATION, {"phenomenonTime": "2026-12-01T10:00:00Z"}, mode=BodyMode.MERGE
    )
    assert instant.columns["phenomenon_time_end"] is None
    null = parse_body(OBSERVATION, {"result": None}, mode=BodyMode.MERGE)
    assert null.columns["result_type"] == ResultType.NULL


def test_time_text() -> None:
    zone = timezone(timedelta(hours=2))
    assert format_instant(datetime(2026, 12, 1, 12, tzinfo=zone)) == "2026-12-01T10:00:00Z"
    assert format_instant(datetime(2026, 12, 1, 10, 0, 0, 250000, tzinfo=UTC)).endswith(".250Z")
    assert format_instant(datetime(2026, 12, 1, 10, 0, 0, 1, tzinfo=UTC)).endswith(".000001Z")
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert format_time(start, end) == "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"
    assert format_time(None, None) is None
