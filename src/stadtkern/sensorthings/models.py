"""Tables of the SensorThings API 1.1 entities (Sensing Core, MultiDatastream, Tasking Core).

Every entity row carries its tenant. GeoJSON sent by clients is kept as received (`*_json`)
so it is returned unchanged, and its geometry is kept alongside in a spatial column for
filtering. Intervals (phenomenonTime, resultTime, validTime) are two columns: start and end,
with end NULL for an instant. A result is stored in the column of its JSON type, so numbers
compare and aggregate as numbers in the database; `result_type` says which column holds it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

import stadtkern.core.models  # noqa: F401 - registers the tenant table the foreign keys refer to
from stadtkern.db.base import Base, BigId, TenantScoped
from stadtkern.db.geometry import Geometry

# the derived tables (fast reads) join the metadata with the models
from stadtkern.sensorthings.derived import LatestHead as LatestHead
from stadtkern.sensorthings.derived import ObservationHour as ObservationHour


class ResultType:
    """Which column of an Observation holds its result (JSON's types)."""

    NULL = 0
    NUMBER = 1
    STRING = 2
    BOOLEAN = 3
    OBJECT = 4  # JSON object or array, in result_json
    INTEGER = 5  # a JSON integer: result_number, and result_json too when beyond 2**53


def _fk(target: str, **info: str) -> Any:
    return ForeignKey(target, ondelete="CASCADE", info=info)


# The Observations' references are foreign keys on SQLite only: on PostgreSQL the writers
# check and lock them per batch and triggers cascade deletes (migration sensorthings_0006).
WRITERS_KEEP = {"postgresql": "checked by the writers, cascaded by triggers"}


class _Described(TenantScoped):
    """Fields most entities share."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Thing(_Described, Base):
    """A physical or virtual object: a lantern, a bridge, a classroom."""

    __tablename__ = "sta_thing"


class Location(_Described, Base):
    """Where a Thing is (or was)."""

    __tablename__ = "sta_location"

    encoding_type: Mapped[str] = mapped_column(String(100))
    location_json: Mapped[Any] = mapped_column(JSON)
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)


class ThingLocation(Base):
    """The current Locations of a Thing."""

    __tablename__ = "sta_thing_location"

    thing_id: Mapped[int] = mapped_column(BigId, _fk("sta_thing.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_location.id"), primary_key=True, index=True
    )


class HistoricalLocation(TenantScoped, Base):
    """When a Thing was at which Locations."""

    __tablename__ = "sta_historical_location"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    thing_id: Mapped[int] = mapped_column(BigId, _fk("sta_thing.id"), index=True)
    time: Mapped[datetime] = mapped_column()


class HistoricalLocationLocation(Base):
    """The Locations of a HistoricalLocation."""

    __tablename__ = "sta_historical_location_location"

    historical_location_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_historical_location.id"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_location.id"), primary_key=True, index=True
    )


class Sensor(_Described, Base):
    """The instrument that observes."""

    __tablename__ = "sta_sensor"

    encoding_type: Mapped[str] = mapped_column(String(100))
    metadata_: Mapped[Any] = mapped_column("metadata", JSON)


class ObservedProperty(_Described, Base):
    """The phenomenon observed, e.g. air temperature."""

    __tablename__ = "sta_observed_property"

    definition: Mapped[str] = mapped_column(Text)


class _Stream(_Described):
    """What Datastreams and MultiDatastreams share."""

    observation_type: Mapped[str] = mapped_column(String(255))
    observed_area: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    phenomenon_time_start: Mapped[datetime | None] = mapped_column(nullable=True)
    phenomenon_time_end: Mapped[datetime | None] = mapped_column(nullable=True)
    result_time_start: Mapped[datetime | None] = mapped_column(nullable=True)
    result_time_end: Mapped[datetime | None] = mapped_column(nullable=True)


class Datastream(_Stream, Base):
    """A time series of Observations of one ObservedProperty by one Sensor of one Thing."""

    __tablename__ = "sta_datastream"

    thing_id: Mapped[int] = mapped_column(BigId, _fk("sta_thing.id"), index=True)
    sensor_id: Mapped[int] = mapped_column(BigId, _fk("sta_sensor.id"), index=True)
    observed_property_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_observed_property.id"), index=True
    )
    unit_of_measurement: Mapped[dict[str, Any]] = mapped_column(JSON)


class MultiDatastream(_Stream, Base):
    """A time series whose results are arrays, one element per ObservedProperty."""

    __tablename__ = "sta_multi_datastream"

    thing_id: Mapped[int] = mapped_column(BigId, _fk("sta_thing.id"), index=True)
    sensor_id: Mapped[int] = mapped_column(BigId, _fk("sta_sensor.id"), index=True)
    unit_of_measurements: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    multi_observation_data_types: Mapped[list[str]] = mapped_column(JSON)


class MultiDatastreamObservedProperty(Base):
    """The ObservedProperties of a MultiDatastream, in the order of its result arrays."""

    __tablename__ = "sta_multi_datastream_observed_property"

    multi_datastream_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_multi_datastream.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    observed_property_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_observed_property.id"), index=True
    )


class FeatureOfInterest(_Described, Base):
    """What an Observation is about; generated from the Thing's Location when not given."""

    __tablename__ = "sta_feature_of_interest"

    encoding_type: Mapped[str] = mapped_column(String(100))
    feature_json: Mapped[Any] = mapped_column(JSON)
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    # The Location it was generated from, so that one Location yields one feature.
    source_location_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("sta_location.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Observation(TenantScoped, Base):
    """One measured value.

    On PostgreSQL the table is partitioned by month of phenomenon_time_start (see
    `partitions.py`); a partitioned table's primary key must hold the partition key, so there
    it is (id, phenomenon_time_start). The ids stay unique all the same: they come from the
    table's one sequence. Mapped here is `id` alone, the entity's identity and SQLite's key
    (a rowid alias); Alembic does not compare primary keys, the migrations test the rest.
    """

    __tablename__ = "sta_observation"
    __table_args__ = (
        # BRIN on PostgreSQL (tiny, and time-ordered inserts keep it sharp); a b-tree on
        # SQLite, which has no BRIN.
        Index(
            "ix_sta_observation_phenomenon_time_start",
            "phenomenon_time_start",
            postgresql_using="brin",
        ),
        CheckConstraint(
            "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)", name="one_stream"
        ),
        Index(
            "ix_sta_observation_datastream_id_phenomenon_time_start",
            "datastream_id",
            "phenomenon_time_start",
        ),
        Index(
            "ix_sta_observation_multi_datastream_id_phenomenon_time_start",
            "multi_datastream_id",
            "phenomenon_time_start",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        BigId, _fk("tenant.id", **WRITERS_KEEP), index=True, nullable=False
    )
    datastream_id: Mapped[int | None] = mapped_column(
        BigId, _fk("sta_datastream.id", **WRITERS_KEEP), nullable=True
    )
    multi_datastream_id: Mapped[int | None] = mapped_column(
        BigId, _fk("sta_multi_datastream.id", **WRITERS_KEEP), nullable=True
    )
    feature_of_interest_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_feature_of_interest.id", **WRITERS_KEEP), index=True
    )
    phenomenon_time_start: Mapped[datetime] = mapped_column()
    phenomenon_time_end: Mapped[datetime | None] = mapped_column(nullable=True)
    result_time: Mapped[datetime | None] = mapped_column(nullable=True)
    result_type: Mapped[int] = mapped_column(SmallInteger)
    result_number: Mapped[float | None] = mapped_column(Double, nullable=True)
    result_string: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_boolean: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result_json: Mapped[Any] = mapped_column(JSON, nullable=True)
    result_quality: Mapped[Any] = mapped_column(JSON, nullable=True)
    valid_time_start: Mapped[datetime | None] = mapped_column(nullable=True)
    valid_time_end: Mapped[datetime | None] = mapped_column(nullable=True)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class LatestObservation(TenantScoped, Base):
    """The newest Observation of each Datastream (greatest phenomenon_time_start, then id).

    Kept by the ingest batch and by the general writer in the transaction that changes the
    Observations, so that map views read one row per Datastream instead of the Observations.
    """

    __tablename__ = "sta_latest_observation"

    datastream_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_datastream.id"), primary_key=True, autoincrement=False
    )
    # No foreign key: on PostgreSQL the Observations' key is (id, phenomenon_time_start).
    observation_id: Mapped[int] = mapped_column(BigId)
    phenomenon_time_start: Mapped[datetime] = mapped_column()
    phenomenon_time_end: Mapped[datetime | None] = mapped_column(nullable=True)
    result_time: Mapped[datetime | None] = mapped_column(nullable=True)
    result_type: Mapped[int] = mapped_column(SmallInteger)
    result_number: Mapped[float | None] = mapped_column(Double, nullable=True)
    result_string: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_boolean: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result_json: Mapped[Any] = mapped_column(JSON, nullable=True)


class Actuator(_Described, Base):
    """What acts: a siren, a loudspeaker, a light."""

    __tablename__ = "sta_actuator"

    encoding_type: Mapped[str] = mapped_column(String(100))
    metadata_: Mapped[Any] = mapped_column("metadata", JSON)


class TaskingCapability(_Described, Base):
    """A way a Thing can be tasked through an Actuator, with its parameters."""

    __tablename__ = "sta_tasking_capability"

    thing_id: Mapped[int] = mapped_column(BigId, _fk("sta_thing.id"), index=True)
    actuator_id: Mapped[int] = mapped_column(BigId, _fk("sta_actuator.id"), index=True)
    tasking_parameters: Mapped[dict[str, Any]] = mapped_column(JSON)


class Task(TenantScoped, Base):
    """A command to a Thing through one of its TaskingCapabilities."""

    __tablename__ = "sta_task"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tasking_capability_id: Mapped[int] = mapped_column(
        BigId, _fk("sta_tasking_capability.id"), index=True
    )
    creation_time: Mapped[datetime] = mapped_column()
    tasking_parameters: Mapped[dict[str, Any]] = mapped_column(JSON)


class TenantSetting(Base):
    """How a town publishes its SensorThings data: anonymous read access for open data."""

    __tablename__ = "sta_tenant_setting"

    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    anonymous_read: Mapped[bool] = mapped_column(Boolean, default=False)
