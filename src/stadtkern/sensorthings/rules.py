"""What particular entity types require beyond their fields (OGC 18-088 §10.2, §12, 17-079r1).

- Observation: exactly one of Datastream and MultiDatastream; phenomenonTime now when not
  given; a FeatureOfInterest generated from the Thing's Location when not given; a
  MultiDatastream's Observation has an array result of its size; its stream's times widen.
- MultiDatastream: observationType OM_ComplexObservation; as many ObservedProperties,
  unitOfMeasurements and multiObservationDataTypes.
- Task: creationTime is the server's time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import Any

from sqlalchemy import func, select

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    MULTI_DATASTREAM,
    MULTI_DATASTREAM_OBSERVED_PROPERTY,
    OBSERVATION,
    TASK,
)
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.features import feature_from_thing
from stadtkern.sensorthings.models import ResultType
from stadtkern.sensorthings.stream_times import note_observation
from stadtkern.sensorthings.write_context import WriteContext

OM_COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"


def before_insert(
    ctx: WriteContext, entity: EntityType, columns: dict[str, Any], links: Mapping[str, object]
) -> None:
    """Complete and check a new row before it is inserted."""
    if entity is OBSERVATION:
        _observation(ctx, columns)
    elif entity is MULTI_DATASTREAM:
        properties = links.get("ObservedProperties")
        count = len(properties) if isinstance(properties, list) else 0
        check_multi_datastream(columns, count)
    elif entity is TASK:
        columns["creation_time"] = ctx.now


def after_insert(ctx: WriteContext, entity: EntityType, columns: Mapping[str, Any]) -> None:
    """Work a new row causes elsewhere."""
    if entity is OBSERVATION:
        stream, stream_id = observation_stream(columns)
        times = (
            columns["phenomenon_time_start"],
            columns.get("phenomenon_time_end"),
            columns.get("result_time"),
        )
        note_observation(ctx, stream, stream_id, times)


def observation_stream(columns: Mapping[str, Any]) -> tuple[EntityType, int]:
    """The (Multi)Datastream an Observation's columns name."""
    if columns.get("datastream_id") is not None:
        return DATASTREAM, int(columns["datastream_id"])
    return MULTI_DATASTREAM, int(columns["multi_datastream_id"])


def check_multi_datastream(columns: Mapping[str, Any], properties: int) -> None:
    """A MultiDatastream's lists agree in size with its ObservedProperties (§12.2)."""
    kind = columns.get("observation_type")
    if kind is not None and kind != OM_COMPLEX:
        raise BadRequest(f"MultiDatastream.observationType must be {OM_COMPLEX}")
    units = columns.get("unit_of_measurements")
    types = columns.get("multi_observation_data_types")
    if units is not None and not all(isinstance(unit, dict) for unit in units):
        raise BadRequest("MultiDatastream.unitOfMeasurements: expected an array of objects")
    if types is not None and not all(isinstance(name, str) for name in types):
        raise BadRequest("MultiDatastream.multiObservationDataTypes: expected an array of strings")
    sizes = {len(value) for value in (units, types) if isinstance(value, Sized)} | {properties}
    if len(sizes) != 1 or properties == 0:
        raise BadRequest(
            "MultiDatastream: ObservedProperties, unitOfMeasurements and "
            "multiObservationDataTypes must be non-empty and of the same size"
        )


def check_result_size(ctx: WriteContext, stream_id: int, columns: Mapping[str, Any]) -> None:
    """An Observation of a MultiDatastream has an array result, one element per property."""
    key = ("size", MULTI_DATASTREAM.name, stream_id)
    if key not in ctx.cache:
        association = MULTI_DATASTREAM_OBSERVED_PROPERTY
        ctx.cache[key] = ctx.session.scalar(
            select(func.count()).where(association.c.multi_datastream_id == stream_id)
        )
    size = ctx.cache[key]
    result = columns.get("result_json")
    if columns.get("result_type") != ResultType.OBJECT or not isinstance(result, list):
        raise BadRequest("Observation.result: a MultiDatastream's result is an array")
    if len(result) != size:
        raise BadRequest(
            f"Observation.result: MultiDatastream({stream_id}) has {size} ObservedProperties "
            f"but the result has {len(result)} elements"
        )


def _observation(ctx: WriteContext, columns: dict[str, Any]) -> None:
    names = ("datastream_id", "multi_datastream_id")
    streams = [name for name in names if columns.get(name) is not None]
    if len(streams) != 1:
        raise BadRequest("Observation: link exactly one of Datastream and MultiDatastream")
    columns.setdefault("phenomenon_time_start", ctx.now)
    stream, stream_id = observation_stream(columns)
    if stream is MULTI_DATASTREAM:
        check_result_size(ctx, stream_id, columns)
    if columns.get("feature_of_interest_id") is None:
        columns["feature_of_interest_id"] = feature_from_thing(ctx, stream, stream_id)
