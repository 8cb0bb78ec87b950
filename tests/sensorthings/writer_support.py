"""Helpers of the writer tests: a tenant in the shared database and calls in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import TenantCreate
from stadtkern.core.tenants import create_tenant, to_ref
from stadtkern.db import Database
from stadtkern.modules import discover_modules
from stadtkern.sensorthings import writer
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.paths import parse_path
from tests.conftest import unique_slug

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GEOJSON = "application/geo+json"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
OM_COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
CELSIUS = {"name": "degree Celsius", "symbol": "°C", "definition": "ucum:Cel"}
STIFTSKIRCHE = {"type": "Point", "coordinates": [7.7689, 49.4447]}
HAUPTBAHNHOF = {"type": "Point", "coordinates": [7.7682, 49.4367]}
Json = dict[str, Any]


def make_sta_tenant(database: Database) -> TenantRef:
    """A new tenant of its own."""
    with database.write() as session:
        slug = unique_slug("sta")
        tenant = create_tenant(
            session=session,
            tenant_create=TenantCreate(slug=slug, name=f"Stadt {slug}", ars="073120000000"),
            installed=discover_modules(None),
            actor="test",
        )
        return to_ref(tenant)


def location(name: str = "Stiftskirche", where: Json | None = None) -> Json:
    """A Location body."""
    return {
        "name": name,
        "description": f"Standort {name}",
        "encodingType": GEOJSON,
        "location": where or STIFTSKIRCHE,
    }


def sensor(name: str = "DS18B20") -> Json:
    """A Sensor body."""
    return {
        "name": name,
        "description": "Temperaturfühler",
        "encodingType": "application/pdf",
        "metadata": "https://example.org/ds18b20.pdf",
    }


def observed_property(name: str = "Lufttemperatur") -> Json:
    """An ObservedProperty body."""
    return {"name": name, "description": "Temperatur", "definition": "https://example.org/t"}


def datastream(**links: Any) -> Json:
    """A Datastream body with the given links."""
    return {
        "name": "Temperatur",
        "description": "Temperatur an der Laterne",
        "unitOfMeasurement": CELSIUS,
        "observationType": OM_MEASUREMENT,
        **links,
    }


@dataclass(frozen=True)
class Sta:
    """Writer calls for one tenant, each in a transaction of its own."""

    database: Database
    tenant: TenantRef

    def create(self, path: str, body: Any, now: datetime = NOW) -> writer.Written:
        """writer.create."""
        with self.database.write() as session:
            return writer.create(session, self.tenant, parse_path(path), body, now=now)

    def create_id(self, path: str, body: Any, now: datetime = NOW) -> int:
        """The id of a created entity."""
        return self.create(path, body, now).id

    def update(self, path: str, body: Any, *, replace: bool = False) -> writer.Written:
        """writer.update."""
        with self.database.write() as session:
            return writer.update(
                session, self.tenant, parse_path(path), body, replace=replace, now=NOW
            )

    def patch_json(self, path: str, operations: Any) -> writer.Written:
        """writer.patch_json."""
        with self.database.write() as session:
            return writer.patch_json(session, self.tenant, parse_path(path), operations, now=NOW)

    def delete(self, path: str) -> tuple[writer.Change, ...]:
        """writer.delete."""
        with self.database.write() as session:
            return writer.delete(session, self.tenant, parse_path(path))

    def add_reference(self, path: str, body: Any) -> None:
        """writer.add_reference."""
        with self.database.write() as session:
            writer.add_reference(session, self.tenant, parse_path(path), body, now=NOW)

    def delete_reference(self, path: str) -> None:
        """writer.delete_reference."""
        with self.database.write() as session:
            writer.delete_reference(session, self.tenant, parse_path(path))

    def create_observations(
        self, body: Any, now: datetime = NOW
    ) -> tuple[list[str | int], tuple[writer.Change, ...]]:
        """writer.create_observations."""
        with self.database.write() as session:
            return writer.create_observations(session, self.tenant, body, now=now)

    def row(self, entity: str, entity_id: int) -> dict[str, Any]:
        """The row of an entity, by column name."""
        table = ENTITY_TYPES[entity].table
        with self.database.read() as session:
            found = session.execute(select(table).where(table.c.id == entity_id)).one()
            return dict(found._mapping)

    def count(self, entity: str) -> int:
        """How many entities of a type the tenant has."""
        table = ENTITY_TYPES[entity].table
        with self.database.read() as session:
            query = select(func.count()).where(table.c.tenant_id == self.tenant.id)
            return int(session.scalar(query) or 0)

    def counts(self) -> dict[str, int]:
        """How many entities of every type the tenant has."""
        return {name: self.count(name) for name in ENTITY_TYPES}

    def ids(self, entity: str, **where: Any) -> list[int]:
        """Ids of the tenant's entities whose columns have these values, in id order."""
        table = ENTITY_TYPES[entity].table
        query = select(table.c.id).where(table.c.tenant_id == self.tenant.id)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.database.read() as session:
            return [int(found) for found in session.scalars(query.order_by(table.c.id))]

    def linked(self, association: Any, near: str, near_id: int, far: str) -> list[int]:
        """Ids on the far side of an association table."""
        query = select(association.c[far]).where(association.c[near] == near_id)
        with self.database.read() as session:
            return sorted(int(found) for found in session.scalars(query))
