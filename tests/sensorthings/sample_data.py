"""Kaiserslautern-like stations and observations, as Python rows shared by tests and tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import LineString, Point, Polygon

BASE = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)

STATIONS: list[dict[str, Any]] = [
    {
        "id": 1,
        "name": "Stiftsplatz",
        "description": "Luftqualität am Stiftsplatz",
        "properties": {"owner": "Stadt Kaiserslautern", "height": 3.5, "public": True},
        "location": Point(7.7689, 49.4447),
        "installed_at": datetime(2021, 3, 1, 8, 30, tzinfo=UTC),
    },
    {
        "id": 2,
        "name": "Fackelwoog",
        "description": "Pegel am Fackelwoog",
        "properties": {"owner": "SWK", "height": 1, "public": False, "depth": 4},
        "location": Point(7.7523, 49.4409),
        "installed_at": datetime(2022, 7, 15, 12, 0, 0, 250000, tzinfo=UTC),
    },
    {
        "id": 3,
        "name": "Uni-Ost",
        "description": "Wetterstation RPTU",
        "properties": {"owner": "RPTU", "height": "12"},
        "location": Point(7.7531, 49.4232),
        "installed_at": datetime(2019, 1, 1, tzinfo=UTC),
    },
    {
        "id": 4,
        "name": "Pariser Straße",
        "description": "Lärm entlang der Pariser Straße",
        "properties": {"owner": None},
        "location": LineString([(7.7560, 49.4440), (7.7465, 49.4470), (7.7380, 49.4500)]),
        "installed_at": datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    },
    {
        "id": 5,
        "name": "Volkspark",
        "description": "Bodenfeuchte im Volkspark",
        "properties": {"owner": "Stadt Kaiserslautern", "depth": 0.3},
        "location": Polygon(
            [(7.7600, 49.4390), (7.7660, 49.4390), (7.7660, 49.4420), (7.7600, 49.4420)]
        ),
        "installed_at": datetime(2024, 4, 1, 6, 0, tzinfo=UTC),
    },
    {
        "id": 6,
        "name": "Betzenberg",
        "description": None,
        "properties": {},
        "location": Point(7.7763, 49.4345),
        "installed_at": None,
    },
    {
        "id": 7,
        "name": "ärztehaus",
        "description": "O'Brien's Sensor",
        "properties": {"owner": "privat", "tags": ["a", "b"]},
        "location": None,
        "installed_at": datetime(2025, 2, 28, 0, 0, tzinfo=UTC),
    },
]

_QUALITIES = ["good", "Good", "suspect", None, "bad", "good"]


def _observation(index: int) -> dict[str, Any]:
    start = BASE + timedelta(minutes=37 * index, microseconds=1000 * (index % 4))
    # Every fifth observation covers an hour; the others are instants (end = start).
    end = start + timedelta(hours=1) if index % 5 == 0 else start
    value = None if index % 11 == 7 else round(((index * 7) % 23) - 5 + (index % 3) * 0.25, 2)
    result: Any = {"level": (index % 6) - 2, "unit": "cm"} if index % 4 == 0 else value
    if index % 9 == 4:
        result = "offline"
    parameters: dict[str, Any] = {"depth": index % 3, "method": "radar" if index % 2 else "sonic"}
    if index % 8 == 3:
        parameters = {"depth": str(index % 3)}
    return {
        "id": 100 + index,
        "station_id": (index % 6) + 1 if index % 13 != 12 else None,
        "value": value,
        "result": result,
        "phenomenon_start": start,
        "phenomenon_end": end,
        "result_time": None if index % 10 == 9 else start + timedelta(seconds=index * 13),
        "count": index % 7 - 2,
        "quality": _QUALITIES[index % len(_QUALITIES)],
        "valid": None if index % 12 == 5 else index % 3 != 1,
        "parameters": parameters,
    }


OBSERVATIONS: list[dict[str, Any]] = [_observation(index) for index in range(40)]
