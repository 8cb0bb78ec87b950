"""The $filter grammar: literals, paths, functions, precedence, and errors with positions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from shapely.geometry import Point, Polygon

from stadtkern.sensorthings.query import (
    Binary,
    Call,
    Expression,
    Kind,
    Literal,
    Negate,
    Not,
    Operator,
    Path,
    QueryError,
    TimeInterval,
    parse_filter,
)

a, b, c = Path(("a",)), Path(("b",)), Path(("c",))


def lit(value: object, kind: Kind) -> Literal:
    assert value is None or isinstance(value, int | str)
    return Literal(value, kind)


def op(operator: str, left: Expression, right: Expression) -> Binary:
    return Binary(Operator(operator), left, right)


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("'Kaiserslautern'", "Kaiserslautern", Kind.STRING),
        ("'O''Brien'", "O'Brien", Kind.STRING),
        ("''", "", Kind.STRING),
        ("42", 42, Kind.INTEGER),
        ("-7", -7, Kind.INTEGER),
        ("3.25", 3.25, Kind.NUMBER),
        ("-0.5e2", -50.0, Kind.NUMBER),
        ("true", True, Kind.BOOLEAN),
        ("false", False, Kind.BOOLEAN),
        ("null", None, Kind.NULL),
        ("2026-11-26T10:00:00Z", datetime(2026, 11, 26, 10, tzinfo=UTC), Kind.DATETIME),
        (
            "2026-11-26T10:00:00.123+01:00",
            datetime(2026, 11, 26, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=1))),
            Kind.DATETIME,
        ),
        ("2026-11-26T10:00Z", datetime(2026, 11, 26, 10, tzinfo=UTC), Kind.DATETIME),
        ("2026-11-26", date(2026, 11, 26), Kind.DATE),
        ("10:15:30.5", time(10, 15, 30, 500000), Kind.TIME),
        ("10:15", time(10, 15), Kind.TIME),
        (
            "2026-11-26T10:00:00Z/2026-11-26T11:00:00Z",
            TimeInterval(
                datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 11, tzinfo=UTC)
            ),
            Kind.INTERVAL,
        ),
        ("duration'P1DT2H30M'", timedelta(days=1, hours=2, minutes=30), Kind.DURATION),
        ("duration'-PT0.5S'", -timedelta(seconds=0.5), Kind.DURATION),
        ("geography'POINT(7.77 49.44)'", Point(7.77, 49.44), Kind.GEOMETRY),
        ("geometry'SRID=4326;POINT(7.77 49.44)'", Point(7.77, 49.44), Kind.GEOMETRY),
        (
            "geography'POLYGON((0 0, 1 0, 1 1, 0 0))'",
            Polygon([(0, 0), (1, 0), (1, 1)]),
            Kind.GEOMETRY,
        ),
    ],
)
def test_literals(text: str, value: object, kind: Kind) -> None:
    parsed = parse_filter(text)
    assert isinstance(parsed, Literal)
    assert parsed.kind is kind
    assert parsed.value == value


def test_paths_and_calls() -> None:
    assert parse_filter("Datastream/Thing/name") == Path(("Datastream", "Thing", "name"))
    assert parse_filter("properties/owner") == Path(("properties", "owner"))
    assert parse_filter("@iot.id") == Path(("@iot.id",))
    assert parse_filter("substring(name, 1, 2)") == Call(
        "substring", (Path(("name",)), lit(1, Kind.INTEGER), lit(2, Kind.INTEGER))
    )
    assert parse_filter("now()") == Call("now", ())
    assert parse_filter("geo.distance(location, location)") == Call(
        "geo.distance", (Path(("location",)), Path(("location",)))
    )


@pytest.mark.parametrize("operator", [str(o) for o in Operator])
def test_every_binary_operator(operator: str) -> None:
    assert parse_filter(f"a {operator} b") == op(operator, a, b)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a or b and c", op("or", a, op("and", b, c))),
        ("a and b or c", op("or", op("and", a, b), c)),
        ("a eq b and c", op("and", op("eq", a, b), c)),
        ("a eq b gt c", op("eq", a, op("gt", b, c))),
        ("a add b mul c", op("add", a, op("mul", b, c))),
        ("a sub b sub c", op("sub", op("sub", a, b), c)),
        ("a div b mod c", op("mod", op("div", a, b), c)),
        ("(a add b) mul c", op("mul", op("add", a, b), c)),
        ("a add b lt c", op("lt", op("add", a, b), c)),
        ("not a eq b", op("eq", Not(a), b)),
        ("not (a eq b)", Not(op("eq", a, b))),
        ("not not a", Not(Not(a))),
        ("-a mul b", op("mul", Negate(a), b)),
        ("a sub -1", op("sub", a, lit(-1, Kind.INTEGER))),
        ("((a))", a),
    ],
)
def test_precedence(text: str, tree: Expression) -> None:
    assert parse_filter(text) == tree


def test_positions_are_kept() -> None:
    tree = parse_filter("name eq 'x' and length(name) gt 2")
    assert isinstance(tree, Binary)
    assert tree.position == 12
    assert isinstance(tree.right, Binary)
    assert isinstance(tree.right.left, Call)
    assert tree.right.left.position == 16


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected an expression but found end of input"),
        ("name eq", 7, "expected an operand but found end of input"),
        ("name eq 'x", 8, "unterminated string literal"),
        ("name eq 'x' foo", 12, "expected an operator or end of input but found 'foo'"),
        ("(name eq 'x'", 12, "expected ')' or an operator but found end of input"),
        ("name eq 'x')", 11, "expected an operator or end of input but found ')'"),
        ("foo(name)", 0, "unknown function 'foo'"),
        ("length(name", 11, "expected ',' or ')' but found end of input"),
        ("name eq eq", 8, "expected an operand but found 'eq'"),
        ("Thing/", 6, "expected a property name after '/' but found end of input"),
        ("name eq 2026-11-26T10:00:00", 8, "needs a time zone"),
        ("name eq 2026-13-01T10:00:00Z", 8, "invalid date-time"),
        ("name eq 2026-02-30", 8, "invalid date"),
        ("name eq 25:00", 8, "invalid time of day"),
        ("x eq 2026-01-02T00:00:00Z/2026-01-01T00:00:00Z", 5, "ends before it starts"),
        ("name eq geography'POINT(1)'", 18, "invalid WKT"),
        ("name eq geography'POINT EMPTY'", 18, "empty geometries"),
        ("name eq geography'SRID=3857;POINT(1 2)'", 18, "only SRID 4326"),
        ("name eq duration'P'", 17, "malformed duration"),
        ("name eq 99999999999999999999", 8, "out of range"),
        ("name eq 12abc", 8, "unexpected '12a'"),
        ("name eq #", 8, "unexpected character '#'"),
        ("name eq -", 9, "expected an operand but found end of input"),
        ("a and", 5, "expected an operand"),
    ],
)
def test_errors_name_position_and_expectation(text: str, position: int, message: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse_filter(text)
    assert raised.value.position == position
    assert message in str(raised.value)
    assert str(raised.value).endswith(f"at position {position}")
    assert isinstance(raised.value, ValueError)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(QueryError, match="nested too deeply"):
        parse_filter("(" * 500 + "a" + ")" * 500)
