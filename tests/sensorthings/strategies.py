"""Hypothesis strategies: $filter trees over an entity's paths (by default the observation
table of conftest.py), well typed or not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import partial

from hypothesis import strategies as st

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
    TimeInterval,
)
from stadtkern.sensorthings.query.expressions import ARITHMETIC, COMPARISONS

PATHS: dict[Kind, list[tuple[str, ...]]] = {
    Kind.STRING: [("quality",), ("Station", "name"), ("Station", "description")],
    Kind.INTEGER: [("count",), ("id",), ("Station", "id")],
    Kind.NUMBER: [("value",)],
    Kind.BOOLEAN: [("valid",)],
    Kind.DATETIME: [("resultTime",), ("Station", "installedAt")],
    Kind.INTERVAL: [("phenomenonTime",)],
    Kind.JSON: [
        ("result",),
        ("result", "level"),
        ("result", "unit"),
        ("parameters", "depth"),
        ("parameters", "method"),
        ("Station", "properties", "owner"),
        ("Station", "properties", "height"),
        ("Station", "properties", "public"),
    ],
}
_BASE = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])
_TEXT = st.text(alphabet="abcdgoGOBäÄß' -", max_size=6)
_DATETIMES = st.builds(
    lambda minutes, micro, zone: (
        _BASE + timedelta(minutes=minutes, microseconds=micro)
    ).astimezone(zone),
    st.integers(-600, 1600),
    st.sampled_from([0, 1000, 2000, 999999]),
    _ZONES,
)


_WORDS = ("good", "Good", "radar", "cm", "SWK")


def _literals(words: Sequence[str], ids: Sequence[int]) -> dict[Kind, st.SearchStrategy[object]]:
    integers = st.integers(-8, 40)
    return {
        Kind.STRING: st.one_of(_TEXT, st.sampled_from(words)),
        Kind.INTEGER: st.one_of(integers, st.sampled_from(ids)) if ids else integers,
        Kind.NUMBER: st.integers(-800, 2000).map(lambda n: n / 4),
        Kind.BOOLEAN: st.booleans(),
        Kind.DATETIME: _DATETIMES,
        Kind.INTERVAL: st.builds(
            lambda start, hours: TimeInterval(start, start + timedelta(hours=hours)),
            _DATETIMES,
            st.integers(0, 3),
        ),
        Kind.DATE: st.dates(date(2026, 11, 25), date(2026, 11, 28)),
        Kind.TIME: st.times(time(5), time(18)).map(lambda t: t.replace(microsecond=0)),
    }


_ORDERED_KINDS = [Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.DATETIME, Kind.DATE, Kind.TIME]
_STRING_PREDICATES = ["substringof", "startswith", "endswith"]
_DATE_PARTS = ["year", "month", "day", "hour", "minute", "second", "totaloffsetminutes"]
_JSON_READABLE = frozenset({Kind.STRING, Kind.NUMBER, Kind.BOOLEAN})
_ALL_KINDS = [*_ORDERED_KINDS, Kind.BOOLEAN, Kind.INTERVAL, Kind.JSON]
_FUNCTION_NAMES = sorted(
    {"substringof", "length", "substring", "year", "round", "date", "concat", "indexof", "time"}
)


class FilterGrammar:
    """Generated $filter trees over one entity: its property paths by kind, and literals.

    String literals come from `words` (values that occur in the data) besides random text;
    integer literals from -8..40 and from `ids` (real ids, so that `id` comparisons split).
    """

    def __init__(
        self,
        paths: Mapping[Kind, Sequence[tuple[str, ...]]],
        *,
        words: Sequence[str] = _WORDS,
        ids: Sequence[int] = (),
    ) -> None:
        self.paths = paths
        self.literals = _literals(words, ids)
        self._typed: dict[tuple[Kind, int], st.SearchStrategy[Expression]] = {}

    def _literal(self, kind: Kind) -> st.SearchStrategy[Expression]:
        return self.literals[kind].map(lambda value: Literal(value, kind))

    def _leaves(self, kind: Kind) -> st.SearchStrategy[Expression]:
        options = [self._literal(kind)] if kind is not Kind.JSON else []
        paths = list(self.paths.get(kind, []))
        if kind in _JSON_READABLE:
            paths += self.paths.get(Kind.JSON, [])
        if paths:
            options.append(st.sampled_from(paths).map(Path))
        options.append(st.just(Literal(None, Kind.NULL)))
        weights = st.one_of(*options[:-1]) if len(options) > 1 else options[0]
        return st.one_of(weights, weights, weights, options[-1])

    def typed(self, kind: Kind, depth: int) -> st.SearchStrategy[Expression]:
        """Expressions of `kind` (nulls and JSON values included) nested up to `depth`."""
        key = (kind, depth)
        if key not in self._typed:
            self._typed[key] = self._build(kind, depth)
        return self._typed[key]

    def _build(self, kind: Kind, depth: int) -> st.SearchStrategy[Expression]:
        if depth == 0 or kind in (Kind.INTERVAL, Kind.JSON):
            return self._leaves(kind)
        sub = partial(self.typed, depth=depth - 1)
        string, integer, number, moment = (
            sub(k) for k in (Kind.STRING, Kind.INTEGER, Kind.NUMBER, Kind.DATETIME)
        )
        numeric = st.one_of(integer, number)
        composite: list[st.SearchStrategy[Expression]] = []
        if kind is Kind.BOOLEAN:
            comparisons = [
                st.builds(Binary, st.sampled_from(sorted(COMPARISONS)), sub(k), sub(k))
                for k in [*_ORDERED_KINDS, Kind.BOOLEAN]
            ]
            comparisons.append(
                st.builds(
                    Binary,
                    st.sampled_from(sorted(COMPARISONS)),
                    sub(Kind.INTERVAL),
                    st.one_of(moment, sub(Kind.INTERVAL)),
                )
            )
            comparisons.append(
                st.builds(Binary, st.sampled_from(sorted(COMPARISONS)), integer, number)
            )
            composite += [
                st.one_of(*comparisons),
                st.builds(
                    Binary,
                    st.sampled_from([Operator.AND, Operator.OR]),
                    sub(Kind.BOOLEAN),
                    sub(Kind.BOOLEAN),
                ),
                st.builds(Not, sub(Kind.BOOLEAN)),
                st.builds(
                    lambda n, a, b: Call(n, (a, b)),
                    st.sampled_from(_STRING_PREDICATES),
                    string,
                    string,
                ),
            ]
        elif kind is Kind.STRING:
            composite += [
                st.builds(
                    lambda n, a: Call(n, (a,)),
                    st.sampled_from(["tolower", "toupper", "trim"]),
                    string,
                ),
                st.builds(lambda a, b: Call("concat", (a, b)), string, string),
                st.builds(lambda a, b: Call("substring", (a, b)), string, integer),
                st.builds(lambda a, b, c: Call("substring", (a, b, c)), string, integer, integer),
            ]
        elif kind is Kind.INTEGER:
            composite += [
                st.builds(lambda a: Call("length", (a,)), string),
                st.builds(lambda a, b: Call("indexof", (a, b)), string, string),
                st.builds(lambda n, a: Call(n, (a,)), st.sampled_from(_DATE_PARTS), moment),
                st.builds(Binary, st.sampled_from(sorted(ARITHMETIC)), integer, integer),
                st.builds(Negate, integer),
            ]
        elif kind is Kind.NUMBER:
            composite += [
                st.builds(
                    lambda n, a: Call(n, (a,)),
                    st.sampled_from(["round", "floor", "ceiling"]),
                    numeric,
                ),
                st.builds(lambda a: Call("fractionalseconds", (a,)), moment),
                st.builds(
                    Binary, st.sampled_from(sorted(ARITHMETIC - {Operator.MOD})), numeric, number
                ),
            ]
        elif kind is Kind.DATETIME:
            composite.append(st.sampled_from([Call("mindatetime", ()), Call("maxdatetime", ())]))
        elif kind is Kind.DATE:
            composite.append(st.builds(lambda a: Call("date", (a,)), moment))
        elif kind is Kind.TIME:
            composite.append(st.builds(lambda a: Call("time", (a,)), moment))
        return st.one_of(self._leaves(kind), *composite)

    def _ill_typed(self) -> st.SearchStrategy[Expression]:
        any_leaf = st.sampled_from(_ALL_KINDS).flatmap(lambda kind: self.typed(kind, 1))
        return st.one_of(
            st.builds(Binary, st.sampled_from(list(Operator)), any_leaf, any_leaf),
            st.builds(
                lambda name, arguments: Call(name, tuple(arguments)),
                st.sampled_from(_FUNCTION_NAMES),
                st.lists(any_leaf, max_size=3),
            ),
            st.builds(Not, any_leaf),
            st.builds(Negate, any_leaf),
        )

    def filters(self) -> st.SearchStrategy[Expression]:
        """Mostly well-typed boolean filters, sometimes ill-typed ones."""
        ill = self._ill_typed()
        return st.one_of(
            self.typed(Kind.BOOLEAN, 3),
            self.typed(Kind.BOOLEAN, 3),
            ill,
            st.builds(
                Binary,
                st.sampled_from([Operator.AND, Operator.OR]),
                self.typed(Kind.BOOLEAN, 2),
                ill,
            ),
        )


OBSERVATION_GRAMMAR = FilterGrammar(PATHS)


def typed(kind: Kind, depth: int) -> st.SearchStrategy[Expression]:
    """Expressions of `kind` over the test table's observations, nested up to `depth`."""
    return OBSERVATION_GRAMMAR.typed(kind, depth)


def filters() -> st.SearchStrategy[Expression]:
    """Mostly well-typed boolean filters, sometimes ill-typed ones, on observations."""
    return OBSERVATION_GRAMMAR.filters()
