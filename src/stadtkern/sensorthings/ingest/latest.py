"""The latest-value table: the newest Observation of every Datastream.

"Newest" is the greatest (phenomenon_time_start, id). The ingest batch offers the newest row
of each Datastream it wrote (`offer_latest`: replaces the stored one only when newer, one
upsert statement for all the batch's Datastreams); the general writer, whose changes may
also make the latest one older (a delete, a changed time), sets it from the index
(`refresh_latest`). Both run in the transaction that changes the Observations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.models import LatestObservation
from stadtkern.sensorthings.results import COLUMNS as RESULT_COLUMNS
from stadtkern.sensorthings.write_context import WriteContext


def _latest_table() -> Table:
    table = LatestObservation.__table__
    assert isinstance(table, Table)  # noqa: S101 - a declarative model maps one table
    return table


LATEST = _latest_table()
OBSERVATIONS = OBSERVATION.table
# Columns copied from the Observation (observation_id is its id).
COPIED = ("phenomenon_time_start", "phenomenon_time_end", "result_time", *RESULT_COLUMNS)


def offer_latest(session: Session, candidates: Sequence[Mapping[str, Any]]) -> None:
    """Make each candidate (a row of LATEST's columns) its Datastream's latest if newer."""
    if candidates:
        session.execute(_upsert(session, only_newer=True), list(candidates))


def refresh_latest(ctx: WriteContext, datastream_id: int) -> None:
    """Set a Datastream's latest value from its Observations (none left: no row)."""
    c = OBSERVATIONS.c
    row = ctx.session.execute(
        select(c.id, *(c[name] for name in COPIED))
        .where(c.datastream_id == datastream_id, c.tenant_id == ctx.tenant_id)
        .order_by(c.phenomenon_time_start.desc(), c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        ctx.session.execute(delete(LATEST).where(LATEST.c.datastream_id == datastream_id))
        return
    values = dict(zip(COPIED, row[1:], strict=True))
    values.update(datastream_id=datastream_id, tenant_id=ctx.tenant_id, observation_id=row[0])
    ctx.session.execute(_upsert(ctx.session, only_newer=False), [values])


def _upsert(session: Session, *, only_newer: bool) -> Insert:
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LATEST)
    excluded = statement.excluded
    changed = {name: excluded[name] for name in ("tenant_id", "observation_id", *COPIED)}
    newer = None
    if only_newer:
        stored = tuple_(LATEST.c.phenomenon_time_start, LATEST.c.observation_id)
        newer = tuple_(excluded.phenomenon_time_start, excluded.observation_id) > stored
    return statement.on_conflict_do_update(
        index_elements=[LATEST.c.datastream_id], set_=changed, where=newer
    )
