"""$orderby compiled to ORDER BY: same order on both backends, nulls first ascending."""

from __future__ import annotations

from typing import Any

import pytest

from stadtkern.sensorthings.query import QueryError
from tests.sensorthings.conftest import SensorTables
from tests.sensorthings.sample_data import OBSERVATIONS, STATIONS


def _python_order(rows: list[dict[str, Any]], key: str, *, descending: bool) -> list[int]:
    by_id = sorted(rows, key=lambda row: row["id"])
    present = [row for row in by_id if row[key] is not None]
    missing = [row for row in by_id if row[key] is None]
    present.sort(key=lambda row: row[key], reverse=descending)
    if descending:
        # Python's stable reverse sort keeps equal keys in id order, as the SQL tie-break does.
        return [row["id"] for row in present + missing]
    return [row["id"] for row in missing + present]


@pytest.mark.parametrize(
    ("orderby", "column", "descending"),
    [
        ("quality", "quality", False),
        ("quality desc", "quality", True),
        ("value asc", "value", False),
        ("value desc", "value", True),
        ("resultTime desc", "result_time", True),
        ("valid", "valid", False),
    ],
)
def test_observation_order(
    sensor_tables: SensorTables, orderby: str, column: str, descending: bool
) -> None:
    expected = _python_order(OBSERVATIONS, column, descending=descending)
    assert sensor_tables.ids(sensor_tables.observations, "true", orderby) == expected


def test_strings_sort_by_code_point(sensor_tables: SensorTables) -> None:
    expected = [row["id"] for row in sorted(STATIONS, key=lambda row: row["name"])]
    assert sensor_tables.ids(sensor_tables.stations, "true", "name") == expected


def test_several_keys_and_navigation(sensor_tables: SensorTables) -> None:
    names = {row["id"]: row["name"] for row in STATIONS}

    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        name = names.get(row["station_id"])
        return (name is not None, name or "", -row["phenomenon_start"].timestamp())

    by_id = sorted(OBSERVATIONS, key=lambda row: row["id"])
    expected = [row["id"] for row in sorted(by_id, key=key)]
    found = sensor_tables.ids(
        sensor_tables.observations, "true", "Station/name, phenomenonTime desc"
    )
    assert found == expected


def test_json_sorts_numbers_then_strings(sensor_tables: SensorTables) -> None:
    # heights: 1 → 3.5, 2 → 1, 3 → "12"; the others have none (null sorts first ascending).
    assert sensor_tables.ids(sensor_tables.stations, "true", "properties/height, name") == [
        6,
        4,
        5,
        7,
        3,
        2,
        1,
    ]


@pytest.mark.parametrize(
    ("orderby", "message"),
    [
        ("location", "cannot order by a geometry"),
        ("Observations/value", "cannot order by a to-many navigation"),
        ("nope", "Station has no property 'nope'"),
    ],
)
def test_unorderable(sensor_tables: SensorTables, orderby: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        sensor_tables.ids(sensor_tables.stations, "true", orderby)
