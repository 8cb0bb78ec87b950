"""A spatial test table of our own, with its index, in a database of either backend."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

from stadtkern.db import Database
from stadtkern.db.base import BigId
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import drop_spatial_index_ddl, spatial_index_ddl


@dataclass(frozen=True)
class Places:
    """A table of named geometries in a database, with its spatial index."""

    database: Database
    table: Table

    def add(self, rows: Mapping[str, BaseGeometry | None]) -> dict[str, int]:
        """Insert named geometries; return their ids by name."""
        with self.database.write() as session:
            for name, geometry in rows.items():
                session.execute(insert(self.table).values(name=name, geom=geometry))
            found = session.execute(select(self.table.c.name, self.table.c.id))
            return {name: int(key) for name, key in found if name in rows}


def make_places(database: Database, *, indexed: bool = True) -> Places:
    """Create a uniquely named table (id, name, geom) in `database`."""
    metadata = MetaData()
    table = Table(
        f"place_{secrets.token_hex(4)}",
        metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("name", String(40), nullable=False),
        Column("geom", Geometry(), nullable=True),
        Column("rank", Integer, nullable=True),
    )
    with database.write_lock(), database.write_engine.begin() as connection:
        metadata.create_all(connection)
        if indexed:
            for statement in spatial_index_ddl(connection.dialect.name, table.name, "geom"):
                connection.exec_driver_sql(statement)
    return Places(database, table)


def drop_places(places: Places) -> None:
    """Drop a table made by make_places, with its index."""
    database, table = places.database, places.table
    with database.write_lock(), database.write_engine.begin() as connection:
        for statement in drop_spatial_index_ddl(connection.dialect.name, table.name, "geom"):
            connection.exec_driver_sql(statement)
        table.drop(connection)


@pytest.fixture
def places(database: Database) -> Iterator[Places]:
    """An empty indexed place table in the shared database, dropped after the test."""
    made = make_places(database)
    yield made
    drop_places(made)
