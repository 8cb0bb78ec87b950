"""`Datastreams(id)/Observations/$aggregate`: time buckets of numeric results, in SQL.

    GET .../Datastreams(7)/Observations/$aggregate?interval=PT1H&fn=avg,min,max
        &from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z
    {"value": [{"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z",
                "avg": 3.2, "min": 1.0, "max": 5.5}, ...]}

Buckets are aligned to the Unix epoch (a bucket of PT1H starts on the full hour, of P1D at
midnight UTC) and hold the Observations whose phenomenonTime starts in
[start, start + interval). `from` (inclusive) and `to` (exclusive) bound the Observations,
by default the Datastream's own phenomenonTime. Only numeric results count; buckets without
any are left out. One GROUP BY over the index (datastream_id, phenomenon_time_start):
PostgreSQL bins with `date_bin`, SQLite with `strftime('%s')` over the stored text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import INTEGER, BigInteger, Integer, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from stadtkern.db.base import UtcDateTime
from stadtkern.errors import BadRequest
from stadtkern.sensorthings import rollups
from stadtkern.sensorthings.bucket_json import buckets_json
from stadtkern.sensorthings.catalogue import DATASTREAM, OBSERVATION
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.query import QueryOptions
from stadtkern.sensorthings.query.per_dialect import PerDialect
from stadtkern.sensorthings.times import format_instant, parse_instant

FUNCTIONS = ("avg", "min", "max", "count", "sum")
DEFAULT_FUNCTIONS = ("avg", "min", "max", "count")
MIN_SECONDS = 1
MAX_SECONDS = 366 * 86_400
MAX_BUCKETS = 100_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?",
    re.ASCII,
)
_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3600, "minutes": 60, "seconds": 1}
_PARAMETERS = ("interval", "fn", "from", "to")


def aggregate(
    session: Session, context: ReadContext, datastream_id: int, options: QueryOptions
) -> Document:
    """The buckets of one Datastream's numeric results (the tenant was checked by resolve)."""
    if options != QueryOptions():
        raise BadRequest("$aggregate takes no $ options; its parameters are interval, fn, from, to")
    values = _parameters(context)
    if "interval" not in values:
        raise BadRequest("$aggregate: the parameter interval is required (e.g. interval=PT1H)")
    seconds = parse_interval_seconds(values["interval"])
    functions = parse_functions(values.get("fn"))
    start = parse_instant(values["from"], "from") if "from" in values else None
    end = parse_instant(values["to"], "to") if "to" in values else None
    stream = DATASTREAM.table
    first, last = session.execute(
        select(stream.c.phenomenon_time_start, stream.c.phenomenon_time_end).where(
            stream.c.id == datastream_id, stream.c.tenant_id == context.tenant.id
        )
    ).one_or_none() or (None, None)
    if start is not None and end is not None and end < start:
        raise BadRequest("$aggregate: to lies before from")
    low, high = start or first, end or last
    if low is None or high is None:
        return Document({"value": []})  # no Observations and no bounds: nothing to bucket
    count = _bucket_count(low, high, seconds)
    if count > MAX_BUCKETS:
        raise BadRequest(
            f"$aggregate: {count} buckets of {seconds} s between {format_instant(low)} and "
            f"{format_instant(high)}; at most {MAX_BUCKETS} (widen interval or narrow from/to)"
        )
    rows = None
    if context.settings.aggregate_rollups:  # whole hours: read from sta_observation_hour
        rows = rollups.hourly_rows(session, datastream_id, seconds, functions, start, end)
    if rows is None:
        rows = bucket_rows(session, datastream_id, seconds, functions, start, end)
    # Thousands of buckets: written as JSON text, times from epoch seconds.
    return Document(buckets_json(rows, seconds, functions))


def buckets(
    session: Session,
    datastream_id: int,
    seconds: int,
    functions: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
) -> list[dict[str, Any]]:
    """The epoch-aligned buckets of one Datastream's numeric results, oldest first: `start`
    and `end` as datetimes, then one value per function (buckets without values left out)."""
    step = timedelta(seconds=seconds)
    answer = []
    for begin, *results in bucket_rows(session, datastream_id, seconds, functions, start, end):
        moment = EPOCH + timedelta(seconds=begin)
        entry: dict[str, Any] = {"start": moment, "end": moment + step}
        entry.update(zip(functions, results, strict=True))
        answer.append(entry)
    return answer


def bucket_rows(
    session: Session,
    datastream_id: int,
    seconds: int,
    functions: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[Any, ...]]:
    """(bucket start in Unix seconds, one value per function) per bucket, oldest first:
    counts as int, the others as float."""
    with planner_settings(session, enable_sort="off"):
        rows = session.execute(_query(datastream_id, seconds, functions, start, end)).all()
    return typed_buckets(rows, functions)


