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

from sqlalchemy import type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from stadtkern.sensorthings.derived import LatestHead
from stadtkern.sensorthings.models import LatestObservation, ResultType
from stadtkern.sensorthings.results import COLUMNS as RESULT_COLUMNS
from stadtkern.sensorthings.times import format_instant

LATEST = LatestObservation.__table__
HEAD = LatestHead.__table__
_TIMES = ("phenomenon_time_start", "phenomenon_time_end", "result_time")


def columns(*, stored: bool) -> list[ColumnElement[Any]]:
    """Datastream id, head, tail, Observation id, the three times, then the result columns;
    `stored` (SQLite): every value as the driver gives it (times as text, JSON as text, no
    conversion by SQLAlchemy for 10,000 rows), for `entries_json`."""
    chosen: list[ColumnElement[Any]] = [
        LATEST.c.datastream_id,
        HEAD.c.head,
        HEAD.c.tail,
        LATEST.c.observation_id,
        *(LATEST.c[name] for name in _TIMES),
        *(LATEST.c[name] for name in RESULT_COLUMNS),
    ]
    if stored:
        return [type_coerce(column, NullType()) for column in chosen]
    return chosen


def json_string(text: str) -> str:
    """`text` as the inside of a JSON string (the base URL between head and tail)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def entries_json(rows: Sequence[Any], base: str) -> str:
    """The JSON array of the entries of `rows` (`columns(stored=True)`, SQLite)."""
    parts = []
    for _stream, head, tail, observation_id, start, end, result_time, *results in rows:
        time = stored_instant(start)
        if end is not None:
            time = f"{time}/{stored_instant(end)}"
        at = "null" if result_time is None else f'"{stored_instant(result_time)}"'
        parts.append(
            f'{head}{base}{tail}{{"@iot.id":{observation_id},"phenomenonTime":"{time}",'
            f'"result":{stored_result(*results)},"resultTime":{at}}}}}'
        )
    return "[" + ",".join(parts) + "]"


def stored_result(kind: int, number: Any, string: Any, boolean: Any, exact: Any) -> str:
    """The result as JSON text from the stored columns, as `results.result_value` reads
    them (`exact` is result_json's stored text: JSON as written, or SQL NULL)."""
    if kind == ResultType.NUMBER:
        return repr(float(number))
    if kind == ResultType.INTEGER:
        # result_json holds JSON null (not SQL NULL) unless the integer needs it
        return str(exact) if exact not in (None, "null") else str(int(number))
    if kind == ResultType.STRING:
        return json.dumps(string, ensure_ascii=False)
    if kind == ResultType.BOOLEAN:
        return "true" if boolean else "false"
    if kind == ResultType.OBJECT and exact is not None:
        return str(exact)
    return "null"


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
