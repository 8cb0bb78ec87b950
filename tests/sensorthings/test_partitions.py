"""Observation storage: the migration of a database with data, and the monthly partitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Connection, func, insert, select, text

from stadtkern.core import tenants
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database, migrations
from stadtkern.modules import discover_modules
from stadtkern.sensorthings import partitions
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    FEATURE_OF_INTEREST,
    OBSERVATION,
    OBSERVED_PROPERTY,
    SENSOR,
    THING,
)
from stadtkern.sensorthings.models import LatestObservation

LATEST = LatestObservation.__table__
# The past, a stray old year (no monthly partition: the default one), the present.
TIMES = [
    datetime(2026, 1, 15, 8, tzinfo=UTC),
    datetime(1990, 6, 1, tzinfo=UTC),
    datetime(2026, 1, 16, 9, tzinfo=UTC),
    datetime.now(UTC),
]


def upgrade_to(database: Database, revision: str) -> None:
    """Apply the migrations up to a revision (of every branch it needs)."""
    locations = migrations._locations(discover_modules(None))
    with database.write_lock(), database.write_engine.connect() as connection:
        config = migrations._config(locations)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _fill(database: Database) -> tuple[int, list[int]]:
    """A tenant with a Datastream and four Observations, written at sensorthings_0002."""
    with database.write() as session:
        tenant = tenants.create_tenant(
            session=session,
            tenant_create=TenantCreate(
                slug="kaiserslautern", name="Kaiserslautern", ars="073120000000"
            ),
            installed=discover_modules(None),
            actor="test",
        )
        session.flush()
        tenant_id = tenant.id

    def add(connection: Connection, entity: object, **values: object) -> int:
        table = entity.table  # type: ignore[attr-defined]
        row = {"tenant_id": tenant_id, "name": "x", "description": "", **values}
        return int(connection.execute(insert(table).values(row).returning(table.c.id)).scalar())

    with database.write_lock(), database.write_engine.begin() as connection:
        thing = add(connection, THING)
        sensor = add(connection, SENSOR, encoding_type="text/plain", **{"metadata": "m"})
        observed = add(connection, OBSERVED_PROPERTY, definition="d")
        stream = add(
            connection,
            DATASTREAM,
            observation_type="OM_Measurement",
            thing_id=thing,
            sensor_id=sensor,
            observed_property_id=observed,
            unit_of_measurement={},
        )
        feature = add(
            connection, FEATURE_OF_INTEREST, encoding_type="application/geo+json", feature_json={}
        )
        ids = []
        for number, moment in enumerate(TIMES):
            row = {
                "tenant_id": tenant_id,
                "datastream_id": stream,
                "feature_of_interest_id": feature,
                "phenomenon_time_start": moment,
                "result_type": 1,
                "result_number": float(number),
            }
            table = OBSERVATION.table
            ids.append(
                int(connection.execute(insert(table).values(row).returning(table.c.id)).scalar())
            )
    return stream, ids


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_keeps_rows_ids_and_sequence(
    backend: str, make_database: Callable[[str], Database]
) -> None:
    database = make_database(backend)
    upgrade_to(database, "sensorthings_0002")
    stream, ids = _fill(database)
    migrations.upgrade(database, discover_modules(None))
    table = OBSERVATION.table
    with database.read() as session:
        kept = session.execute(select(table.c.id, table.c.result_number).order_by(table.c.id))
        assert [(row.id, row.result_number) for row in kept] == [
            (ids[n], float(n)) for n in range(4)
        ]
        newest = session.execute(select(LATEST).where(LATEST.c.datastream_id == stream)).one()
        assert newest.observation_id == ids[3]
    with database.write() as session:
        feature = session.scalar(select(func.min(FEATURE_OF_INTEREST.table.c.id)))
        row = {
            "tenant_id": 1,
            "datastream_id": stream,
            "feature_of_interest_id": feature,
            "phenomenon_time_start": datetime.now(UTC),
            "result_type": 1,
        }
        tenant_id = session.scalar(select(DATASTREAM.table.c.tenant_id))
        row["tenant_id"] = tenant_id
        new_id = session.execute(insert(table).values(row).returning(table.c.id)).scalar()
    assert new_id == max(ids) + 1  # the sequence went on where it was
    if backend == "postgresql":
        with database.read_engine.connect() as connection:
            names = partitions.existing_partitions(connection)
            assert partitions.partition_name(date(2026, 1, 1)) in names
            assert "sta_observation_default" in names
            parked = connection.execute(
                text(f"SELECT count(*) FROM {partitions.DEFAULT}")  # noqa: S608
            ).scalar()
            assert parked == 1  # the row of 1990
            kinds = connection.execute(
                text("SELECT relkind FROM pg_class WHERE relname = 'sta_observation'")
            ).scalar()
            assert kinds == "p"


def test_a_new_month_takes_its_rows_from_the_default_partition(
    make_database: Callable[[str], Database],
) -> None:
    database = make_database("postgresql")
    upgrade_to(database, "sensorthings_0002")
    stream, ids = _fill(database)
    migrations.upgrade(database, discover_modules(None))
    june_1990 = date(1990, 6, 1)
    with database.write_engine.begin() as connection:
        made = partitions.ensure_partitions(connection, [june_1990, june_1990])
        assert made == [partitions.partition_name(june_1990)]
        assert partitions.ensure_partitions(connection, [june_1990]) == []
    with database.read_engine.connect() as connection:
        moved = connection.execute(
            text(f"SELECT id FROM {partitions.SCHEMA}.{partitions.partition_name(june_1990)}")  # noqa: S608
        ).scalars()
        assert list(moved) == [ids[1]]
        assert connection.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0  # noqa: S608
    assert stream


def test_partitions_are_kept_three_months_ahead(
    make_database: Callable[[str], Database],
) -> None:
    database = make_database("postgresql")
    migrations.upgrade(database, discover_modules(None))
    later = datetime(2031, 5, 20, tzinfo=UTC)
    made = partitions.create_ahead(database, now=later)
    assert made == [partitions.partition_name(date(2031, month, 1)) for month in (5, 6, 7, 8)]
    assert partitions.create_ahead(database, now=later) == []


def test_months() -> None:
    assert partitions.add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert partitions.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    months = partitions.months_around(datetime(2026, 12, 31, 23, tzinfo=UTC), behind=1, ahead=1)
    assert months == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1)]
    assert partitions.create_ahead.__doc__
