"""A small Kaiserslautern of SensorThings entities, written straight into the tables, to read.

Two lanterns at the Stiftskirche and the Hauptbahnhof with Datastreams, a MultiDatastream
whose ObservedProperties are stored out of id order, Observations of every result type,
and a second town whose ids must stay invisible. Tests call `reader.read` directly.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from shapely.geometry import Point, Polygon
from sqlalchemy import Table, event, insert

from stadtkern.core import tenants
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database, migrations
from stadtkern.modules import discover_modules
from stadtkern.sensorthings import catalogue as c
from stadtkern.sensorthings import module as sensorthings
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.paths import parse_path
from stadtkern.sensorthings.query import QueryOptions, parse_query_options
from stadtkern.sensorthings.reader import read
from stadtkern.sensorthings.results import result_columns
from stadtkern.sensorthings.settings import SensorThingsSettings
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database

HOST = "http://testserver"
STIFTSKIRCHE = Point(7.7689, 49.4447)
HAUPTBAHNHOF = Point(7.7682, 49.4367)
BAHNHOFSVORPLATZ = Polygon([(7.768, 49.436), (7.769, 49.436), (7.769, 49.437), (7.768, 49.436)])
MORNING = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
Json = dict[str, Any]
Query = list[tuple[str, str]]


@contextmanager
def sensorthings_database(backend: str, directory: Path) -> Iterator[Database]:
    """A fresh database with the core and the SensorThings migrations applied."""
    pg_url = None
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'reader.sqlite'}"
    else:
        pg_url = url = create_pg_database()
    database = Database(url)
    try:
        modules: list[Any] = list(discover_modules(None))
        if all(module.name != sensorthings.name for module in modules):
            modules = [*modules, sensorthings]
        migrations.upgrade(database, modules)
        yield database
    finally:
        database.dispose()
        if pg_url:
            drop_pg_database(pg_url)


@pytest.fixture(scope="module", params=BACKENDS)
def sta_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A SensorThings database per backend for one test module."""
    with sensorthings_database(request.param, tmp_path_factory.mktemp("sta")) as database:
        yield database


def options_of(query: Query) -> QueryOptions:
    """The query options of `query`, parsed as the dispatcher parses them."""
    return parse_query_options(list(query))


