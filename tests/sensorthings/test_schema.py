"""The SensorThings entity schema on both backends: links, cascades, constraints, geometry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from shapely.geometry import Point, box
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from stadtkern.core.models import Tenant
from stadtkern.db import Database, migrations, spatial
from stadtkern.modules import discover_modules
from stadtkern.sensorthings.models import (
    Datastream,
    FeatureOfInterest,
    Location,
    Observation,
    ObservedProperty,
    ResultType,
    Sensor,
    Thing,
    ThingLocation,
)

LANTERN = Point(7.7689, 49.4447)  # Stiftskirche, Kaiserslautern


@pytest.fixture(params=["sqlite", "postgresql"])
def sta_database(
    request: pytest.FixtureRequest, make_database: Callable[[str], Database]
) -> Database:
    """A fresh database with the core and the SensorThings branch applied."""
    database = make_database(request.param)
    migrations.upgrade(database, discover_modules(None))
    return database


def _lantern(database: Database) -> tuple[int, int, int]:
    """A tenant with a lantern Thing at a Location, one Datastream and two Observations."""
    with database.write() as session:
        tenant = Tenant(
            slug="kaiserslautern",
            name="Kaiserslautern",
            ars="073120000000",
            timezone="Europe/Berlin",
            locale="de",
            modules=["sensorthings"],
            module_settings={},
            disabled=False,
        )
        session.add(tenant)
        session.flush()
        scoped = {"tenant_id": tenant.id}
        thing = Thing(
            name="Laterne 17", description="", properties={"street": "Marktstraße"}, **scoped
        )
        location = Location(
            name="Stiftsplatz",
            description="",
            encoding_type="application/geo+json",
            location_json={"type": "Point", "coordinates": [LANTERN.x, LANTERN.y]},
            geom=LANTERN,
            **scoped,
        )
        sensor = Sensor(
            name="SHT31", description="", encoding_type="text/html", metadata_="x", **scoped
        )
        observed = ObservedProperty(
            name="Temperatur", definition="http://x/temp", description="", **scoped
        )
        session.add_all([thing, location, sensor, observed])
        session.flush()
        session.add(ThingLocation(thing_id=thing.id, location_id=location.id))
        stream = Datastream(
            name="Temperatur Laterne 17",
            description="",
            thing_id=thing.id,
            sensor_id=sensor.id,
            observed_property_id=observed.id,
            unit_of_measurement={"name": "Grad Celsius", "symbol": "°C"},
            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            **scoped,
        )
        feature = FeatureOfInterest(
            name="Stiftsplatz",
            description="",
            encoding_type="application/geo+json",
            feature_json={"type": "Point", "coordinates": [LANTERN.x, LANTERN.y]},
            geom=LANTERN,
            source_location_id=location.id,
            **scoped,
        )
        session.add_all([stream, feature])
        session.flush()
        for minute, value in ((0, 4.5), (1, 4.75)):
            session.add(
                Observation(
                    datastream_id=stream.id,
                    feature_of_interest_id=feature.id,
                    phenomenon_time_start=datetime(2026, 11, 26, 7, minute, tzinfo=UTC),
                    result_type=ResultType.NUMBER,
                    result_number=value,
                    **scoped,
                )
            )
        return tenant.id, thing.id, stream.id


def test_entities_round_trip_with_numbers_as_numbers(sta_database: Database) -> None:
    _, _, stream_id = _lantern(sta_database)
    with sta_database.read() as session:
        average = session.scalar(
            select(func.avg(Observation.result_number)).where(
                Observation.datastream_id == stream_id
            )
        )
        stream = session.get(Datastream, stream_id)
    assert average == pytest.approx(4.625)
    assert stream is not None
    assert stream.unit_of_measurement == {"name": "Grad Celsius", "symbol": "°C"}


def test_locations_are_found_spatially(sta_database: Database) -> None:
    _lantern(sta_database)
    centre = box(7.76, 49.44, 7.78, 49.45)
    with sta_database.read() as session:
        inside = session.scalars(select(Location.name).where(spatial.within(Location.geom, centre)))
        assert list(inside) == ["Stiftsplatz"]
        far = box(7.0, 49.0, 7.1, 49.1)
        assert (
            session.scalar(
                select(func.count())
                .select_from(Location)
                .where(spatial.intersects(Location.geom, far))
            )
            == 0
        )


def test_deleting_a_thing_cascades_to_datastreams_and_observations(sta_database: Database) -> None:
    _, thing_id, stream_id = _lantern(sta_database)
    with sta_database.write() as session:
        session.delete(session.get(Thing, thing_id))
    with sta_database.read() as session:
        assert session.get(Datastream, stream_id) is None
        assert session.scalar(select(func.count()).select_from(Observation)) == 0
        assert session.scalar(select(func.count()).select_from(ThingLocation)) == 0
        assert session.scalar(select(func.count()).select_from(Location)) == 1


def test_an_observation_belongs_to_exactly_one_stream(sta_database: Database) -> None:
    tenant_id, _, stream_id = _lantern(sta_database)
    with sta_database.read() as session:
        feature_id = session.scalar(select(FeatureOfInterest.id))
    orphan = Observation(
        tenant_id=tenant_id,
        datastream_id=None,
        multi_datastream_id=None,
        feature_of_interest_id=feature_id,
        phenomenon_time_start=datetime(2026, 11, 26, tzinfo=UTC),
        result_type=ResultType.NULL,
    )
    with pytest.raises(IntegrityError), sta_database.write() as session:
        session.add(orphan)
    with sta_database.read() as session:
        count = session.scalar(select(func.count()).where(Observation.datastream_id == stream_id))
    assert count == 2


def test_branch_is_current_after_upgrade(sta_database: Database) -> None:
    states = migrations.branch_states(sta_database, discover_modules(None))
    assert {state.module: state.is_current for state in states}["sensorthings"]
