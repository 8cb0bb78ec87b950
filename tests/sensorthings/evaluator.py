"""A plain Python evaluation of $filter trees over the sample rows: the reference semantics.

It follows OData 4.01 literally (null eq null is true, ordering with null is false,
three-valued and/or/not, functions of null are null), without the compiler's shortcuts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stadtkern.sensorthings.query import Binary, Call, Expression, Kind, Literal, Negate, Not, Path
from stadtkern.sensorthings.query.expressions import COMPARISONS, Operator, TimeInterval
from stadtkern.sensorthings.query.functions import SIGNATURES
from tests.sensorthings.sample_data import OBSERVATIONS, STATIONS

MISSING = object()
Row = dict[str, Any]

# property name -> (row key, kind); navigation name -> (entity, to-many)
SCHEMA: dict[str, tuple[dict[str, tuple[str, Kind]], dict[str, tuple[str, bool]]]] = {
    "Station": (
        {
            "id": ("id", Kind.INTEGER),
            "name": ("name", Kind.STRING),
            "description": ("description", Kind.STRING),
            "properties": ("properties", Kind.JSON),
            "location": ("location", Kind.GEOMETRY),
            "installedAt": ("installed_at", Kind.DATETIME),
        },
        {"Observations": ("Observation", True)},
    ),
    "Observation": (
        {
            "id": ("id", Kind.INTEGER),
            "value": ("value", Kind.NUMBER),
            "result": ("result", Kind.JSON),
            "phenomenonTime": ("phenomenon_start", Kind.INTERVAL),
            "resultTime": ("result_time", Kind.DATETIME),
            "count": ("count", Kind.INTEGER),
            "quality": ("quality", Kind.STRING),
            "valid": ("valid", Kind.BOOLEAN),
            "parameters": ("parameters", Kind.JSON),
        },
        {"Station": ("Station", False)},
    ),
}


def related(row: Row | None, navigation: str) -> list[Row]:
    """The rows a navigation reaches from a row."""
    if row is None:
        return []
    if navigation == "Station":
        return [s for s in STATIONS if s["id"] == row["station_id"]]
    return [o for o in OBSERVATIONS if o["station_id"] == row["id"]]


@dataclass(frozen=True)
class Json:
    """A JSON value whose kind the context decides."""

    raw: Any


def json_as(value: Json, kind: Kind) -> Any:
    """The JSON value if of `kind`, else None."""
    raw = value.raw
    if kind is Kind.STRING:
        return raw if isinstance(raw, str) else None
    if kind is Kind.BOOLEAN:
        return raw if isinstance(raw, bool) else None
    ok = isinstance(raw, int | float) and not isinstance(raw, bool)
    return float(raw) if ok else None


class Evaluator:
    """Evaluates an expression for one root row; bound maps to-many prefixes to a row."""

    def __init__(self, entity: str, row: Row, bound: dict[tuple[str, ...], Row] | None = None):
        self.entity, self.row, self.bound = entity, row, bound or {}

    def kind(self, node: Expression) -> Kind:
        """The static kind of an expression (assumes it type-checks)."""
        if isinstance(node, Literal):
            return node.kind
        if isinstance(node, Path):
            return self._walk(node)[2]
        if isinstance(node, Not):
            return Kind.BOOLEAN
        if isinstance(node, Negate):
            return Kind.INTEGER if self.kind(node.operand) is Kind.INTEGER else Kind.NUMBER
        if isinstance(node, Call):
            signature = next(
                s for s in SIGNATURES[node.name] if len(s.parameters) == len(node.arguments)
            )
            if signature.result is not None:
                return signature.result
            first = self.kind(node.arguments[0])
            return Kind.INTEGER if first is Kind.INTEGER else Kind.NUMBER
        if node.operator in COMPARISONS or node.operator in (Operator.AND, Operator.OR):
            return Kind.BOOLEAN
        kinds = {self.kind(node.left), self.kind(node.right)}
        return Kind.INTEGER if kinds <= {Kind.INTEGER, Kind.NULL} else Kind.NUMBER

    def _walk(self, path: Path) -> tuple[Row | None, str, Kind, tuple[str, ...], str]:
        entity, start = self.entity, 0
        row: Row | None = self.row
        for prefix, bound_row in self.bound.items():
            if path.segments[: len(prefix)] == prefix and len(prefix) > start:
                start, row = len(prefix), bound_row
                entity = "Observation" if prefix[-1] == "Observations" else "Station"
        for index in range(start, len(path.segments)):
            properties, navigations = SCHEMA[entity]
            segment = path.segments[index]
            if segment in properties:
                key, kind = properties[segment]
                return row, key, kind, path.segments[index + 1 :], entity
            entity, _ = navigations[segment]
            rows = related(row, segment)
            row = rows[0] if rows else None
        raise AssertionError(path)

    def to_many(self, node: Expression) -> tuple[str, ...] | None:
        """The first unbound to-many prefix in an expression's paths."""
        for path in _paths(node):
            entity, start = self.entity, 0
            for prefix in self.bound:
                if path.segments[: len(prefix)] == prefix and len(prefix) > start:
                    start = len(prefix)
                    entity = "Observation" if prefix[-1] == "Observations" else "Station"
            for index in range(start, len(path.segments)):
                navigation = SCHEMA[entity][1].get(path.segments[index])
                if navigation is None:
                    break
                if navigation[1]:
                    return path.segments[: index + 1]
                entity = navigation[0]
        return None

    def row_at(self, prefix: tuple[str, ...]) -> Row | None:
        """The row a prefix of to-one (or bound) navigations reaches."""
        start = 0
        row: Row | None = self.row
        for bound_prefix, bound_row in self.bound.items():
            if prefix[: len(bound_prefix)] == bound_prefix and len(bound_prefix) > start:
                start, row = len(bound_prefix), bound_row
        for segment in prefix[start:]:
            rows = related(row, segment)
            row = rows[0] if rows else None
        return row

    def path_value(self, path: Path) -> Any:
        """The value a path denotes for this row."""
        row, key, kind, keys, _ = self._walk(path)
        if kind is Kind.JSON:
            raw = MISSING if row is None else row[key]
            for part in keys:
                raw = raw.get(part, MISSING) if isinstance(raw, dict) else MISSING
            return Json(None if raw is MISSING else raw)
        if row is None:
            return None
        if kind is Kind.INTERVAL:
            start, end = row["phenomenon_start"], row["phenomenon_end"]
            return TimeInterval(start, end)
        return row[key]


def _paths(node: Expression) -> list[Path]:
    if isinstance(node, Path):
        return [node]
    if isinstance(node, Call):
        return [p for argument in node.arguments for p in _paths(argument)]
    if isinstance(node, Not | Negate):
        return _paths(node.operand)
    if isinstance(node, Binary):
        return _paths(node.left) + _paths(node.right)
    return []
