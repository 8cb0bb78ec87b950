"""The benchmark's own database on either backend: made, checked, measured, dropped."""

from __future__ import annotations

import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.common import PG_ADMIN_URL, StreamSums

SCRATCH = "bench_ceiling"


@dataclass
class BenchDatabase:
    """A database made for one run: a SQLite file or a fresh PostgreSQL database."""

    backend: str
    url: str  # as Stadtkern takes it (STADTKERN_DATABASE_URL)
    pg_name: str | None = None

    @property
    def conninfo(self) -> str:
        """libpq connection string of a PostgreSQL database."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def sqlite_path(self) -> Path:
        """File of a SQLite database."""
        return Path(self.url.removeprefix("sqlite:///"))

    @contextmanager
    def connect(self) -> Iterator[Any]:
        """A raw DB-API connection (psycopg 3 or sqlite3), closed afterwards."""
        if self.backend == "postgres":
            with psycopg.connect(self.conninfo, autocommit=True) as pg:
                yield pg
        else:
            lite = sqlite3.connect(self.sqlite_path, isolation_level=None, timeout=60)
            try:
                lite.execute("PRAGMA busy_timeout=60000")
                yield lite
            finally:
                lite.close()

    def drop(self) -> None:
        """Remove the database (a kept one stays)."""
        if self.pg_name is not None:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.sqlite_path}{suffix}").unlink(missing_ok=True)

    def stream_sums(self, tenant_id: int) -> dict[int, StreamSums]:
        """Per Datastream of the tenant: count and checksums of the stored Observations."""
        # Distinct rows: an at-least-once redelivery (MQTT QoS 1 after a reconnect) may store a
        # row twice, which is no loss; `duplicates()` counts those. Every generated row is
        # unique per (Datastream, phenomenonTime).
        if self.backend == "postgres":
            query = (
                "SELECT datastream_id, count(*), sum(result_number * 4), "
                "sum(extract(epoch FROM phenomenon_time_start)) FROM (SELECT DISTINCT "
                "datastream_id, phenomenon_time_start, result_number FROM sta_observation "
                "WHERE tenant_id = %s) AS o GROUP BY datastream_id"
            )
        else:
            query = (
                "SELECT datastream_id, count(*), sum(result_number * 4), "
                "sum(CAST(strftime('%s', phenomenon_time_start) AS INTEGER)) FROM (SELECT "
                "DISTINCT datastream_id, phenomenon_time_start, result_number FROM "
                "sta_observation WHERE tenant_id = ?) GROUP BY datastream_id"
            )
        with self.connect() as conn:
            rows = conn.execute(query, (tenant_id,)).fetchall()
        return {
            int(stream): StreamSums(int(count), _exact(x4), _exact(epoch))
            for stream, count, x4, epoch in rows
        }

    def count_observations(self, tenant_id: int) -> int:
        """How many Observations the tenant has."""
        mark = "%s" if self.backend == "postgres" else "?"
        with self.connect() as conn:
            row = conn.execute(
                f"SELECT count(*) FROM sta_observation WHERE tenant_id = {mark}",  # noqa: S608
                (tenant_id,),
            ).fetchone()
        return int(row[0])

    def tenant_id(self, slug: str) -> int:
        """The id of a tenant by slug."""
        mark = "%s" if self.backend == "postgres" else "?"
        with self.connect() as conn:
            row = conn.execute(
                f"SELECT id FROM tenant WHERE slug = {mark}",  # noqa: S608
                (slug,),
            ).fetchone()
        return int(row[0])


def _exact(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, Decimal | int):
        return int(value)
    return round(float(str(value)))


def create_database(backend: str, directory: Path, *, name: str | None = None) -> BenchDatabase:
    """A new empty database; `name` reuses a PostgreSQL database of that name if it exists."""
    if backend == "sqlite":
        path = directory / f"{name or 'stadtkern'}.sqlite"
        return BenchDatabase("sqlite", f"sqlite:///{path}")
    pg_name = name or f"stadtkern_bench_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (pg_name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
    parts = urlsplit(PG_ADMIN_URL)
    url = urlunsplit(parts._replace(scheme="postgresql+psycopg", path=f"/{pg_name}"))
    database = BenchDatabase("postgres", url, pg_name)
    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return database


# --- the ceiling: the same rows into an identically built scratch table ----------------------


# The Observations' references: foreign keys on SQLite; on PostgreSQL checked by the writers.
REFERENCES = (
    ("tenant_id", "tenant"),
    ("datastream_id", "sta_datastream"),
    ("multi_datastream_id", "sta_multi_datastream"),
    ("feature_of_interest_id", "sta_feature_of_interest"),
)


@dataclass(frozen=True)
class Ceiling:
    """Rows per second of the database's own bulk path, with and without foreign keys."""

    rows: int
    seconds: float
    seconds_with_foreign_keys: float
    method: str

    def as_dict(self) -> dict[str, Any]:
        """The figures for the result file."""
        return {
            "method": self.method,
            "rows": self.rows,
            "obs_per_s": round(self.rows / self.seconds, 1),
            "obs_per_s_with_foreign_keys": round(self.rows / self.seconds_with_foreign_keys, 1),
            "note": "headline ceiling: identical columns, indexes, checks and partitions, "
            "no foreign keys (the higher, stricter ceiling); the second figure adds foreign "
            "keys for the four references (SQLite's table has them; PostgreSQL's table "
            "checks them in the writers instead, see sensorthings_0006)",
        }


