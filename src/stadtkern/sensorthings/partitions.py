"""Monthly partitions of the Observations on PostgreSQL.

`sta_observation` is partitioned by RANGE (phenomenon_time_start): one partition per UTC
month, `sta_partitions.sta_observation_y2026m12`, plus `sta_partitions.sta_observation_default`
for any time no monthly partition covers, so that an insert never fails for want of a
partition. The partitions live in a schema of their own: the public schema shows the
logical tables only (the schema comparison of the migrations test sees no partitions).

The migration creates the months of the existing rows, the past 24 months and the next 3;
a background task creates the next 3 months once a day. A month created while the default
partition holds rows of it takes those rows over (PostgreSQL refuses to create it otherwise).
SQLite has no partitions: everything here is a no-op there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime

from anyio import to_thread
from sqlalchemy import Connection, text

from stadtkern.db import Database

log = logging.getLogger(__name__)

SCHEMA = "sta_partitions"
PARENT = "sta_observation"
DEFAULT = f"{SCHEMA}.{PARENT}_default"
MONTHS_BEHIND = 24
MONTHS_AHEAD = 3
CHECK_SECONDS = 24 * 3600.0


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime) -> date:
    """The first day of the UTC month of an instant."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def partition_name(month: date) -> str:
    """The unqualified name of a month's partition, e.g. sta_observation_y2026m12."""
    return f"{PARENT}_y{month.year:04d}m{month.month:02d}"


def months_around(now: datetime, *, behind: int, ahead: int) -> list[date]:
    """The months from `behind` months before the month of `now` to `ahead` months after."""
    current = month_of(now)
    return [add_months(current, offset) for offset in range(-behind, ahead + 1)]


def existing_partitions(connection: Connection) -> set[str]:
    """The unqualified names of the partitions of sta_observation."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    )
    return {str(name) for (name,) in rows}


def create_default_partition(connection: Connection) -> None:
    """The catch-all partition (the migration makes it once)."""
    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    connection.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {DEFAULT} PARTITION OF {PARENT} DEFAULT"
    )


def ensure_partitions(connection: Connection, months: Iterable[date]) -> list[str]:
    """Create the missing monthly partitions of `months`; the names created."""
    if connection.dialect.name != "postgresql":
        return []
    have = existing_partitions(connection)
    made = []
    for month in sorted(set(months)):
        name = partition_name(month)
        if name not in have:
            _create_month(connection, month)
            made.append(name)
    return made


def _create_month(connection: Connection, month: date) -> None:
    start = f"{month.isoformat()} 00:00:00+00"
    end = f"{add_months(month, 1).isoformat()} 00:00:00+00"
    within = f"phenomenon_time_start >= '{start}' AND phenomenon_time_start < '{end}'"
    # The default partition may hold rows of this month (written before it existed): they
    # move over, in this transaction, or PostgreSQL refuses the new partition.
    parked = connection.exec_driver_sql(
        f"SELECT 1 FROM {DEFAULT} WHERE {within} LIMIT 1"  # noqa: S608 - values we made
    ).first()
    if parked is not None:
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE sta_parked ON COMMIT DROP AS "  # noqa: S608
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {within} RETURNING *) "
            f"SELECT * FROM moved"
        )
    connection.exec_driver_sql(
        f"CREATE TABLE {SCHEMA}.{partition_name(month)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{start}') TO ('{end}')"
    )
    if parked is not None:
        connection.exec_driver_sql(f"INSERT INTO {PARENT} SELECT * FROM sta_parked")  # noqa: S608
        connection.exec_driver_sql("DROP TABLE sta_parked")


def create_ahead(database: Database, now: datetime | None = None) -> list[str]:
    """Create this month's and the next MONTHS_AHEAD months' partitions where missing."""
    if database.is_sqlite:
        return []
    moment = now or datetime.now(UTC)
    with database.write_engine.begin() as connection:
        return ensure_partitions(connection, months_around(moment, behind=0, ahead=MONTHS_AHEAD))


async def keep_partitions_ahead(database: Database) -> None:
    """Background task: create the coming months' partitions now and once a day."""
    while True:
        try:
            made = await to_thread.run_sync(create_ahead, database)
            if made:
                log.info("created Observation partitions %s", ", ".join(made))
        except Exception:
            log.exception("creating the coming months' Observation partitions failed")
        await asyncio.sleep(CHECK_SECONDS)
