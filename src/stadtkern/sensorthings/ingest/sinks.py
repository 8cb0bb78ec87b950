"""Writing rows of Observations in bulk: binary COPY on PostgreSQL, executemany on SQLite.

A record is `[id, tenant_id, *row]` (rows.COLUMNS order). Ids are taken before the insert:
on PostgreSQL from the table's sequence, all of a batch's in one round trip; on SQLite, the
single writer's transaction, after the greatest id there is (what INTEGER PRIMARY KEY does).
Values on SQLite go through the column types' own bind processors, so they are stored as
the general writer (SQLAlchemy) stores them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Dialect, func, select, text
from sqlalchemy.orm import Session

from stadtkern.db.base import UtcDateTime
from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.ingest.rows import COLUMNS

TABLE = OBSERVATION.table
RECORD_COLUMNS = ("id", "tenant_id", *COLUMNS)
SEQUENCE = "sta_observation_id_seq"
_NAMES = ", ".join(RECORD_COLUMNS)
COPY = f"COPY {TABLE.name} ({_NAMES}) FROM STDIN (FORMAT BINARY)"
INSERT = f"INSERT INTO {TABLE.name} ({_NAMES}) VALUES ({', '.join('?' * len(RECORD_COLUMNS))})"  # noqa: S608
# PostgreSQL types of RECORD_COLUMNS, for the binary COPY.
PG_TYPES = {
    "id": "int8",
    "tenant_id": "int8",
    "datastream_id": "int8",
    "multi_datastream_id": "int8",
    "feature_of_interest_id": "int8",
    "phenomenon_time_start": "timestamptz",
    "phenomenon_time_end": "timestamptz",
    "result_time": "timestamptz",
    "result_type": "int2",
    "result_number": "float8",
    "result_string": "text",
    "result_boolean": "bool",
    "result_json": "json",
    "result_quality": "json",
    "valid_time_start": "timestamptz",
    "valid_time_end": "timestamptz",
    "parameters": "json",
}

Record = list[Any]


def allocate_ids(session: Session, count: int) -> list[int]:
    """`count` new Observation ids, ascending."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # One row holding every id: a row per id costs more than the COPY of its Observation.
        ids = session.scalar(
            text(f"SELECT array_agg(nextval('{SEQUENCE}')) FROM generate_series(1, :count)"),  # noqa: S608
            {"count": count},
        )
        return sorted(ids)
    greatest = session.scalar(select(func.max(TABLE.c.id))) or 0
    return list(range(greatest + 1, greatest + 1 + count))


def insert_records(session: Session, records: Sequence[Record]) -> None:
    """Insert the records in the session's transaction."""
    if not records:
        return
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None  # noqa: S101 - an open session has its connection
    if connection.dialect.name == "postgresql":
        with driver.cursor() as cursor, cursor.copy(COPY) as copy:
            copy.set_types([PG_TYPES[name] for name in RECORD_COLUMNS])
            for record in records:
                copy.write_row(record)
        return
    for position, convert in _sqlite_converters(connection.dialect):
        column = [record[position] for record in records]
        if column.count(None) == len(column):
            continue  # a column the batch leaves empty (most of them) costs one pass
        for record, value in zip(records, column, strict=True):
            if value is not None:
                record[position] = convert(value)
    driver.executemany(INSERT, records)


@cache
def _sqlite_converters(dialect: Dialect) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """Per column that needs one, what turns a value into what SQLite stores: the column
    type's own bind processor, except for times, written as it writes them but directly."""
    found: list[tuple[int, Callable[[Any], Any]]] = []
    for position, name in enumerate(RECORD_COLUMNS):
        column_type = TABLE.c[name].type
        if isinstance(column_type, UtcDateTime):
            found.append((position, sqlite_time))
            continue
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            found.append((position, processor))
    return tuple(found)


def sqlite_time(moment: datetime) -> str:
    """An aware datetime as SQLAlchemy's SQLite DATETIME stores a UtcDateTime: UTC, with
    microseconds, no zone (`2025-03-01 10:00:00.000000`)."""
    if moment.tzinfo is UTC:  # what the parsers give: the text without `+00:00`
        return moment.isoformat(" ", "microseconds")[:26]
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    elif moment.tzinfo is None:
        raise ValueError("naive datetime given; Stadtkern stores aware timestamps only")
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")
