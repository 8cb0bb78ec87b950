"""Hourly rollups of numeric results (`sta_observation_hour`), kept with the Observations.

    roll_up(session, rows)                          # new Observations (the ingest batch)
    recompute(session, tenant_id, stream_id, a, b)  # hours of [a, b] again from the rows
    hourly_rows(session, stream_id, 3600 * 24, ("avg", "max"), start, end)  # $aggregate

An hour holds a Datastream's Observations whose phenomenonTime starts in [hour, hour +
3600 s) (Unix seconds, UTC) with a numeric result (`result_number`, as `$aggregate` counts).
`roll_up` adds new rows to their hours (one upsert per Datastream and hour); it is right only
for Observations that are new, so the general writer, whose changes may also move or remove
Observations, has the touched hours computed again from the Observations (`recompute`).
Both run in the transaction that writes the Observations, so an hour never disagrees with
the rows after a commit.

`$aggregate` reads the hours when the interval is a whole number of hours (the parts of an
hour at `from` and `to` off the hour from the Observations): avg is sum/count, so it may
differ from the database's avg of the rows in the last digits (other order of additions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Double, Insert, Table, cast, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stadtkern.sensorthings import aggregate  # used at call time: it imports this module
from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.derived import ObservationHour

HOUR = 3600
ONE_HOUR = timedelta(seconds=HOUR)


def _hours_table() -> Table:
    table = ObservationHour.__table__
    assert isinstance(table, Table)  # noqa: S101 - a declarative model maps one table
    return table


HOURS = _hours_table()


def hour_of(moment: datetime) -> int:
    """The start of `moment`'s UTC hour in Unix seconds."""
    return (moment - aggregate.EPOCH) // ONE_HOUR * HOUR


def roll_up(session: Session, rows: Iterable[Sequence[Any]]) -> None:
    """Add new Observations to their hours, in the caller's transaction.

    `rows` are the Observations just inserted, each as `(tenant_id, datastream_id,
    phenomenon_time_start, result_number)`: the Datastream None for a MultiDatastream's
    (skipped), the time an aware datetime, the number None when the result is not numeric
    (skipped). Call it once per batch with all its rows: one statement for all hours.
    """
    hours: dict[tuple[int, int], list[Any]] = {}
    for tenant, stream, moment, number in rows:
        if stream is None or number is None:
            continue
        key = (int(stream), hour_of(moment))
        value = float(number)
        seen = hours.get(key)
        if seen is None:
            hours[key] = [tenant, 1, value, value, value]
        else:
            seen[1] += 1
            seen[2] += value
            seen[3] = min(seen[3], value)
            seen[4] = max(seen[4], value)
    if not hours:
        return
    parameters = [
        {
            "datastream_id": stream,
            "hour": hour,
            "tenant_id": tenant,
            "value_count": count,
            "value_sum": total,
            "value_min": low,
            "value_max": high,
        }
        for (stream, hour), (tenant, count, total, low, high) in sorted(hours.items())
    ]
    session.execute(_add(session), parameters)


def recompute(
    session: Session,
    tenant_id: int,
    datastream_id: int,
    first: datetime | None = None,
    last: datetime | None = None,
) -> None:
    """Compute the hours from `first`'s to `last`'s (default: all) of one Datastream again
    from its Observations, after changes that may have moved or removed some."""
    table = OBSERVATION.table
    moment, number = table.c.phenomenon_time_start, table.c.result_number
    gone = delete(HOURS).where(HOURS.c.datastream_id == datastream_id)
    where = [
        table.c.datastream_id == datastream_id,
        table.c.tenant_id == tenant_id,
        number.is_not(None),
    ]
    if first is not None:
        low = hour_of(first)
        gone = gone.where(HOURS.c.hour >= low)
        where.append(moment >= datetime.fromtimestamp(low, UTC))
    if last is not None:
        high = hour_of(last)
        gone = gone.where(HOURS.c.hour <= high)
        where.append(moment < datetime.fromtimestamp(high + HOUR, UTC))
    session.execute(gone)
    key = aggregate.bucket_key(moment, HOUR)
    grouped = (
        select(
            func.min(table.c.datastream_id),
            aggregate.bucket_seconds(key),
            func.min(table.c.tenant_id),
            func.count(number),
            func.sum(number),
            func.min(number),
            func.max(number),
        )
        .where(*where)
        .group_by(key)
    )
    columns = ["datastream_id", "hour", "tenant_id", *_VALUES]
    session.execute(HOURS.insert().from_select(columns, grouped))


