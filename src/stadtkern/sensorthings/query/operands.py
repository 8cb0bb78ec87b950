"""Compiled sub-expressions with their kinds, literal binding, and JSON value extraction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
)
from sqlalchemy import literal as sql_literal
from sqlalchemy import null as sql_null
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine

from stadtkern.db.base import UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import Literal, TimeInterval
from stadtkern.sensorthings.query.kinds import Kind
from stadtkern.sensorthings.query.per_dialect import PerDialect


@dataclass(frozen=True)
class JsonValue:
    """A path into a JSON column whose kind the surrounding expression decides."""

    column: ColumnElement[Any]
    keys: tuple[str, ...]
    # Scalars kept in typed columns by kind (see Property.alternatives); the JSON column
    # then holds only objects and arrays.
    typed: Mapping[Kind, ColumnElement[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operand:
    """A compiled sub-expression: SQL, kind, and what some operators need besides."""

    sql: ColumnElement[Any]
    kind: Kind
    end: ColumnElement[Any] | None = None  # the end of an interval; sql is its start
    json: JsonValue | None = None
    literal: Literal | None = None


def sql_type(kind: Kind) -> TypeEngine[Any]:
    """The SQL type a kind's values are handled as (dates and times as ISO strings)."""
    types: dict[Kind, TypeEngine[Any]] = {
        Kind.INTEGER: BigInteger(),
        Kind.NUMBER: Float(),
        Kind.BOOLEAN: Boolean(),
        Kind.DATETIME: UtcDateTime(),
        Kind.INTERVAL: UtcDateTime(),
        Kind.GEOMETRY: Geometry(),
    }
    return types.get(kind, String())


def typed_null(kind: Kind) -> Operand:
    """A NULL of a kind, so PostgreSQL knows its type where it cannot infer one."""
    sql = cast(sql_null(), sql_type(kind))
    return Operand(sql, kind, end=sql if kind is Kind.INTERVAL else None)


def bind_literal(node: Literal) -> Operand:
    """A literal as bound parameters of the kind's SQL type."""
    value = node.value
    if node.kind is Kind.NULL:
        return Operand(sql_null(), Kind.NULL, literal=node)
    if node.kind is Kind.DURATION:
        raise QueryError("durations are not supported in expressions yet", node.position)
    if isinstance(value, TimeInterval):
        start = sql_literal(value.start, UtcDateTime())
        return Operand(start, Kind.INTERVAL, sql_literal(value.end, UtcDateTime()), literal=node)
    if isinstance(value, BaseGeometry):
        # A plain Geometry, not a column's type: a point may be tested against any geometry.
        return Operand(
            bindparam(None, value, type_=Geometry(), unique=True), node.kind, literal=node
        )
    bound: Any = value
    if isinstance(value, datetime):
        bound = value
    elif isinstance(value, date):
        bound = value.isoformat()
    elif isinstance(value, time):
        bound = time_text(value)
    return Operand(sql_literal(bound, sql_type(node.kind)), node.kind, literal=node)


def time_text(value: time) -> str:
    """A time of day as compiled time() values are compared: HH:MM:SS.ffffff."""
    return value.strftime("%H:%M:%S.%f")


def _sqlite_path(keys: tuple[str, ...]) -> ColumnElement[Any]:
    # Quoted keys, since a key may contain dots; the path is a bound parameter like any value.
    return sql_literal("$" + "".join(f'."{key}"' for key in keys), String())


def _pg_element(value: JsonValue) -> ColumnElement[Any]:
    if not value.keys:
        return value.column
    return func.json_extract_path(value.column, *(sql_literal(k, String()) for k in value.keys))


def _pg_text(value: JsonValue) -> ColumnElement[Any]:
    # ->> 0 of a one-element array is the text of any JSON value, the root included.
    return func.json_build_array(_pg_element(value)).op("->>")(0)


_SQLITE_TYPES = {
    Kind.STRING: ("text",),
    Kind.NUMBER: ("integer", "real"),
    Kind.BOOLEAN: ("true", "false"),
}
_PG_TYPES = {Kind.STRING: "string", Kind.NUMBER: "number", Kind.BOOLEAN: "boolean"}


def json_as(value: JsonValue, kind: Kind, position: int) -> Operand:
    """The JSON value if it is of `kind`, else NULL: a JSON number never equals a string."""
    if kind not in _PG_TYPES:
        raise QueryError(f"a JSON value cannot be used as {kind}", position)
    if kind in value.typed:
        return Operand(value.typed[kind], kind)
    path = _sqlite_path(value.keys)
    sqlite_value: ColumnElement[Any] = func.json_extract(value.column, path)
    if kind is Kind.NUMBER:
        sqlite_value = cast(sqlite_value, Float())
    sqlite = case(
        (func.json_type(value.column, path).in_(_SQLITE_TYPES[kind]), sqlite_value),
        else_=cast(sql_null(), sql_type(kind)),
    )
    postgresql = case(
        (
            func.json_typeof(_pg_element(value)) == _PG_TYPES[kind],
            cast(_pg_text(value), sql_type(kind)),
        ),
        else_=cast(sql_null(), sql_type(kind)),
    )
    return Operand(PerDialect(postgresql=postgresql, sqlite=sqlite, type_=sql_type(kind)), kind)


def json_is_null(value: JsonValue) -> ColumnElement[bool]:
    """True where the path is missing or holds JSON null."""
    if value.typed:
        # The JSON column may hold SQL NULL or JSON null; the typed columns only SQL NULL.
        untyped = json_is_null(JsonValue(value.column, value.keys))
        return and_(untyped, *(column.is_(None) for column in value.typed.values()))
    sqlite_type = func.json_type(value.column, _sqlite_path(value.keys))
    pg_type = func.json_typeof(_pg_element(value))
    return PerDialect(
        postgresql=or_(pg_type.is_(None), pg_type == "null"),
        sqlite=or_(sqlite_type.is_(None), sqlite_type == "null"),
        type_=Boolean(),
    )


def is_null(operand: Operand) -> ColumnElement[bool]:
    """True where an operand is null (an interval by its start, JSON also when missing)."""
    if operand.json is not None:
        return json_is_null(operand.json)
    return operand.sql.is_(None)
