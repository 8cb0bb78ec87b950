"""`$resultFormat`: the formats a read can answer in, and the dataArray format.

dataArray (OGC 18-088 §14.3) sends a page of Observations as arrays of their components,
grouped by the Datastream (or MultiDatastream) they belong to::

    {"value": [{"Datastream@iot.navigationLink": ".../Datastreams(1)",
                "components": ["id", "phenomenonTime", "result", "resultTime"],
                "dataArray@iot.count": 2,
                "dataArray": [[1, "2026-12-01T10:00:00Z", 21.5, null], ...]}]}

GeoJSON and CSV live in `geojson_.py` and `csv_.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import DATASTREAM, MULTI_DATASTREAM, OBSERVATION
from stadtkern.sensorthings.collection import (
    collection_query,
    fetch_collection,
    next_page_link,
)
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.create_observations import COMPONENTS as WRITABLE_COMPONENTS
from stadtkern.sensorthings.create_observations import FEATURE_COMPONENT
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.paths import ResourcePath
from stadtkern.sensorthings.query import QueryOptions, ResultFormat, SelectItem
from stadtkern.sensorthings.render import Row, field_value, self_link
from stadtkern.sensorthings.resolve import Resolved

# The formats the query-option parser accepts; the reader branches on them.
DATA_ARRAY = ResultFormat.DATA_ARRAY
GEOJSON = ResultFormat.GEOJSON
CSV = ResultFormat.CSV

DEFAULT_COMPONENTS = ("id", "phenomenonTime", "result", "resultTime")
FEATURE_ID = FEATURE_COMPONENT
# The fields a dataArray row may carry: the same for reading as for CreateObservations.
_FIELD_COMPONENTS = tuple(sorted(WRITABLE_COMPONENTS - {FEATURE_COMPONENT}))


def _columns(name: str) -> tuple[str, ...]:
    field = OBSERVATION.field(name)
    assert field is not None  # noqa: S101 - only Observation fields are listed
    return field.columns


# The components an Observation's dataArray may carry (OGC 18-088 §14.3.1), with columns.
COMPONENTS: Mapping[str, tuple[str, ...]] = {
    "id": ("id",),
    **{name: _columns(name) for name in _FIELD_COMPONENTS},
    FEATURE_ID: ("feature_of_interest_id",),
}


def result_format(options: QueryOptions) -> ResultFormat | None:
    """The `$resultFormat` of a request (None: plain JSON); the parser refused unknown ones."""
    return options.result_format


def data_array(
    session: Session,
    context: ReadContext,
    path: ResourcePath,
    resolved: Resolved,
    options: QueryOptions,
) -> Document:
    """A page of Observations in the dataArray format, one group per (Multi)Datastream."""
    if resolved.entity is not OBSERVATION:
        raise BadRequest("$resultFormat=dataArray applies to collections of Observations")
    if options.expand:
        raise BadRequest("$expand cannot be combined with $resultFormat=dataArray")
    components = data_components(options.select)
    table = OBSERVATION.table
    names = ["id", "datastream_id", "multi_datastream_id"]
    names.extend(column for name in components for column in COMPONENTS[name])
    columns = [table.c[name] for name in dict.fromkeys(names)]
    query = collection_query(context, resolved, options)
    page = fetch_collection(session, context, columns, query, options)
    groups: dict[tuple[EntityType, int], list[list[Any]]] = {}
    for row in page.rows:
        values = [_component(name, row) for name in components]
        groups.setdefault(_stream(row), []).append(values)
    body: dict[str, Any] = {}
    if page.counted is not None:
        body.update(page.counted.annotations())
    if (link := next_page_link(context, path, page, query.frame)) is not None:
        body["@iot.nextLink"] = link
    body["value"] = [
        {
            f"{stream.name}@iot.navigationLink": self_link(context.base_url, stream, stream_id),
            "components": list(components),
            "dataArray@iot.count": len(rows),
            "dataArray": rows,
        }
        for (stream, stream_id), rows in groups.items()
    ]
    return Document(body)


def data_components(items: tuple[SelectItem, ...] | None) -> tuple[str, ...]:
    """The components `$select` asks for, in its order (default: id, times and result)."""
    if items is None:
        return DEFAULT_COMPONENTS
    names = []
    for item in items:
        name = "/".join(item.path)
        if name not in COMPONENTS:
            known = ", ".join(COMPONENTS)
            raise BadRequest(
                f"$select: {name!r} at position {item.position} is not a dataArray component "
                f"(known: {known})"
            )
        names.append(name)
    return tuple(dict.fromkeys(names))


def _component(name: str, row: Row) -> Any:
    if name == "id":
        return int(row["id"])
    if name == FEATURE_ID:
        return int(row["feature_of_interest_id"])
    field = OBSERVATION.field(name)
    assert field is not None  # noqa: S101 - COMPONENTS names only Observation fields
    return field_value(field, row)


def _stream(row: Row) -> tuple[EntityType, int]:
    if row["datastream_id"] is not None:
        return DATASTREAM, int(row["datastream_id"])
    return MULTI_DATASTREAM, int(row["multi_datastream_id"])
