"""Operators and functions of the Python reference evaluation (see evaluator.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import shapely

from stadtkern.db.sqlite_functions import distance_sphere, length_sphere
from stadtkern.sensorthings.query import Binary, Call, Expression, Kind, Literal, Negate, Not, Path
from stadtkern.sensorthings.query.calls import MAX_DATETIME, MIN_DATETIME
from stadtkern.sensorthings.query.expressions import COMPARISONS, Operator, TimeInterval
from tests.sensorthings.evaluator import Evaluator, Json, json_as


def evaluate(ev: Evaluator, node: Expression) -> Any:
    """The OData value of `node` for the evaluator's row."""
    if _is_predicate(node) and (prefix := ev.to_many(node)) is not None:
        return any(
            truth(evaluate(ev.with_bound(prefix, row), node)) for row in ev.related_rows(prefix)
        )
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return ev.path_value(node)
    if isinstance(node, Not):
        operand = _boolean(evaluate(ev, node.operand))
        return None if operand is None else not operand
    if isinstance(node, Negate):
        operand = _number(evaluate(ev, node.operand))
        return None if operand is None else -operand
    if isinstance(node, Call):
        return _call(ev, node)
    if node.operator in (Operator.AND, Operator.OR):
        left, right = _boolean(evaluate(ev, node.left)), _boolean(evaluate(ev, node.right))
        if node.operator is Operator.AND:
            if left is False or right is False:
                return False
            return None if left is None or right is None else True
        if left is True or right is True:
            return True
        return None if left is None or right is None else False
    if node.operator in COMPARISONS:
        return _compare(ev, node)
    return _arithmetic(
        node.operator, _number(evaluate(ev, node.left)), _number(evaluate(ev, node.right))
    )


def _is_predicate(node: Expression) -> bool:
    if isinstance(node, Binary):
        return node.operator in COMPARISONS
    if isinstance(node, Call):
        return node.name in _BOOLEAN_FUNCTIONS
    return isinstance(node, Path)


def truth(value: Any) -> bool:
    """Whether a filter value selects its row."""
    return _boolean(value) is True


def _boolean(value: Any) -> bool | None:
    result = json_as(value, Kind.BOOLEAN) if isinstance(value, Json) else value
    return None if result is None else bool(result)


def _number(value: Any) -> Any:
    return json_as(value, Kind.NUMBER) if isinstance(value, Json) else value


def _arithmetic(operator: Operator, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if operator is Operator.ADD:
        return a + b
    if operator is Operator.SUB:
        return a - b
    if operator is Operator.MUL:
        return a * b
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int):
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
        return quotient if operator is Operator.DIV else a - b * quotient
    return a / b


def _compare(ev: Evaluator, node: Binary) -> bool:
    left_kind, right_kind = ev.kind(node.left), ev.kind(node.right)
    a, b = evaluate(ev, node.left), evaluate(ev, node.right)
    operator = node.operator
    if Kind.NULL in (left_kind, right_kind):
        other = b if left_kind is Kind.NULL else a
        if isinstance(other, Json):
            other = other.raw
        if left_kind is Kind.NULL and right_kind is Kind.NULL:
            other = None
        if operator is Operator.EQ:
            return other is None
        return other is not None if operator is Operator.NE else False
    if isinstance(a, Json):
        a = json_as(a, Kind.NUMBER if right_kind in (Kind.INTEGER, Kind.NUMBER) else right_kind)
    if isinstance(b, Json):
        b = json_as(b, Kind.NUMBER if left_kind in (Kind.INTEGER, Kind.NUMBER) else left_kind)
    if Kind.INTERVAL in (left_kind, right_kind):
        return _intervals(operator, a, b)
    if operator is Operator.EQ:
        return bool(a == b)
    if operator is Operator.NE:
        return bool(a != b)
    if a is None or b is None:
        return False
    return bool(_ORDER[operator](a, b))


_ORDER: dict[Operator, Callable[[Any, Any], bool]] = {
    Operator.GT: lambda a, b: a > b,
    Operator.GE: lambda a, b: a >= b,
    Operator.LT: lambda a, b: a < b,
    Operator.LE: lambda a, b: a <= b,
}


def _bounds(value: Any) -> tuple[Any, Any]:
    if isinstance(value, TimeInterval):
        return value.start, value.end
    return value, value


