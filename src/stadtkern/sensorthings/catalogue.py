"""The twelve entity types of SensorThings API 1.1 Sensing, MultiDatastream and Tasking Core.

Mandatory fields follow OGC 18-088 (tables of section 8.2) and OGC 17-079r1; a `Datastream`'s
times and observed area are maintained by the server and ignored in requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import Table

from stadtkern.db.base import Base
from stadtkern.sensorthings import models
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind, Link, LinkKind

K = FieldKind


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # noqa: S101 - declarative models map one table
    return table


def _name() -> tuple[Field, Field]:
    return (
        Field("name", K.TEXT, ("name",), required=True),
        Field("description", K.TEXT, ("description",), required=True),
    )


PROPERTIES = Field("properties", K.OBJECT, ("properties",))
ENCODING = Field("encodingType", K.TEXT, ("encoding_type",), required=True)

THING_LOCATION = _table(models.ThingLocation)
HISTORICAL_LOCATION_LOCATION = _table(models.HistoricalLocationLocation)
MULTI_DATASTREAM_OBSERVED_PROPERTY = _table(models.MultiDatastreamObservedProperty)


def _many(name: str, target: str, column: str) -> Link:
    return Link(name, target, to_many=True, kind=LinkKind.TARGET, column=column)


def _one(name: str, column: str, *, required: bool = True, target: str | None = None) -> Link:
    return Link(
        name, target or name, to_many=False, kind=LinkKind.OWN, column=column, required=required
    )


def _stream_fields() -> tuple[Field, ...]:
    return (
        *_name(),
        Field("observationType", K.TEXT, ("observation_type",), required=True),
        Field("observedArea", K.AREA, ("observed_area",), writable=False),
        Field(
            "phenomenonTime",
            K.INTERVAL,
            ("phenomenon_time_start", "phenomenon_time_end"),
            writable=False,
        ),
        Field("resultTime", K.INTERVAL, ("result_time_start", "result_time_end"), writable=False),
        PROPERTIES,
    )


THING = EntityType(
    "Thing",
    "Things",
    _table(models.Thing),
    (*_name(), PROPERTIES),
    (
        Link(
            "Locations",
            "Location",
            to_many=True,
            kind=LinkKind.TABLE,
            table=THING_LOCATION,
            near="thing_id",
            far="location_id",
        ),
        _many("HistoricalLocations", "HistoricalLocation", "thing_id"),
        _many("Datastreams", "Datastream", "thing_id"),
        _many("MultiDatastreams", "MultiDatastream", "thing_id"),
        _many("TaskingCapabilities", "TaskingCapability", "thing_id"),
    ),
)

LOCATION = EntityType(
    "Location",
    "Locations",
    _table(models.Location),
    (
        *_name(),
        ENCODING,
        Field("location", K.GEOJSON, ("location_json", "geom"), required=True),
        PROPERTIES,
    ),
    (
        Link(
            "Things",
            "Thing",
            to_many=True,
            kind=LinkKind.TABLE,
            table=THING_LOCATION,
            near="location_id",
            far="thing_id",
        ),
        Link(
            "HistoricalLocations",
            "HistoricalLocation",
            to_many=True,
            kind=LinkKind.TABLE,
            table=HISTORICAL_LOCATION_LOCATION,
            near="location_id",
            far="historical_location_id",
        ),
    ),
)

HISTORICAL_LOCATION = EntityType(
    "HistoricalLocation",
    "HistoricalLocations",
    _table(models.HistoricalLocation),
    (Field("time", K.INSTANT, ("time",), required=True),),
    (
        _one("Thing", "thing_id"),
        Link(
            "Locations",
            "Location",
            to_many=True,
            kind=LinkKind.TABLE,
            table=HISTORICAL_LOCATION_LOCATION,
            near="historical_location_id",
            far="location_id",
        ),
    ),
)

SENSOR = EntityType(
    "Sensor",
    "Sensors",
    _table(models.Sensor),
    (*_name(), ENCODING, Field("metadata", K.ANY, ("metadata",), required=True), PROPERTIES),
    (
        _many("Datastreams", "Datastream", "sensor_id"),
        _many("MultiDatastreams", "MultiDatastream", "sensor_id"),
    ),
)

OBSERVED_PROPERTY = EntityType(
    "ObservedProperty",
    "ObservedProperties",
    _table(models.ObservedProperty),
    (*_name(), Field("definition", K.TEXT, ("definition",), required=True), PROPERTIES),
    (
        _many("Datastreams", "Datastream", "observed_property_id"),
        Link(
            "MultiDatastreams",
            "MultiDatastream",
            to_many=True,
            kind=LinkKind.TABLE,
            table=MULTI_DATASTREAM_OBSERVED_PROPERTY,
            near="observed_property_id",
            far="multi_datastream_id",
        ),
    ),
)

DATASTREAM = EntityType(
    "Datastream",
    "Datastreams",
    _table(models.Datastream),
    (
        *_stream_fields(),
        Field("unitOfMeasurement", K.OBJECT, ("unit_of_measurement",), required=True),
    ),
    (
        _one("Thing", "thing_id"),
        _one("Sensor", "sensor_id"),
        _one("ObservedProperty", "observed_property_id"),
        _many("Observations", "Observation", "datastream_id"),
    ),
)

MULTI_DATASTREAM = EntityType(
    "MultiDatastream",
    "MultiDatastreams",
    _table(models.MultiDatastream),
    (
        *_stream_fields(),
        Field("unitOfMeasurements", K.LIST, ("unit_of_measurements",), required=True),
        Field(
            "multiObservationDataTypes",
            K.LIST,
            ("multi_observation_data_types",),
            required=True,
        ),
    ),
    (
        _one("Thing", "thing_id"),
        _one("Sensor", "sensor_id"),
        Link(
            "ObservedProperties",
            "ObservedProperty",
            to_many=True,
            kind=LinkKind.TABLE,
            table=MULTI_DATASTREAM_OBSERVED_PROPERTY,
            near="multi_datastream_id",
            far="observed_property_id",
            ordered_by="position",
            required=True,
        ),
        _many("Observations", "Observation", "multi_datastream_id"),
    ),
)

OBSERVATION = EntityType(
    "Observation",
    "Observations",
    _table(models.Observation),
    (
        Field("phenomenonTime", K.TIME, ("phenomenon_time_start", "phenomenon_time_end")),
        Field("resultTime", K.INSTANT, ("result_time",)),
        Field(
            "result",
            K.RESULT,
            ("result_type", "result_number", "result_string", "result_boolean", "result_json"),
            required=True,
        ),
        Field("resultQuality", K.ANY, ("result_quality",)),
        Field("validTime", K.INTERVAL, ("valid_time_start", "valid_time_end")),
        Field("parameters", K.OBJECT, ("parameters",)),
    ),
    (
        # One of Datastream and MultiDatastream is required; the writer checks which.
        _one("Datastream", "datastream_id", required=False),
        _one("MultiDatastream", "multi_datastream_id", required=False),
        # Generated from the Thing's Location when not given.
        _one("FeatureOfInterest", "feature_of_interest_id", required=False),
    ),
)

FEATURE_OF_INTEREST = EntityType(
    "FeatureOfInterest",
    "FeaturesOfInterest",
    _table(models.FeatureOfInterest),
    (
        *_name(),
        ENCODING,
        Field("feature", K.GEOJSON, ("feature_json", "geom"), required=True),
        PROPERTIES,
    ),
    (_many("Observations", "Observation", "feature_of_interest_id"),),
)

TASKING_CAPABILITY = EntityType(
    "TaskingCapability",
    "TaskingCapabilities",
    _table(models.TaskingCapability),
    (
        *_name(),
        Field("taskingParameters", K.OBJECT, ("tasking_parameters",), required=True),
        PROPERTIES,
    ),
    (
        _one("Thing", "thing_id"),
        _one("Actuator", "actuator_id"),
        _many("Tasks", "Task", "tasking_capability_id"),
    ),
)

ACTUATOR = EntityType(
    "Actuator",
    "Actuators",
    _table(models.Actuator),
    (*_name(), ENCODING, Field("metadata", K.ANY, ("metadata",), required=True), PROPERTIES),
    (_many("TaskingCapabilities", "TaskingCapability", "actuator_id"),),
)

TASK = EntityType(
    "Task",
    "Tasks",
    _table(models.Task),
    (
        Field("creationTime", K.INSTANT, ("creation_time",), writable=False),
        Field("taskingParameters", K.OBJECT, ("tasking_parameters",), required=True),
    ),
    (_one("TaskingCapability", "tasking_capability_id"),),
)

ENTITY_TYPES: Mapping[str, EntityType] = MappingProxyType(
    {
        entity.name: entity
        for entity in (
            THING,
            LOCATION,
            HISTORICAL_LOCATION,
            SENSOR,
            OBSERVED_PROPERTY,
            DATASTREAM,
            MULTI_DATASTREAM,
            OBSERVATION,
            FEATURE_OF_INTEREST,
            TASKING_CAPABILITY,
            ACTUATOR,
            TASK,
        )
    }
)
BY_SET: Mapping[str, EntityType] = MappingProxyType(
    {entity.set_name: entity for entity in ENTITY_TYPES.values()}
)
