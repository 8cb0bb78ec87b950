"""The state one write request carries: session, tenant, clock, changes and pending work."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from stadtkern.sensorthings.changes import ChangeLog
from stadtkern.sensorthings.entities import EntityType


@dataclass
class StreamSpan:
    """Times of Observations added to one (Multi)Datastream in this request."""

    phenomenon_start: datetime
    phenomenon_end: datetime
    result_start: datetime | None = None
    result_end: datetime | None = None

    def add(self, start: datetime, end: datetime, result: datetime | None) -> None:
        """Widen the span by one Observation's times."""
        self.phenomenon_start = min(self.phenomenon_start, start)
        self.phenomenon_end = max(self.phenomenon_end, end)
        if result is not None:
            self.result_start = min(self.result_start or result, result)
            self.result_end = max(self.result_end or result, result)


@dataclass
class WriteContext:
    """One request's write: every statement is restricted to `tenant_id`."""

    session: Session
    tenant_id: int
    now: datetime
    log: ChangeLog = field(default_factory=ChangeLog)
    # (stream entity name, id) -> times to widen it by, applied once per request
    spans: dict[tuple[str, int], StreamSpan] = field(default_factory=dict)
    # (stream entity name, id) -> (Thing-generated FeatureOfInterest id, result size)
    cache: dict[tuple[str, str, int], Any] = field(default_factory=dict)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint; on error the database and this context's bookkeeping roll back."""
        log, spans = self.log.snapshot(), copy.deepcopy(self.spans)
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            self.log.restore(log)
            self.spans = spans
            self.cache.clear()
            raise

    def insert(self, entity: EntityType, columns: dict[str, Any]) -> int:
        """Insert a row of the tenant and return its id."""
        table = entity.table
        statement = insert(table).values(tenant_id=self.tenant_id, **columns).returning(table.c.id)
        new_id = int(self.session.execute(statement).scalar_one())
        self.log.created(entity, new_id)
        return new_id

    def update(self, entity: EntityType, entity_id: int, columns: dict[str, Any]) -> None:
        """Update a row of the tenant (no change is logged: callers name the fields)."""
        if not columns:
            return
        table = entity.table
        self.session.execute(
            update(table)
            .where(table.c.id == entity_id, table.c.tenant_id == self.tenant_id)
            .values(**columns)
        )
