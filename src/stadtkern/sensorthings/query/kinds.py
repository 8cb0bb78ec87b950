"""The value kinds of the filter language, shared by literals, properties and functions."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What an expression evaluates to; the compiler checks operators and functions by it."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    TIME = "time"
    DURATION = "duration"
    GEOMETRY = "geometry"
    JSON = "json"
    INTERVAL = "interval"
    NULL = "null"


NUMERIC = frozenset({Kind.INTEGER, Kind.NUMBER})
# Kinds with an order, so gt/ge/lt/le and $orderby apply to them.
ORDERED = frozenset(
    {Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.DATETIME, Kind.DATE, Kind.TIME, Kind.INTERVAL}
)
# Kinds a JSON value can take when a comparison or function asks for one.
JSON_SCALARS = frozenset({Kind.STRING, Kind.NUMBER, Kind.BOOLEAN})
# Kinds an entity property may be declared with.
PROPERTY_KINDS = frozenset(
    {
        Kind.STRING,
        Kind.INTEGER,
        Kind.NUMBER,
        Kind.BOOLEAN,
        Kind.DATETIME,
        Kind.GEOMETRY,
        Kind.JSON,
        Kind.INTERVAL,
    }
)


def comparable(left: Kind, right: Kind) -> bool:
    """Whether two kinds may meet in eq/ne (and, if ordered, gt/ge/lt/le)."""
    if left == right or Kind.NULL in (left, right):
        return True
    if left in NUMERIC and right in NUMERIC:
        return True
    return {left, right} == {Kind.DATETIME, Kind.INTERVAL}