def measure_ceiling(database: BenchDatabase, tenant_id: int, limit: int = 0) -> Ceiling:
    """Write the tenant's stored Observations again, by the database's bulk path, timed."""
    if database.backend == "postgres":
        return _pg_ceiling(database, tenant_id, limit)
    return _sqlite_ceiling(database, tenant_id, limit)


def _pg_ceiling(database: BenchDatabase, tenant_id: int, limit: int) -> Ceiling:
    with database.connect() as conn:
        bound = f" LIMIT {int(limit)}" if limit > 0 else ""
        chunks: list[bytes] = []
        with conn.cursor().copy(
            "COPY (SELECT * FROM sta_observation WHERE tenant_id = "  # noqa: S608
            f"{int(tenant_id)} ORDER BY id{bound}) TO STDOUT (FORMAT BINARY)"
        ) as copy:
            chunks.extend(bytes(chunk) for chunk in copy)
        rows = database.count_observations(tenant_id)
        rows = min(rows, limit) if limit > 0 else rows
        _pg_scratch(conn, foreign_keys=False)
        plain = _pg_copy_in(conn, chunks)
        conn.execute(f"DROP TABLE {SCRATCH} CASCADE")
        _pg_scratch(conn, foreign_keys=True)
        with_keys = _pg_copy_in(conn, chunks)
        conn.execute(f"DROP TABLE {SCRATCH} CASCADE")
    return Ceiling(rows, plain, with_keys, "PostgreSQL binary COPY (psycopg 3), one transaction")


def _pg_copy_in(conn: psycopg.Connection[Any], chunks: list[bytes]) -> float:
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    with (
        conn.transaction(),
        conn.cursor().copy(f"COPY {SCRATCH} FROM STDIN (FORMAT BINARY)") as copy,
    ):
        for chunk in _regroup(chunks, 1 << 20):
            copy.write(chunk)
    return time.perf_counter() - started


def _regroup(chunks: list[bytes], size: int) -> Iterator[bytes]:
    buffer: list[bytes] = []
    held = 0
    for chunk in chunks:
        buffer.append(chunk)
        held += len(chunk)
        if held >= size:
            yield b"".join(buffer)
            buffer, held = [], 0
    if buffer:
        yield b"".join(buffer)


