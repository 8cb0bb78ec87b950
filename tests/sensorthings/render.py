"""Writing a $filter tree back as text, fully parenthesised (for round trips)."""

from __future__ import annotations

from datetime import date, datetime, time

from shapely.geometry.base import BaseGeometry

from stadtkern.sensorthings.query import (
    Binary,
    Call,
    Expression,
    Literal,
    Negate,
    Not,
    Path,
    TimeInterval,
)


def _value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, TimeInterval):
        return f"{value.start.isoformat()}/{value.end.isoformat()}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.%f")
    if isinstance(value, BaseGeometry):
        return f"geography'{value.wkt}'"
    return repr(value)


def render(node: Expression) -> str:
    """The filter text of a tree; parsing it gives the same tree."""
    if isinstance(node, Literal):
        return _value(node.value)
    if isinstance(node, Path):
        return "/".join(node.segments)
    if isinstance(node, Call):
        return f"{node.name}({', '.join(render(argument) for argument in node.arguments)})"
    if isinstance(node, Not):
        return f"not ({render(node.operand)})"
    if isinstance(node, Negate):
        return f"-({render(node.operand)})"
    assert isinstance(node, Binary)
    return f"({render(node.left)} {node.operator} {render(node.right)})"
