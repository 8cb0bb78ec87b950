"""Two related test tables per backend (stations and observations) and their property maps."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from stadtkern.db import Database
from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import drop_spatial_index_ddl, spatial_index_ddl
from stadtkern.sensorthings.query import (
    Kind,
    Navigation,
    Property,
    PropertyMap,
    compile_filter,
    compile_orderby,
    parse_filter,
    parse_orderby,
)
from tests.sensorthings.sample_data import OBSERVATIONS, STATIONS


@dataclass(frozen=True)
class SensorTables:
    """Stations and observations in one database, with the maps the compiler reads."""

    database: Database
    stations: Table
    observations: Table

    def station_map(self, station: FromClause) -> PropertyMap:
        """Properties of a station (a Thing with a location), over a table or alias."""
        c = station.c
        return PropertyMap(
            entity="Station",
            properties={
                "id": Property(c.id, Kind.INTEGER),
                "name": Property(c.name, Kind.STRING),
                "description": Property(c.description, Kind.STRING),
                "properties": Property(c.properties, Kind.JSON),
                "location": Property(c.location, Kind.GEOMETRY),
                "installedAt": Property(c.installed_at, Kind.DATETIME),
            },
            navigations={
                "Observations": Navigation(lambda: self._observations_of(station), to_many=True)
            },
        )

    def observation_map(self, observation: FromClause) -> PropertyMap:
        """Properties of an observation, over a table or alias."""
        c = observation.c
        return PropertyMap(
            entity="Observation",
            properties={
                "id": Property(c.id, Kind.INTEGER),
                "value": Property(c.value, Kind.NUMBER),
                "result": Property(c.result, Kind.JSON),
                "phenomenonTime": Property(c.phenomenon_start, Kind.INTERVAL, end=c.phenomenon_end),
                "resultTime": Property(c.result_time, Kind.DATETIME),
                "count": Property(c.count, Kind.INTEGER),
                "quality": Property(c.quality, Kind.STRING),
                "valid": Property(c.valid, Kind.BOOLEAN),
                "parameters": Property(c.parameters, Kind.JSON),
            },
            navigations={"Station": Navigation(lambda: self._station_of(observation))},
        )

    def _observations_of(self, station: FromClause) -> tuple[PropertyMap, ColumnElement[bool]]:
        related = self.observations.alias()
        return self.observation_map(related), related.c.station_id == station.c.id

    def _station_of(self, observation: FromClause) -> tuple[PropertyMap, ColumnElement[bool]]:
        related = self.stations.alias()
        return self.station_map(related), related.c.id == observation.c.station_id

    def ids(self, table: Table, filter_text: str, orderby: str | None = None) -> list[int]:
        """Ids of the rows a $filter selects (sorted, or in $orderby order)."""
        entity = self.station_map(table) if table is self.stations else self.observation_map(table)
        query = select(table.c.id).where(compile_filter(parse_filter(filter_text), entity))
        if orderby is not None:
            query = query.order_by(*compile_orderby(parse_orderby(orderby), entity), table.c.id)
        with self.database.read_engine.connect() as connection:
            found = [int(row) for row in connection.scalars(query)]
        return found if orderby is not None else sorted(found)


def make_sensor_tables(database: Database) -> SensorTables:
    """Create and fill uniquely named station and observation tables."""
    suffix = secrets.token_hex(4)
    metadata = MetaData()
    stations = Table(
        f"sta_station_{suffix}",
        metadata,
        Column("id", BigId, primary_key=True),
        Column("name", String(80), nullable=False),
        Column("description", String(200)),
        Column("properties", JSON),
        Column("location", Geometry()),
        Column("installed_at", UtcDateTime()),
    )
    observations = Table(
        f"sta_observation_{suffix}",
        metadata,
        Column("id", BigId, primary_key=True),
        Column("station_id", BigId, ForeignKey(stations.c.id)),
        Column("value", Float),
        Column("result", JSON),
        Column("phenomenon_start", UtcDateTime(), nullable=False),
        Column("phenomenon_end", UtcDateTime(), nullable=False),
        Column("result_time", UtcDateTime()),
        Column("count", Integer),
        Column("quality", String(20)),
        Column("valid", Boolean),
        Column("parameters", JSON),
    )
    with database.write_lock(), database.write_engine.begin() as connection:
        metadata.create_all(connection)
        for statement in spatial_index_ddl(connection.dialect.name, stations.name, "location"):
            connection.exec_driver_sql(statement)
        connection.execute(insert(stations), STATIONS)
        connection.execute(insert(observations), OBSERVATIONS)
    return SensorTables(database, stations, observations)


@pytest.fixture(scope="session")
def sensor_tables(database: Database) -> Iterator[SensorTables]:
    """Filled test tables in the shared database of each backend, dropped at the end."""
    tables = make_sensor_tables(database)
    yield tables
    with database.write_lock(), database.write_engine.begin() as connection:
        tables.observations.drop(connection)
        dialect = connection.dialect.name
        for statement in drop_spatial_index_ddl(dialect, tables.stations.name, "location"):
            connection.exec_driver_sql(statement)
        tables.stations.drop(connection)
