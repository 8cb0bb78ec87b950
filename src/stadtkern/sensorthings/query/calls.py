"""The SQL of each filter function, the same result on PostgreSQL and on SQLite.

Date-times are read in UTC. On SQLite a UtcDateTime is stored as 'YYYY-MM-DD HH:MM:SS.ffffff'
(SQLAlchemy's fixed SQLite format, always in UTC), so its parts are cut out of that text;
PostgreSQL extracts them from the timestamp at time zone UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Integer, Numeric, String, and_, case, cast, func
from sqlalchemy import literal as sql_literal
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import UserDefinedType

from stadtkern.db.base import UtcDateTime
from stadtkern.sensorthings.query.per_dialect import PerDialect

Sql = ColumnElement[Any]
Builder = Callable[..., Sql]

MIN_DATETIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _both(postgresql: Sql, sqlite: Sql, type_: Any) -> Sql:
    return PerDialect(postgresql=postgresql, sqlite=sqlite, type_=type_)


def _position(text: Sql, part: Sql) -> Sql:
    """1-based position of `part` in `text`, 0 when absent."""
    return _both(func.strpos(text, part), func.instr(text, part), Integer())


def _pg_int(value: Sql) -> Sql:
    # PostgreSQL's substr takes int4; the integers of the filter language are bigint.
    return _both(cast(value, Integer()), value, Integer())


def _substring(text: Sql, start: Sql, count: Sql | None = None) -> Sql:
    # 0-based like OData; a negative start counts as 0 (SQLite would count it from the end)
    # and a negative count as 0 (PostgreSQL would raise an error).
    first = _pg_int(case((start < 0, 1), else_=start + 1))
    if count is None:
        return func.substr(text, first, type_=String())
    return func.substr(text, first, _pg_int(case((count < 0, 0), else_=count)), type_=String())


def _case(name_pg: str, name_sqlite: str) -> Builder:
    # SQLite's lower() and upper() know only ASCII; registered Python functions know umlauts.
    def apply(text: Sql) -> Sql:
        pg = getattr(func, name_pg)(text, type_=String())
        return _both(pg, getattr(func, name_sqlite)(text, type_=String()), String())

    return apply


def _utc(value: Sql) -> Sql:
    return func.timezone(sql_literal("UTC", String()), value)


def _part(field: str, start: int, length: int) -> Builder:
    def apply(value: Sql) -> Sql:
        pg = cast(func.floor(func.extract(field, _utc(value))), Integer())
        sqlite = cast(func.substr(value, start, length), Integer())
        return _both(pg, sqlite, Integer())

    return apply


def _fractional_seconds(value: Sql) -> Sql:
    micro = cast(func.extract("microseconds", _utc(value)), BigInteger()) % 1_000_000
    pg = cast(micro, Float()) / 1_000_000
    return _both(pg, cast(func.substr(value, 20), Float()), Float())


def _formatted(pattern: str, start: int, length: int) -> Builder:
    def apply(value: Sql) -> Sql:
        pg = func.to_char(_utc(value), sql_literal(pattern, String()))
        return _both(pg, func.substr(value, start, length), String())

    return apply


def _offset_minutes(value: Sql) -> Sql:
    # Stored date-times are UTC; literals with another offset are folded by the compiler.
    return case((value.is_(None), cast(None, BigInteger())), else_=sql_literal(0, BigInteger()))


def _rounding(pg_name: str, sqlite: Callable[[Sql], Sql]) -> Builder:
    def apply(value: Sql) -> Sql:
        # round() on numeric rounds half away from zero as OData wants; on float8 it rounds
        # half to even. SQLite rounds half away from zero.
        pg = cast(getattr(func, pg_name)(cast(value, Numeric())), Float())
        return _both(pg, cast(sqlite(value), Float()), Float())

    return apply


def _sqlite_floor(value: Sql) -> Sql:
    # SQLAlchemy replaces SQLite's floor() by Python's math.floor, which fails on NULL.
    return -func.ceil(-value)


def _geo_predicate(name: str) -> Builder:
    def apply(*arguments: Sql) -> Sql:
        pg = getattr(func, name)(*arguments, type_=Boolean())
        # SQLite's functions answer 0/1; an Integer keeps SQLAlchemy from adding "= 1".
        return _both(pg, getattr(func, name)(*arguments, type_=Integer()), Boolean())

    return apply


def _geo_length(value: Sql) -> Sql:
    pg = func.ST_Length(cast(value, _Geography()), False, type_=Float())
    return _both(pg, func.ST_LengthSphere(value, type_=Float()), Float())


class _Geography(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "geography"


BUILDERS: dict[str, Builder] = {
    "substringof": lambda part, text: _position(text, part) > 0,
    "startswith": lambda text, prefix: func.substr(text, 1, func.length(prefix)) == prefix,
    "endswith": lambda text, suffix: and_(
        func.length(text) >= func.length(suffix),
        func.substr(text, func.length(text) - func.length(suffix) + 1) == suffix,
    ),
    "length": lambda text: func.length(text, type_=Integer()),
    "indexof": lambda text, part: _position(text, part) - 1,
    "substring": _substring,
    "tolower": _case("lower", "stadtkern_lower"),
    "toupper": _case("upper", "stadtkern_upper"),
    "trim": lambda text: func.trim(text, type_=String()),
    "concat": lambda left, right: left.concat(right),
    "year": _part("year", 1, 4),
    "month": _part("month", 6, 2),
    "day": _part("day", 9, 2),
    "hour": _part("hour", 12, 2),
    "minute": _part("minute", 15, 2),
    "second": _part("second", 18, 2),
    "fractionalseconds": _fractional_seconds,
    "date": _formatted("YYYY-MM-DD", 1, 10),
    "time": _formatted("HH24:MI:SS.US", 12, 15),
    "totaloffsetminutes": _offset_minutes,
    "now": lambda: sql_literal(datetime.now(UTC), UtcDateTime()),
    "mindatetime": lambda: sql_literal(MIN_DATETIME, UtcDateTime()),
    "maxdatetime": lambda: sql_literal(MAX_DATETIME, UtcDateTime()),
    "round": _rounding("round", func.round),
    "floor": _rounding("floor", _sqlite_floor),
    "ceiling": _rounding("ceiling", func.ceil),
    "geo.distance": lambda a, b: func.ST_DistanceSphere(a, b, type_=Float()),
    "geo.length": _geo_length,
    "geo.intersects": _geo_predicate("ST_Intersects"),
    "st_equals": _geo_predicate("ST_Equals"),
    "st_disjoint": _geo_predicate("ST_Disjoint"),
    "st_touches": _geo_predicate("ST_Touches"),
    "st_within": _geo_predicate("ST_Within"),
    "st_overlaps": _geo_predicate("ST_Overlaps"),
    "st_crosses": _geo_predicate("ST_Crosses"),
    "st_intersects": _geo_predicate("ST_Intersects"),
    "st_contains": _geo_predicate("ST_Contains"),
    "st_relate": _geo_predicate("ST_Relate"),
}