_VALUES = ("value_count", "value_sum", "value_min", "value_max")


def hourly_rows(
    session: Session,
    datastream_id: int,
    seconds: int,
    functions: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
) -> list[tuple[Any, ...]] | None:
    """`aggregate.bucket_rows` from the hours, or None when the buckets are not whole hours
    or no whole hour lies between `start` and `end` (then only the Observations answer).

    The whole hours come from the rollups; the parts of an hour before the first and after
    the last whole hour (`from`/`to` off the hour) from the Observations, merged into their
    buckets."""
    if seconds % HOUR:
        return None
    low = None if start is None else int(-(-_seconds(start) // HOUR)) * HOUR  # next full hour
    high = None if end is None else hour_of(end)
    if low is not None and high is not None and low >= high:
        return None
    rows = _from_hours(session, datastream_id, seconds, low, high)
    edges = []
    if start is not None and low is not None and _seconds(start) < low:
        edges.append((start, datetime.fromtimestamp(low, UTC)))
    if end is not None and high is not None and high < _seconds(end):
        edges.append((datetime.fromtimestamp(high, UTC), end))
    if edges:
        merged = {bucket: list(values) for bucket, *values in rows}
        for first, last in edges:
            edge = aggregate.bucket_rows(session, datastream_id, seconds, _PARTS, first, last)
            for bucket, count, total, smallest, largest in edge:
                seen = merged.get(bucket)
                if seen is None:
                    merged[bucket] = [count, total, smallest, largest]
                else:
                    seen[0] += count
                    seen[1] += total
                    seen[2] = min(seen[2], smallest)
                    seen[3] = max(seen[3], largest)
        rows = sorted((bucket, *values) for bucket, values in merged.items())
    pick = [_PICK[name] for name in functions]
    return [(row[0], *[take(*row[1:]) for take in pick]) for row in rows]


_PARTS = ("count", "sum", "min", "max")
# each function from (count, sum, min, max) of a bucket
_PICK: dict[str, Callable[[int, float, float, float], Any]] = {
    "avg": lambda count, total, _low, _high: total / count,
    "min": lambda _count, _total, low, _high: low,
    "max": lambda _count, _total, _low, high: high,
    "count": lambda count, _total, _low, _high: count,
    "sum": lambda _count, total, _low, _high: total,
}


def _from_hours(
    session: Session, datastream_id: int, seconds: int, low: int | None, high: int | None
) -> list[tuple[Any, ...]]:
    """(bucket, count, sum, min, max) of the hours in [low, high), oldest first (counts as
    int, the others as float: the database's own types)."""
    hour = HOURS.c.hour
    bucket = hour - (((hour % seconds) + seconds) % seconds)
    where = [HOURS.c.datastream_id == datastream_id]
    if low is not None:
        where.append(hour >= low)
    if high is not None:
        where.append(hour < high)
    query = (
        select(
            bucket,
            cast(func.sum(HOURS.c.value_count), BigInteger),
            func.sum(HOURS.c.value_sum, type_=Double),
            func.min(HOURS.c.value_min, type_=Double),
            func.max(HOURS.c.value_max, type_=Double),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    )
    return [tuple(row) for row in session.execute(query)]


def _seconds(moment: datetime) -> float:
    return (moment - aggregate.EPOCH).total_seconds()


def _add(session: Session) -> Insert:
    """Insert an hour, or add to the stored one."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(HOURS)
    new, old = statement.excluded, HOURS.c
    smaller = func.least if dialect == "postgresql" else func.min
    larger = func.greatest if dialect == "postgresql" else func.max
    return statement.on_conflict_do_update(
        index_elements=[old.datastream_id, old.hour],
        set_={
            "value_count": old.value_count + new.value_count,
            "value_sum": old.value_sum + new.value_sum,
            "value_min": smaller(old.value_min, new.value_min),
            "value_max": larger(old.value_max, new.value_max),
        },
    )
