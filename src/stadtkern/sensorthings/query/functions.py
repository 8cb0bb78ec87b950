"""Signatures of the filter functions: how many arguments of which kinds, and the result."""

from __future__ import annotations

from dataclasses import dataclass

from stadtkern.sensorthings.query.kinds import NUMERIC, Kind

_S = frozenset({Kind.STRING})
_I = frozenset({Kind.INTEGER})
_N = NUMERIC
_T = frozenset({Kind.DATETIME})
_G = frozenset({Kind.GEOMETRY})


@dataclass(frozen=True)
class Signature:
    """Accepted kinds per parameter; a result of None means "the kind of the first argument"."""

    parameters: tuple[frozenset[Kind], ...]
    result: Kind | None


def _one(*parameters: frozenset[Kind], result: Kind | None) -> tuple[Signature, ...]:
    return (Signature(parameters, result),)


_GEO_PREDICATES = (
    "geo.intersects",
    "st_equals",
    "st_disjoint",
    "st_touches",
    "st_within",
    "st_overlaps",
    "st_crosses",
    "st_intersects",
    "st_contains",
)

SIGNATURES: dict[str, tuple[Signature, ...]] = {
    "substringof": _one(_S, _S, result=Kind.BOOLEAN),
    "endswith": _one(_S, _S, result=Kind.BOOLEAN),
    "startswith": _one(_S, _S, result=Kind.BOOLEAN),
    "length": _one(_S, result=Kind.INTEGER),
    "indexof": _one(_S, _S, result=Kind.INTEGER),
    "substring": (Signature((_S, _I), Kind.STRING), Signature((_S, _I, _I), Kind.STRING)),
    "tolower": _one(_S, result=Kind.STRING),
    "toupper": _one(_S, result=Kind.STRING),
    "trim": _one(_S, result=Kind.STRING),
    "concat": _one(_S, _S, result=Kind.STRING),
    "year": _one(_T, result=Kind.INTEGER),
    "month": _one(_T, result=Kind.INTEGER),
    "day": _one(_T, result=Kind.INTEGER),
    "hour": _one(_T, result=Kind.INTEGER),
    "minute": _one(_T, result=Kind.INTEGER),
    "second": _one(_T, result=Kind.INTEGER),
    "fractionalseconds": _one(_T, result=Kind.NUMBER),
    "date": _one(_T, result=Kind.DATE),
    "time": _one(_T, result=Kind.TIME),
    "totaloffsetminutes": _one(_T, result=Kind.INTEGER),
    "now": _one(result=Kind.DATETIME),
    "mindatetime": _one(result=Kind.DATETIME),
    "maxdatetime": _one(result=Kind.DATETIME),
    "round": _one(_N, result=None),
    "floor": _one(_N, result=None),
    "ceiling": _one(_N, result=None),
    "geo.distance": _one(_G, _G, result=Kind.NUMBER),
    "geo.length": _one(_G, result=Kind.NUMBER),
    **{name: _one(_G, _G, result=Kind.BOOLEAN) for name in _GEO_PREDICATES},
    "st_relate": _one(_G, _G, _S, result=Kind.BOOLEAN),
}


def describe(kinds: frozenset[Kind]) -> str:
    """Human wording of a set of kinds, e.g. 'integer or number'."""
    return " or ".join(sorted(str(kind) for kind in kinds))