def _intervals(operator: Operator, a: Any, b: Any) -> bool:
    (a_start, a_end), (b_start, b_end) = _bounds(a), _bounds(b)
    same = bool(a_start == b_start and a_end == b_end)
    if operator in (Operator.EQ, Operator.NE):
        return same if operator is Operator.EQ else not same
    if None in (a_start, a_end, b_start, b_end):
        return False
    if operator in (Operator.LT, Operator.LE):
        return _ORDER[operator](a_end, b_start)
    return _ORDER[operator](a_start, b_end)


def _simple_case(text: str, change: Callable[[str], str]) -> str:
    return "".join(mapped if len(mapped := change(c)) == 1 else c for c in text)


def _round(value: float) -> float:
    return math.copysign(math.floor(abs(value) + 0.5), value)


def _utc(value: datetime | TimeInterval) -> datetime:
    # A date function on an interval reads its start.
    start = value.start if isinstance(value, TimeInterval) else value
    return start.astimezone(UTC)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "substringof": lambda part, text: part in text,
    "startswith": lambda text, prefix: text.startswith(prefix),
    "endswith": lambda text, suffix: text.endswith(suffix),
    "length": len,
    "indexof": lambda text, part: text.find(part),
    "substring": lambda text, start, count=None: (
        text[max(start, 0) :] if count is None else text[max(start, 0) :][: max(count, 0)]
    ),
    "tolower": lambda text: _simple_case(text, str.lower),
    "toupper": lambda text: _simple_case(text, str.upper),
    "trim": lambda text: text.strip(" "),
    "concat": lambda a, b: a + b,
    "year": lambda t: _utc(t).year,
    "month": lambda t: _utc(t).month,
    "day": lambda t: _utc(t).day,
    "hour": lambda t: _utc(t).hour,
    "minute": lambda t: _utc(t).minute,
    "second": lambda t: _utc(t).second,
    "fractionalseconds": lambda t: _utc(t).microsecond / 1_000_000,
    "date": lambda t: _utc(t).date(),
    "time": lambda t: _utc(t).time().replace(tzinfo=None),
    "round": lambda x: x if isinstance(x, int) else float(_round(x)),
    "floor": lambda x: x if isinstance(x, int) else float(math.floor(x)),
    "ceiling": lambda x: x if isinstance(x, int) else float(math.ceil(x)),
    "geo.distance": distance_sphere,
    "geo.length": length_sphere,
    "geo.intersects": shapely.intersects,
    "st_equals": shapely.equals,
    "st_disjoint": shapely.disjoint,
    "st_touches": shapely.touches,
    "st_within": shapely.within,
    "st_overlaps": shapely.overlaps,
    "st_crosses": shapely.crosses,
    "st_intersects": shapely.intersects,
    "st_contains": shapely.contains,
    "st_relate": shapely.relate_pattern,
}
_BOOLEAN_FUNCTIONS = frozenset(
    {"substringof", "startswith", "endswith", "geo.intersects", "st_relate"}
    | {name for name in _FUNCTIONS if name.startswith("st_")}
)
_CONSTANTS = {"mindatetime": MIN_DATETIME, "maxdatetime": MAX_DATETIME}


def _call(ev: Evaluator, node: Call) -> Any:
    if node.name in _CONSTANTS:
        return _CONSTANTS[node.name]
    if node.name == "now":
        return datetime.now(UTC)
    arguments = []
    for argument in node.arguments:
        value = evaluate(ev, argument)
        if isinstance(value, Json):
            wanted = Kind.STRING if node.name in _STRING_FUNCTIONS else Kind.NUMBER
            value = json_as(value, wanted)
        arguments.append(value)
    if any(value is None for value in arguments):
        return None
    if node.name == "totaloffsetminutes":
        argument = node.arguments[0]
        if isinstance(argument, Literal):
            offset = arguments[0].utcoffset()
            return int(offset.total_seconds() // 60)
        return 0
    result = _FUNCTIONS[node.name](*arguments)
    return bool(result) if node.name in _BOOLEAN_FUNCTIONS else result


_STRING_FUNCTIONS = frozenset(
    {"substringof", "startswith", "endswith", "length", "indexof", "substring"}
    | {"tolower", "toupper", "trim", "concat"}
)
