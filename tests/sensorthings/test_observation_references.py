"""The Observations' references on both backends: SQLite by foreign keys, PostgreSQL by the
writers (checked and locked FOR KEY SHARE per batch) and by cascade triggers
(migration sensorthings_0006). Nothing may point at an entity that is gone."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import OperationalError

from stadtkern.core.models import Tenant
from stadtkern.db import Database
from stadtkern.sensorthings.catalogue import DATASTREAM
from stadtkern.sensorthings.ingest.checks import Part, check_parts
from stadtkern.sensorthings.ingest.rows import COLUMNS, INDEX
from stadtkern.sensorthings.models import Observation
from stadtkern.sensorthings.write_context import WriteContext
from tests.sensorthings.conformance.conftest import Sta, add_observations, make_graph
from tests.sensorthings.test_ingest import sta, tenant_ref  # noqa: F401

OBSERVATIONS = Observation.__table__


def observation_count(database: Database, **where: int) -> int:
    """Rows of the Observations table, straight from the database."""
    query = select(func.count()).select_from(OBSERVATIONS)
    for column, value in where.items():
        query = query.where(OBSERVATIONS.c[column] == value)
    with database.read() as session:
        return int(session.scalar(query) or 0)


def test_a_deleted_tenant_takes_its_observations(sta: Sta) -> None:  # noqa: F811
    graph = make_graph(sta)
    add_observations(
        sta, graph.datastream, [("2025-01-01T00:00:00Z", 1), ("2025-01-02T00:00:00Z", 2)]
    )
    tenant = tenant_ref(sta.database, sta.tenant.slug)
    assert observation_count(sta.database, tenant_id=tenant.id) == 2
    with sta.database.write() as session:
        session.execute(delete(Tenant).where(Tenant.id == tenant.id))
    assert observation_count(sta.database, tenant_id=tenant.id) == 0


def test_a_deleted_datastream_leaves_no_observation_behind(sta: Sta) -> None:  # noqa: F811
    graph = make_graph(sta)
    other = make_graph(sta, name="Laterne 2")
    add_observations(sta, graph.datastream, [("2025-01-01T00:00:00Z", 1)])
    add_observations(sta, other.datastream, [("2025-01-01T00:00:00Z", 1)])
    assert sta.delete(f"Datastreams({graph.datastream})").status_code == 200
    assert observation_count(sta.database, datastream_id=graph.datastream) == 0
    assert observation_count(sta.database, datastream_id=other.datastream) == 1


def test_an_ingest_batch_holds_its_streams_until_it_commits(sta: Sta) -> None:  # noqa: F811
    """While a batch that checked a Datastream is open, the Datastream cannot be deleted:
    the lock a foreign key would take, taken once for the batch."""
    if sta.database.write_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time and keeps its foreign keys")
    graph = make_graph(sta)
    tenant = tenant_ref(sta.database, sta.tenant.slug)
    row: list[object] = [None] * len(COLUMNS)
    row[INDEX["datastream_id"]] = graph.datastream
    with sta.database.write() as session:
        part = Part(WriteContext(session, tenant.id, None), [0], [row])  # type: ignore[arg-type]
        check_parts(session, [part])
        assert part.errors == []
        with sta.database.write_engine.connect() as other:
            other.execute(text("SET lock_timeout = '200ms'"))
            table = DATASTREAM.table
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(delete(table).where(table.c.id == graph.datastream))
            other.rollback()
    with sta.database.write() as session:  # after the commit, the delete goes through
        table = DATASTREAM.table
        session.execute(delete(table).where(table.c.id == graph.datastream))
    with sta.database.read() as session:
        assert session.scalar(select(table.c.id).where(table.c.id == graph.datastream)) is None
