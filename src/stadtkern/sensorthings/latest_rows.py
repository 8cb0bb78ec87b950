"""`Datastreams/$latest` entries written as JSON text: the columns read and, for SQLite,
the Python that joins them.

Each entry is its Datastream's rendered head (`sta_latest_head`, kept by triggers), the
request's base URL, the rendered tail, and the Observation written here, so no row turns
into dictionaries: on SQLite the times are taken as stored (text `YYYY-MM-DD
HH:MM:SS.ffffff`, UTC) and written without a datetime.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.derived import LatestHead
from stadtkern.sensorthings.models import LatestObservation, ResultType
from stadtkern.sensorthings.results import COLUMNS as RESULT_COLUMNS
from stadtkern.sensorthings.results import result_value
from stadtkern.sensorthings.times import format_instant

LATEST = LatestObservation.__table__
HEAD = LatestHead.__table__
_TIMES = ("phenomenon_time_start", "phenomenon_time_end", "result_time")


def columns(*, stored_times: bool) -> list[ColumnElement[Any]]:
    """Datastream id, head, tail, Observation id, the three times (as stored text when
    `stored_times`, SQLite), then the result columns."""
    times: list[ColumnElement[Any]] = [LATEST.c[name] for name in _TIMES]
    if stored_times:
        times = [type_coerce(time, String) for time in times]
    return [
        LATEST.c.datastream_id,
        HEAD.c.head,
        HEAD.c.tail,
        LATEST.c.observation_id,
        *times,
        *(LATEST.c[name] for name in RESULT_COLUMNS),
    ]


def json_string(text: str) -> str:
    """`text` as the inside of a JSON string (the base URL between head and tail)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def entries_json(rows: Sequence[Any], base: str) -> str:
    """The JSON array of the entries of `rows` (in `columns` order, SQLite's stored times)."""
    parts = []
    for stream_id, head, tail, observation_id, start, end, result_time, *results in rows:
        del stream_id
        kind, number = results[0], results[1]
        if kind == ResultType.NUMBER:
            result = repr(float(number))
        else:
            value = result_value(dict(zip(RESULT_COLUMNS, results, strict=True)))
            result = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        time = stored_instant(start)
        if end is not None:
            time = f"{time}/{stored_instant(end)}"
        at = "null" if result_time is None else f'"{stored_instant(result_time)}"'
        parts.append(
            f'{head}{base}{tail}{{"@iot.id":{observation_id},"phenomenonTime":"{time}",'
            f'"result":{result},"resultTime":{at}}}}}'
        )
    return "[" + ",".join(parts) + "]"


def stored_instant(text: str) -> str:
    """`format_instant` of a time as SQLite stores it (`YYYY-MM-DD HH:MM:SS.ffffff`, UTC)."""
    if len(text) == 26 and text[10] == " " and text[19] == ".":
        fraction = text[20:]
        seconds = f"{text[:10]}T{text[11:19]}"
        if fraction == "000000":
            return f"{seconds}Z"
        return f"{seconds}.{fraction[:3] if fraction.endswith('000') else fraction}Z"
    moment = datetime.fromisoformat(text)  # any other form: the slow, general way
    return format_instant(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment)