def typed_buckets(rows: Sequence[Any], functions: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows (bucket, values...) sorted by bucket, counts as int and the others as float."""
    convert = [int if name == "count" else float for name in functions]
    answer = [
        (int(bucket), *[to(value) for to, value in zip(convert, results, strict=True)])
        for bucket, *results in rows
    ]
    answer.sort()
    return answer


@contextmanager
def planner_settings(session: Session, **settings: str) -> Iterator[None]:
    """PostgreSQL planner settings for one statement, restored after it.

    The planner cannot tell how many buckets `date_bin` makes (it assumes one per distinct
    time, 500,000 for a year of minutes), so it sorts all rows (spilling to disk) instead of
    hashing 8,760 groups; without sorting it hashes. Restored, not `SET LOCAL`, because a
    `$batch` may run further reads in the same transaction.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    saved: dict[str, str] = {}
    for name, value in settings.items():
        saved[name] = str(session.scalar(select(func.current_setting(name))))
        session.execute(select(func.set_config(name, value, True)))
    try:
        yield
    finally:
        for name, value in saved.items():
            session.execute(select(func.set_config(name, value, True)))


def parse_interval_seconds(value: str) -> int:
    """A fixed-length ISO 8601 duration (weeks, days, hours, minutes, seconds) in seconds."""
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        raise BadRequest(
            f"interval: {value!r} is not an ISO 8601 duration of fixed length such as PT15M, "
            "PT1H or P1D (years and months have no fixed length)"
        )
    seconds = sum(
        int(count) * _UNIT_SECONDS[unit]
        for unit, count in match.groupdict().items()
        if count is not None
    )
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise BadRequest(f"interval: {value!r} is not between PT1S and P366D")
    return seconds


def parse_functions(value: str | None) -> tuple[str, ...]:
    """The aggregate functions of `fn` (default avg,min,max,count), in the order given."""
    if value is None:
        return DEFAULT_FUNCTIONS
    names = [name.strip().lower() for name in value.split(",")]
    unknown = [name for name in names if name not in FUNCTIONS]
    if unknown or not names:
        raise BadRequest(
            f"fn: unknown function {unknown[0] if unknown else value!r} "
            f"(known: {', '.join(FUNCTIONS)})"
        )
    return tuple(dict.fromkeys(names))


def _parameters(context: ReadContext) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in context.query_items:
        if name not in _PARAMETERS:
            continue
        if name in values:
            raise BadRequest(f"$aggregate: {name} is given more than once")
        values[name] = value
    return values


def _bucket_count(low: datetime, high: datetime, seconds: int) -> int:
    first = math.floor((low - EPOCH).total_seconds() / seconds)
    last = math.floor((high - EPOCH).total_seconds() / seconds)
    return last - first + 1


def _query(
    datastream_id: int,
    seconds: int,
    functions: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
) -> Any:
    table = OBSERVATION.table
    moment, number = table.c.phenomenon_time_start, table.c.result_number
    key = bucket_key(moment, seconds)
    aggregates = [_function(name, number).label(name) for name in functions]
    where = [table.c.datastream_id == datastream_id, number.is_not(None)]
    if start is not None:
        where.append(moment >= start)
    if end is not None:
        where.append(moment < end)
    # No ORDER BY: the buckets are sorted in Python, so that nothing pushes PostgreSQL
    # towards sorting all rows instead of hashing the (few) buckets.
    return select(bucket_seconds(key), *aggregates).where(*where).group_by(key)


def bucket_key(moment: ColumnElement[Any], seconds: int) -> ColumnElement[Any]:
    """What groups `moment` into its epoch-aligned bucket: the bucket's start as a timestamp
    (PostgreSQL, `date_bin`) or in Unix seconds (SQLite, which stores times as text
    `YYYY-MM-DD HH:MM:SS.ffffff`)."""
    stride = func.make_interval(0, 0, 0, 0, 0, 0, literal(seconds, Integer()))
    postgresql = func.date_bin(stride, moment, literal(EPOCH, UtcDateTime()))
    unix = cast(func.strftime("%s", moment), INTEGER)
    # Integer division truncates toward zero; the modulo below floors for times before 1970.
    sqlite = unix - (((unix % seconds) + seconds) % seconds)
    return PerDialect(postgresql=postgresql, sqlite=sqlite, type_=NullType())


def bucket_seconds(key: ColumnElement[Any]) -> ColumnElement[Any]:
    """A bucket's start in Unix seconds, computed once per bucket rather than per row
    (`extract` yields a numeric on PostgreSQL, slow to make 500,000 times)."""
    epoch = cast(func.date_part("epoch", key), BigInteger)
    return PerDialect(postgresql=epoch, sqlite=key, type_=NullType())


def _function(name: str, number: ColumnElement[Any]) -> ColumnElement[Any]:
    if name == "count":
        return func.count(number)
    function: ColumnElement[Any] = getattr(func, name)(number)
    return function
