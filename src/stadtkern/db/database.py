"""Engines and sessions for both backends, with a single writer on SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from stadtkern.db import sqlite_functions


class Database:
    """Sessions for reading and writing.

    On SQLite every write goes through one connection guarded by one lock (SQLite has a single
    writer anyway; queueing in Python avoids SQLITE_BUSY storms), and the read connections are
    opened query-only so that a write cannot bypass the writer. On PostgreSQL both come from one
    connection pool.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._write_lock = threading.RLock() if self.is_sqlite else None
        if self.is_sqlite:
            self._prepare_sqlite_path()
            self.write_engine = create_engine(
                self.url,
                echo=echo,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            self.read_engine = create_engine(
                self.url,
                echo=echo,
                pool_size=8,
                max_overflow=8,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            _configure_sqlite(self.write_engine, query_only=False)
            _configure_sqlite(self.read_engine, query_only=True)
        else:
            self.write_engine = create_engine(
                self.url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        """Short backend name: 'sqlite' or 'postgresql'."""
        return "sqlite" if self.is_sqlite else "postgresql"

    def _prepare_sqlite_path(self) -> None:
        from pathlib import Path

        database = self.url.database
        if not database or database == ":memory:":
            # Readers and the writer use separate connections, which must see one file.
            raise ValueError("SQLite needs a file path, e.g. sqlite:///var/stadtkern.sqlite")
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    def write_lock(self) -> AbstractContextManager[object]:
        """The writer lock on SQLite (for DDL and bulk work outside `write`); no-op elsewhere."""
        return self._write_lock if self._write_lock is not None else nullcontext()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; it never commits.

        Closing it detaches the loaded objects with their attributes intact (a rollback would
        expire them), and the pool rolls the connection back when it is returned.
        """
        with self._read_sessions() as session:
            yield session

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _configure_sqlite(engine: Engine, *, query_only: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; SQLAlchemy's
    # documented recipe is to switch it off and emit BEGIN ourselves. The writer takes the
    # write lock at BEGIN (IMMEDIATE) so a transaction never fails half-way on SQLITE_BUSY.
    begin = "BEGIN" if query_only else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if query_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()
        sqlite_functions.register(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)