@dataclass
class Town:
    """One tenant's SensorThings service, written through SQLAlchemy Core, read by `read`."""

    database: Database
    tenant: TenantRef
    settings: SensorThingsSettings = field(default_factory=SensorThingsSettings)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The service root URL of the town."""
        return f"{HOST}/{self.tenant.slug}/v1.1"

    def link(self, entity_set: str, key: str) -> str:
        """The selfLink of an entity of this town, by its key."""
        return f"{self.base}/{entity_set}({self.ids[key]})"

    def add(self, key: str, entity: EntityType, /, **values: Any) -> int:
        """Insert an entity row for this tenant and remember its id under `key`."""
        table = entity.table
        with self.database.write() as session:
            inserted = insert(table).values(tenant_id=self.tenant.id, **values)
            entity_id = int(session.execute(inserted.returning(table.c.id)).scalar_one())
        self.ids[key] = entity_id
        return entity_id

    def associate(self, table: Table, **values: Any) -> None:
        """Insert a row of an association table."""
        with self.database.write() as session:
            session.execute(insert(table).values(**values))

    def get(self, path: str, query: Query | None = None) -> Document:
        """Read a resource path (relative to the service root) with query parameters."""
        items = list(query or [])
        context = ReadContext(self.tenant, self.base, self.settings, items)
        with self.database.read() as session:
            return read(session, context, parse_path(path), options_of(items))

    def json(self, path: str, query: Query | None = None) -> Any:
        """The JSON body of a read."""
        return self.get(path, query).body

    def follow(self, url: str) -> Any:
        """Read an absolute link of this town (an @iot.nextLink), as a client would."""
        parts = urlsplit(url)
        prefix = f"/{self.tenant.slug}/v1.1/"
        assert f"{parts.scheme}://{parts.netloc}" == HOST
        assert parts.path.startswith(prefix), url
        return self.json(parts.path[len(prefix) :], parse_qsl(parts.query))

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """Collect the SQL statements run on the read engine meanwhile."""
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(str(args[2]))

        engine = self.database.read_engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)


def make_town(database: Database) -> Town:
    """A new, empty tenant with the sensorthings module on."""
    slug = f"kl-{secrets.token_hex(4)}"
    with database.write() as session:
        tenant = tenants.create_tenant(
            session=session,
            tenant_create=TenantCreate(
                slug=slug, name=f"Stadt {slug}", ars="073120000000", modules=[]
            ),
            installed=discover_modules(None),
            actor="test",
        )
        ref = TenantRef(
            id=tenant.id,
            slug=slug,
            name=tenant.name,
            timezone=tenant.timezone,
            locale=tenant.locale,
            modules=frozenset({"sensorthings"}),
        )
    return Town(database, ref)


def at(minutes: int, milliseconds: int = 0) -> datetime:
    """A time on the morning of the test data."""
    return MORNING + timedelta(minutes=minutes, milliseconds=milliseconds)


def fill(town: Town) -> Town:
    """Lanterns, their Locations, Datastreams, a MultiDatastream and Observations."""
    things = {"T1": ("Laterne 1", {"owner": "Stadtwerke"}), "T2": ("Laterne 2", None)}
    for key, (name, properties) in things.items():
        town.add(key, c.THING, name=name, description=f"{name} am Markt", properties=properties)
    town.add("T3", c.THING, name="Pegel Fackelwoog", description="ohne Standort")
    for key, name, where in (("L1", "Stiftskirche", STIFTSKIRCHE), ("L2", "Bahnhof", HAUPTBAHNHOF)):
        town.add(
            key,
            c.LOCATION,
            name=name,
            description=f"Standort {name}",
            encoding_type="application/geo+json",
            location_json={"type": "Point", "coordinates": [where.x, where.y]},
            geom=where,
        )
    for thing, location in (("T1", "L1"), ("T2", "L1"), ("T2", "L2")):
        town.associate(c.THING_LOCATION, thing_id=town.ids[thing], location_id=town.ids[location])
    early = datetime(2026, 12, 1, 9, 0, 0, 120001, tzinfo=UTC)
    town.add("H1", c.HISTORICAL_LOCATION, thing_id=town.ids["T1"], time=early)
    town.associate(
        c.HISTORICAL_LOCATION_LOCATION,
        historical_location_id=town.ids["H1"],
        location_id=town.ids["L1"],
    )
    _fill_streams(town)
    _fill_observations(town)
    return town


def _fill_streams(town: Town) -> None:
    town.add(
        "S1",
        c.SENSOR,
        name="SHT31",
        description="Fühler",
        encoding_type="application/pdf",
        metadata="https://example.org/sht31.pdf",
    )
    for key, name in (("P1", "Temperatur"), ("P2", "Feuchte")):
        town.add(
            key,
            c.OBSERVED_PROPERTY,
            name=name,
            description=f"{name} der Luft",
            definition=f"https://example.org/{name}",
        )
    streams = (("D1", "T1", "P1", "Temperatur 1"), ("D2", "T1", "P2", "Feuchte 1"))
    for key, thing, observed, name in (*streams, ("D3", "T2", "P1", "Temperatur 2")):
        # The server maintains these from the Observations; here only D3 has them.
        summary = {
            "phenomenon_time_start": at(30),
            "phenomenon_time_end": at(45),
            "observed_area": BAHNHOFSVORPLATZ,
        }
        town.add(
            key,
            c.DATASTREAM,
            name=name,
            description=f"{name} an der Laterne",
            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            unit_of_measurement={"name": "Grad Celsius", "symbol": "°C", "definition": "ucum:Cel"},
            thing_id=town.ids[thing],
            sensor_id=town.ids["S1"],
            observed_property_id=town.ids[observed],
            **(summary if key == "D3" else {}),
        )
    town.add(
        "M1",
        c.MULTI_DATASTREAM,
        name="Klima 2",
        description="Feuchte und Temperatur",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation",
        unit_of_measurements=[{"symbol": "%"}, {"symbol": "°C"}],
        multi_observation_data_types=["OM_Measurement", "OM_Measurement"],
        thing_id=town.ids["T2"],
        sensor_id=town.ids["S1"],
    )
    # Feuchte (P2) first: the arrays follow the positions, not the ids.
    for position, observed in enumerate(("P2", "P1")):
        town.associate(
            c.MULTI_DATASTREAM_OBSERVED_PROPERTY,
            multi_datastream_id=town.ids["M1"],
            position=position,
            observed_property_id=town.ids[observed],
        )


def _fill_observations(town: Town) -> None:
    town.add(
        "F1",
        c.FEATURE_OF_INTEREST,
        name="Stiftsplatz",
        description="Platz vor der Stiftskirche",
        encoding_type="application/geo+json",
        feature_json={"type": "Point", "coordinates": [STIFTSKIRCHE.x, STIFTSKIRCHE.y]},
        geom=STIFTSKIRCHE,
    )
    # Temperatur 1: results of every type, one per minute.
    results: list[Any] = [20.5, 21, "warm", True, {"min": 19, "max": 23}]
    for minute, result in enumerate(results):
        _observe(town, f"O{minute + 1}", "D1", at(minute), result)
    for minute, result in enumerate([55.0, 56.5, 57.0]):
        _observe(town, f"O{minute + 6}", "D2", at(minute, 250), result)
    _observe(
        town,
        "O9",
        "D3",
        at(30),
        3.5,
        end=at(45),
        valid_time_start=at(30),
        valid_time_end=at(90),
        parameters={"Messung": "manuell"},
        result_quality={"Güte": "geprüft"},
    )
    for minute, result in enumerate([[60, 4.5], [61, 4.0]]):
        _observe(town, f"Q{minute + 1}", None, at(minute), result, multi="M1")


def _observe(
    town: Town,
    key: str,
    stream: str | None,
    when: datetime,
    result: Any,
    *,
    end: datetime | None = None,
    multi: str | None = None,
    **extra: Any,
) -> None:
    town.add(
        key,
        c.OBSERVATION,
        datastream_id=None if stream is None else town.ids[stream],
        multi_datastream_id=None if multi is None else town.ids[multi],
        feature_of_interest_id=town.ids["F1"],
        phenomenon_time_start=when,
        phenomenon_time_end=end,
        result_time=when + timedelta(seconds=5) if stream == "D1" else None,
        **result_columns(result),
        **extra,
    )


@pytest.fixture(scope="module")
def town(sta_database: Database) -> Town:
    """The filled town of a test module (tests only read it)."""
    return fill(make_town(sta_database))


@pytest.fixture(scope="module")
def other_town(sta_database: Database) -> Town:
    """A second town with one Thing of its own."""
    other = make_town(sta_database)
    other.add("T1", c.THING, name="Fremde Laterne", description="in Kusel")
    return other
