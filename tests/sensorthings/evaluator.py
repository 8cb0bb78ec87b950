"""A plain Python evaluation of $filter trees over rows in a World: the reference semantics.

It follows OData 4.01 literally (null eq null is true, ordering with null is false,
three-valued and/or/not, functions of null are null), without the compiler's shortcuts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stadtkern.sensorthings.query import Binary, Call, Expression, Kind, Literal, Negate, Not, Path
from stadtkern.sensorthings.query.expressions import COMPARISONS, Operator, TimeInterval
from stadtkern.sensorthings.query.functions import SIGNATURES
from tests.sensorthings.sample_data import OBSERVATIONS, STATIONS

MISSING = object()
Row = dict[str, Any]


@dataclass(frozen=True)
class Hop:
    """A navigation: the related entity, whether to-many, and the keys that link the rows."""

    target: str
    to_many: bool
    near: str  # key of the row navigated from
    far: str  # key of the related rows that equals it


@dataclass(frozen=True)
class World:
    """The entities the reference evaluates over: properties, navigations and rows.

    A property maps to (row key, kind); an interval's row key `k` names `k_start`/`k_end`.
    """

    properties: Mapping[str, Mapping[str, tuple[str, Kind]]]
    navigations: Mapping[str, Mapping[str, Hop]]
    rows: Mapping[str, Sequence[Row]]

    def related(self, entity: str, row: Row | None, navigation: str) -> list[Row]:
        """The rows a navigation reaches from a row of `entity`."""
        if row is None:
            return []
        hop = self.navigations[entity][navigation]
        if row[hop.near] is None:
            return []
        return [other for other in self.rows[hop.target] if other[hop.far] == row[hop.near]]

    def entity_at(self, entity: str, prefix: Sequence[str]) -> str:
        """The entity a prefix of navigations reaches from `entity`."""
        for segment in prefix:
            entity = self.navigations[entity][segment].target
        return entity


SAMPLE = World(
    properties={
        "Station": {
            "id": ("id", Kind.INTEGER),
            "name": ("name", Kind.STRING),
            "description": ("description", Kind.STRING),
            "properties": ("properties", Kind.JSON),
            "location": ("location", Kind.GEOMETRY),
            "installedAt": ("installed_at", Kind.DATETIME),
        },
        "Observation": {
            "id": ("id", Kind.INTEGER),
            "value": ("value", Kind.NUMBER),
            "result": ("result", Kind.JSON),
            "phenomenonTime": ("phenomenon", Kind.INTERVAL),
            "resultTime": ("result_time", Kind.DATETIME),
            "count": ("count", Kind.INTEGER),
            "quality": ("quality", Kind.STRING),
            "valid": ("valid", Kind.BOOLEAN),
            "parameters": ("parameters", Kind.JSON),
        },
    },
    navigations={
        "Station": {"Observations": Hop("Observation", True, "id", "station_id")},
        "Observation": {"Station": Hop("Station", False, "station_id", "id")},
    },
    rows={"Station": STATIONS, "Observation": OBSERVATIONS},
)


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

    def __init__(
        self,
        entity: str,
        row: Row,
        bound: dict[tuple[str, ...], Row] | None = None,
        world: World = SAMPLE,
    ):
        self.entity, self.row, self.bound, self.world = entity, row, bound or {}, world

    def with_bound(self, prefix: tuple[str, ...], row: Row) -> Evaluator:
        """This evaluator with a to-many prefix standing for one related row."""
        return Evaluator(self.entity, self.row, {**self.bound, prefix: row}, self.world)

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

    def _start(self, segments: tuple[str, ...]) -> tuple[str, Row | None, int]:
        """Entity, row and length of the longest bound prefix of `segments`."""
        entity, row, start = self.entity, self.row, 0
        for prefix, bound_row in self.bound.items():
            if segments[: len(prefix)] == prefix and len(prefix) > start:
                start, row = len(prefix), bound_row
                entity = self.world.entity_at(self.entity, prefix)
        return entity, row, start

    def _walk(self, path: Path) -> tuple[Row | None, str, Kind, tuple[str, ...], str]:
        entity, row, start = self._start(path.segments)
        for index in range(start, len(path.segments)):
            segment = path.segments[index]
            properties = self.world.properties[entity]
            if segment in properties:
                key, kind = properties[segment]
                return row, key, kind, path.segments[index + 1 :], entity
            rows = self.world.related(entity, row, segment)
            entity = self.world.navigations[entity][segment].target
            row = rows[0] if rows else None
        raise AssertionError(path)

    def to_many(self, node: Expression) -> tuple[str, ...] | None:
        """The first unbound to-many prefix in an expression's paths."""
        for path in _paths(node):
            entity, _, start = self._start(path.segments)
            for index in range(start, len(path.segments)):
                navigation = self.world.navigations[entity].get(path.segments[index])
                if navigation is None:
                    break
                if navigation.to_many:
                    return path.segments[: index + 1]
                entity = navigation.target
        return None

    def related_rows(self, prefix: tuple[str, ...]) -> list[Row]:
        """The rows at the end of a prefix whose last hop is to-many (the others to-one)."""
        entity, row, start = self._start(prefix[:-1])
        for segment in prefix[start:-1]:
            rows = self.world.related(entity, row, segment)
            entity = self.world.navigations[entity][segment].target
            row = rows[0] if rows else None
        return self.world.related(entity, row, prefix[-1])

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
            start, end = row[f"{key}_start"], row[f"{key}_end"]
            # A null interval is null, not an interval of nulls; an instant may omit its end.
            return None if start is None else TimeInterval(start, start if end is None else end)
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
