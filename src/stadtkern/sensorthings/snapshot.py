"""An entity's writable fields as JSON, the document a JSON Patch is applied to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from stadtkern.errors import NotFound
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind
from stadtkern.sensorthings.results import result_value
from stadtkern.sensorthings.times import format_instant, format_time
from stadtkern.sensorthings.write_context import WriteContext


def writable_document(ctx: WriteContext, entity: EntityType, entity_id: int) -> dict[str, Any]:
    """The JSON members of the entity that a client may change."""
    table = entity.table
    fields = [field for field in entity.fields if field.writable]
    columns = [table.c[name] for field in fields for name in field.columns]
    row = ctx.session.execute(
        select(*columns).where(table.c.id == entity_id, table.c.tenant_id == ctx.tenant_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no {entity.name} with this id")
    values = dict(row._mapping)
    return {field.name: field_json(field, values) for field in fields}


def field_json(field: Field, row: Mapping[str, Any]) -> Any:
    """The JSON value of one field, from its columns."""
    first = row[field.column]
    if field.kind is FieldKind.RESULT:
        return result_value(row)
    if field.kind is FieldKind.INSTANT:
        return None if first is None else format_instant(first)
    if field.kind in (FieldKind.INTERVAL, FieldKind.TIME):
        return format_time(first, row[field.columns[1]])
    return first  # text, JSON, and GeoJSON (kept as sent in its first column)
