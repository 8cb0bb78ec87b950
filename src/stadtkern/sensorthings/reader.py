"""Reading SensorThings resources (OGC 18-088 §9): entities, collections, properties, `$ref`.

    with database.read() as session:
        document = read(session, context, parse_path("Things(1)/Datastreams"), options)

The service root is answered elsewhere; every other GET path lands here. Errors are
stadtkern.errors: NotFound for ids that do not exist for the tenant, BadRequest for options
that cannot be applied.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.errors import BadRequest, NotFound
from stadtkern.sensorthings.aggregate import aggregate
from stadtkern.sensorthings.collection import Listing, list_entities, load_entity
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.csv_ import csv_document
from stadtkern.sensorthings.formats import CSV, DATA_ARRAY, GEOJSON, data_array, result_format
from stadtkern.sensorthings.geojson_ import geojson_document, geometry_columns
from stadtkern.sensorthings.latest import latest_values
from stadtkern.sensorthings.paths import AGGREGATE, LATEST, ResourcePath
from stadtkern.sensorthings.query import QueryOptions, SelectItem
from stadtkern.sensorthings.render import ID, SELF_LINK, field_value, self_link
from stadtkern.sensorthings.resolve import Resolved, resolve

__all__ = ["Document", "ReadContext", "read"]

TEXT_MEDIA_TYPE = "text/plain"
_SELF_LINK_ONLY = (SelectItem((SELF_LINK,)),)


def read(
    session: Session, context: ReadContext, path: ResourcePath, options: QueryOptions
) -> Document:
    """The answer to GET `path` with the query `options`, for the tenant of `context`."""
    resolved = resolve(session, context.tenant.id, path)
    if path.extension == LATEST:
        return latest_values(session, context, options)
    if path.extension == AGGREGATE:
        stream_id = path.segments[0].id
        assert stream_id is not None  # noqa: S101 - parse_path admits Datastreams(id) only
        return aggregate(session, context, stream_id, options)
    if path.ref:
        return _references(session, context, path, resolved, options)
    if path.field is not None or path.id_property:
        return _property(session, context, path, resolved)
    if resolved.id is None:
        return _collection(session, context, path, resolved, options)
    return _entity(session, context, resolved, resolved.id, options)


def _collection(
    session: Session,
    context: ReadContext,
    path: ResourcePath,
    resolved: Resolved,
    options: QueryOptions,
) -> Document:
    form = result_format(options)
    if form == DATA_ARRAY:
        return data_array(session, context, path, resolved, options)
    extra = geometry_columns(resolved.entity) if form == GEOJSON else []
    listing = list_entities(session, context, path, resolved, options, extra)
    if form == GEOJSON:
        return geojson_document(session, context, listing, collection=True)
    if form == CSV:
        return csv_document(listing)
    return Document(_page_body(listing, [body for _, body in listing.nodes]))


def _entity(
    session: Session,
    context: ReadContext,
    resolved: Resolved,
    entity_id: int,
    options: QueryOptions,
) -> Document:
    form = result_format(options)
    if form == DATA_ARRAY:
        raise BadRequest("$resultFormat=dataArray applies to collections of Observations")
    extra = geometry_columns(resolved.entity) if form == GEOJSON else []
    listing = load_entity(session, context, resolved.entity, entity_id, options, extra)
    if form == GEOJSON:
        return geojson_document(session, context, listing, collection=False)
    if form == CSV:
        return csv_document(listing)
    return Document(listing.nodes[0][1])


def _references(
    session: Session,
    context: ReadContext,
    path: ResourcePath,
    resolved: Resolved,
    options: QueryOptions,
) -> Document:
    """`$ref`: the selfLinks of a collection's entities (paged) or of one entity."""
    if resolved.id is not None:
        return Document({SELF_LINK: self_link(context.base_url, resolved.entity, resolved.id)})
    links_only = replace(options, select=_SELF_LINK_ONLY, expand=(), result_format=None)
    listing = list_entities(session, context, path, resolved, links_only)
    return Document(_page_body(listing, [body for _, body in listing.nodes]))


def _property(
    session: Session, context: ReadContext, path: ResourcePath, resolved: Resolved
) -> Document:
    """`/{property}` as `{"name": value}`, `/id` as `{"@iot.id": id}`, or either's `/$value`."""
    entity, entity_id = resolved.entity, resolved.id
    assert entity_id is not None  # noqa: S101 - the parser puts properties after one entity
    if path.field is None:
        name, value = ID, entity_id
    else:
        table, field = entity.table, path.field
        columns = [table.c[column] for column in field.columns]
        query = select(*columns).where(
            table.c.id == entity_id, table.c.tenant_id == context.tenant.id
        )
        row = session.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"no {entity.name} with this id")
        name, value = field.name, field_value(field, row)
    if path.value:
        return Document(raw_text(value), TEXT_MEDIA_TYPE)
    return Document({name: value})


def raw_text(value: Any) -> str | None:
    """A property's `$value`: strings as they are, other JSON as JSON text; None for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _page_body(listing: Listing, values: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if listing.counted is not None:
        body.update(listing.counted.annotations())
    if listing.next_link is not None:
        body["@iot.nextLink"] = listing.next_link
    body["value"] = values
    return body
