"""The $filter syntax tree: frozen nodes, each remembering where it started in the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeAlias

from shapely.geometry.base import BaseGeometry

from stadtkern.sensorthings.query.kinds import Kind


@dataclass(frozen=True)
class TimeInterval:
    """An ISO 8601 interval `start/end` of two aware datetimes, start <= end."""

    start: datetime
    end: datetime


LiteralValue: TypeAlias = (
    str | int | float | bool | datetime | date | time | timedelta | BaseGeometry | TimeInterval
) | None


class Operator(StrEnum):
    """Binary operators of the filter language."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    AND = "and"
    OR = "or"
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    MOD = "mod"


COMPARISONS = frozenset(
    {Operator.EQ, Operator.NE, Operator.GT, Operator.GE, Operator.LT, Operator.LE}
)
LOGICAL = frozenset({Operator.AND, Operator.OR})
ARITHMETIC = frozenset({Operator.ADD, Operator.SUB, Operator.MUL, Operator.DIV, Operator.MOD})


@dataclass(frozen=True)
class Literal:
    """A constant; `kind` says which of the literal forms it was written in."""

    value: LiteralValue
    kind: Kind
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Path:
    """A property, possibly through navigation properties or into a JSON object."""

    segments: tuple[str, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call such as `substringof('Lauter', name)`."""

    name: str
    arguments: tuple[Expression, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    """Logical negation."""

    operand: Expression
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Negate:
    """Arithmetic negation, `-x` in front of something other than a number."""

    operand: Expression
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """A binary operation: comparison, logical or arithmetic."""

    operator: Operator
    left: Expression
    right: Expression
    position: int = field(default=0, compare=False)


Expression: TypeAlias = Literal | Path | Call | Not | Negate | Binary
