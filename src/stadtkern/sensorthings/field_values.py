"""One JSON field of a request body, checked against its FieldKind and turned into columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import String

from stadtkern.errors import BadRequest
from stadtkern.geo import GEOJSON_TYPES, GeometryError, geometry_from_geojson
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind
from stadtkern.sensorthings.results import COLUMNS, result_columns
from stadtkern.sensorthings.times import parse_instant, parse_interval, parse_time

K = FieldKind
Columns = tuple[Any, ...]


def field_columns(entity: EntityType, field: Field, value: object) -> dict[str, Any]:
    """The column values that store `value` in `field`; BadRequest naming the field."""
    where = f"{entity.name}.{field.name}"
    if value is None:
        return _null(entity, field, where)
    values = _PARSERS[field.kind](where, value)
    if field.kind is K.TEXT:
        check_length(entity, field, values[0])
    return dict(zip(field.columns, values, strict=True))


def column_parser(entity: EntityType, field: Field) -> Callable[[object], Columns]:
    """`field_columns` as a function of the value alone, returning the column values in
    `field.columns` order (for many values of one field: the ingest's dataArray rows)."""
    where = f"{entity.name}.{field.name}"
    parse = _PARSERS[field.kind]
    text = field.kind is K.TEXT

    def columns(value: object) -> Columns:
        if value is None:
            nulls = _null(entity, field, where)
            return tuple(nulls[name] for name in field.columns)
        values = parse(where, value)
        if text:
            check_length(entity, field, values[0])
        return values

    return columns


def reset_columns(field: Field) -> dict[str, Any]:
    """NULL in every column of the field (PUT without an optional field)."""
    return dict.fromkeys(field.columns)


def check_length(entity: EntityType, field: Field, text: str) -> None:
    """BadRequest when text is longer than the field's column holds."""
    column_type = entity.table.c[field.column].type
    length = column_type.length if isinstance(column_type, String) else None
    if length is not None and len(text) > length:
        raise BadRequest(f"{entity.name}.{field.name}: at most {length} characters")


def _null(entity: EntityType, field: Field, where: str) -> dict[str, Any]:
    if field.kind is K.RESULT:
        return result_columns(None)
    if not all(entity.table.c[column].nullable for column in field.columns):
        raise BadRequest(f"{where} may not be null")
    return reset_columns(field)


def _text(where: str, value: object) -> Columns:
    if not isinstance(value, str):
        raise BadRequest(f"{where}: expected a string")
    if "\x00" in value:
        raise BadRequest(f"{where}: NUL characters are not allowed")
    return (value,)


def _object(where: str, value: object) -> Columns:
    if not isinstance(value, dict):
        raise BadRequest(f"{where}: expected a JSON object")
    return (value,)


def _list(where: str, value: object) -> Columns:
    if not isinstance(value, list):
        raise BadRequest(f"{where}: expected a JSON array")
    return (value,)


def _any(where: str, value: object) -> Columns:
    return (value,)


def _geojson(where: str, value: object) -> Columns:
    if not isinstance(value, dict):
        raise BadRequest(f"{where}: expected a GeoJSON object")
    geometry = value.get("geometry") if value.get("type") == "Feature" else value
    try:
        shape = geometry_from_geojson(geometry, allowed=GEOJSON_TYPES)
    except GeometryError as exc:
        raise BadRequest(f"{where}: {exc}") from exc
    return (value, shape)


def _instant(where: str, value: object) -> Columns:
    return (parse_instant(value, where),)


def _interval(where: str, value: object) -> Columns:
    return parse_interval(value, where)


def _time(where: str, value: object) -> Columns:
    return parse_time(value, where)


def _result(where: str, value: object) -> Columns:
    try:
        columns = result_columns(value)
    except TypeError as exc:
        raise BadRequest(f"{where}: {exc}") from exc
    return tuple(columns[name] for name in COLUMNS)


_PARSERS: dict[FieldKind, Callable[[str, object], Columns]] = {
    K.TEXT: _text,
    K.OBJECT: _object,
    K.ANY: _any,
    K.LIST: _list,
    K.GEOJSON: _geojson,
    K.INSTANT: _instant,
    K.INTERVAL: _interval,
    K.TIME: _time,
    K.RESULT: _result,
}
