"""The arithmetic operators add, sub, mul, div and mod.

Integers stay integers (div truncates towards zero, as both databases do); with a decimal
operand the result is a decimal. Division or modulo by zero gives null rather than an error,
and mod takes integers only, since PostgreSQL has no modulo of double precision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import Binary, Operator
from stadtkern.sensorthings.query.kinds import NUMERIC, Kind
from stadtkern.sensorthings.query.operands import Operand, json_as, typed_null


def _numeric(node: Binary, operand: Operand, side: str) -> Operand:
    if operand.json is not None:
        return json_as(operand.json, Kind.NUMBER, node.position)
    if operand.kind is not Kind.NULL and operand.kind not in NUMERIC:
        raise QueryError(
            f"{node.operator} needs numbers, the {side} is {operand.kind}", node.position
        )
    return operand


def arithmetic(node: Binary, left: Operand, right: Operand) -> Operand:
    """The SQL of an arithmetic operation on two numbers."""
    left, right = _numeric(node, left, "left"), _numeric(node, right, "right")
    integral = left.kind in (Kind.INTEGER, Kind.NULL) and right.kind in (Kind.INTEGER, Kind.NULL)
    if node.operator is Operator.MOD and not integral:
        raise QueryError("mod needs integers", node.position)
    kind = Kind.INTEGER if integral else Kind.NUMBER
    if Kind.NULL in (left.kind, right.kind):
        return typed_null(kind)
    a, b = left.sql, right.sql
    result: ColumnElement[Any]
    if node.operator is Operator.ADD:
        result = a + b
    elif node.operator is Operator.SUB:
        result = a - b
    elif node.operator is Operator.MUL:
        result = a * b
    else:
        divisor = func.nullif(b, 0, type_=b.type)
        if node.operator is Operator.MOD:
            result = a % divisor
        elif integral:
            # SQLAlchemy's / divides integers as decimals; // writes the databases' integer
            # division, which truncates towards zero.
            result = a // divisor
        else:
            result = a / divisor
    return Operand(result, kind)