def _pg_scratch(conn: psycopg.Connection[Any], *, foreign_keys: bool) -> None:
    """`bench_ceiling`: the columns, checks, indexes and partitions of sta_observation."""
    partitioned = conn.execute("SELECT pg_get_partkeydef('sta_observation'::regclass)").fetchone()
    key = partitioned[0] if partitioned else None
    tail = f" PARTITION BY {key}" if key else ""
    conn.execute(
        f"CREATE TABLE {SCRATCH} (LIKE sta_observation INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING INDEXES INCLUDING STORAGE){tail}"
    )
    if key:
        partitions = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'sta_observation'::regclass"
        ).fetchall()
        for number, (_name, bound) in enumerate(partitions):
            conn.execute(f"CREATE TABLE {SCRATCH}_p{number} PARTITION OF {SCRATCH} {bound}")
    if foreign_keys:
        # The keys the table had before sensorthings_0006 moved their checks into the
        # writers: what a per-row check of each reference costs the bulk path.
        for column, table in REFERENCES:
            conn.execute(
                f"ALTER TABLE {SCRATCH} ADD FOREIGN KEY ({column}) "
                f"REFERENCES {table} (id) ON DELETE CASCADE"
            )


def _sqlite_ceiling(database: BenchDatabase, tenant_id: int, limit: int) -> Ceiling:
    with database.connect() as conn:
        bound = f" LIMIT {int(limit)}" if limit > 0 else ""
        rows = conn.execute(
            f"SELECT * FROM sta_observation WHERE tenant_id = ? ORDER BY id{bound}",  # noqa: S608
            (tenant_id,),
        ).fetchall()
        statements = _sqlite_scratch_sql(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        timings = []
        for foreign_keys in (False, True):
            conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
            for statement in statements:
                conn.execute(statement)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            marks = ",".join("?" * len(rows[0])) if rows else ""
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(f"INSERT INTO {SCRATCH} VALUES ({marks})", rows)  # noqa: S608
            conn.execute("COMMIT")
            timings.append(time.perf_counter() - started)
        conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    return Ceiling(len(rows), timings[0], timings[1], "SQLite executemany, one transaction")


def _sqlite_scratch_sql(conn: sqlite3.Connection) -> list[str]:
    """CREATE statements of sta_observation and its indexes, renamed to the scratch table."""
    statements = []
    for kind, sql in conn.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'sta_observation' "
        "AND sql IS NOT NULL ORDER BY type DESC"
    ).fetchall():
        renamed = re.sub(r'"?\bsta_observation\b"?', SCRATCH, sql)
        if kind == "index":
            renamed = re.sub(
                r"INDEX\s+(IF NOT EXISTS\s+)?\"?(\w+)\"?", r"INDEX bench_\2", renamed, count=1
            )
        statements.append(renamed)
    return statements


def loss_check(
    expected: dict[int, StreamSums], stored: dict[int, StreamSums], total_stored: int
) -> dict[str, Any]:
    """Compare acknowledged with stored (distinct) rows per Datastream: counts and checksums;
    `total_stored` (all rows, duplicates included) gives the number of duplicates."""
    acked = sum(sums.count for sums in expected.values())
    found = sum(sums.count for stream, sums in stored.items() if stream in expected)
    mismatched = sorted(
        stream for stream in expected if stored.get(stream, StreamSums()) != expected[stream]
    )
    missing = sum(
        max(0, sums.count - stored.get(stream, StreamSums()).count)
        for stream, sums in expected.items()
    )
    unexpected = sum(
        max(0, sums.count - expected.get(stream, StreamSums()).count)
        for stream, sums in stored.items()
    )
    return {
        "acknowledged": acked,
        "stored": found,
        "lost": missing,
        "stored_but_not_acknowledged": unexpected,
        "duplicates": total_stored - sum(sums.count for sums in stored.values()),
        "streams_checked": len(expected),
        "streams_with_checksum_mismatch": mismatched[:20],
        "ok": missing == 0 and not mismatched,
    }
