"""Compiling $orderby keys into ORDER BY clauses.

As OData 4.01 says, null sorts before every value ascending and after every value
descending, on both backends. Strings sort by code point; intervals by start, then end;
JSON values first as numbers, then as strings (values of other JSON types sort as null).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.query.compiler import FilterCompiler
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.kinds import ORDERED, Kind
from stadtkern.sensorthings.query.operands import json_as
from stadtkern.sensorthings.query.options import OrderKey
from stadtkern.sensorthings.query.per_dialect import PerDialect
from stadtkern.sensorthings.query.properties import PropertyMap
from stadtkern.sensorthings.query.scope import Scope, paths_in


def compile_orderby(keys: tuple[OrderKey, ...], entity: PropertyMap) -> list[ColumnElement[Any]]:
    """ORDER BY clauses for parsed $orderby keys; raises QueryError for unorderable keys."""
    scope = Scope(entity)
    compiler = FilterCompiler(scope)
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        position = key.expression.position
        for path in paths_in(key.expression):
            if scope.unbound_to_many(path) is not None:
                raise QueryError("cannot order by a to-many navigation", path.position)
        operand = compiler.value(key.expression)
        if operand.json is not None:
            columns = [
                json_as(operand.json, Kind.NUMBER, position).sql,
                json_as(operand.json, Kind.STRING, position).sql,
            ]
        elif operand.kind in ORDERED or operand.kind is Kind.BOOLEAN:
            columns = [operand.sql] if operand.end is None else [operand.sql, operand.end]
        else:
            raise QueryError(f"cannot order by a {operand.kind}", position)
        for column in columns:
            if column.type._type_affinity is String:
                column = PerDialect(postgresql=column.collate("C"), sqlite=column, type_=String())
            ordered = column.desc().nulls_last() if key.descending else column.asc().nulls_first()
            clauses.append(ordered)
    return clauses
