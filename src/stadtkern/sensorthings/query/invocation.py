"""Checking a function call's arguments against its signature and building its SQL."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import BigInteger
from sqlalchemy import literal as sql_literal

from stadtkern.sensorthings.query.calls import BUILDERS
from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import Call
from stadtkern.sensorthings.query.functions import SIGNATURES, Signature, describe
from stadtkern.sensorthings.query.kinds import Kind
from stadtkern.sensorthings.query.operands import Operand, json_as, typed_null

_RELATE_PATTERN = re.compile(r"[TF*012]{9}")
# PostgreSQL's substr takes int4, so larger literal positions would fail there.
_INT4 = 2**31 - 1


def _signature(node: Call, count: int) -> Signature:
    signatures = SIGNATURES[node.name]
    for signature in signatures:
        if len(signature.parameters) == count:
            return signature
    wanted = " or ".join(str(len(s.parameters)) for s in signatures)
    raise QueryError(f"{node.name}() takes {wanted} arguments, got {count}", node.position)


def _argument(node: Call, index: int, operand: Operand, accepted: frozenset[Kind]) -> Operand:
    if operand.json is not None:
        # A JSON value is read as the kind the function wants, if JSON can hold that kind.
        for wanted in (Kind.NUMBER, Kind.STRING):
            if wanted in accepted:
                return json_as(operand.json, wanted, node.position)
    if operand.kind is Kind.NULL or operand.kind in accepted:
        return operand
    if operand.kind is Kind.INTERVAL and Kind.DATETIME in accepted:
        # A date function on an interval (phenomenonTime) reads its start, as FROST-Server does.
        return Operand(operand.sql, Kind.DATETIME)
    raise QueryError(
        f"argument {index + 1} of {node.name}() must be {describe(accepted)}, got {operand.kind}",
        node.arguments[index].position,
    )


def _check_literals(node: Call, arguments: list[Operand]) -> None:
    if node.name == "st_relate":
        pattern = arguments[2].literal
        if pattern is None or not isinstance(pattern.value, str):
            raise QueryError("st_relate() needs a literal pattern", node.position)
        if not _RELATE_PATTERN.fullmatch(pattern.value):
            raise QueryError("st_relate() pattern must be 9 of T F * 0 1 2", pattern.position)
    if node.name == "substring":
        for operand in arguments[1:]:
            given = operand.literal
            if given is not None and isinstance(given.value, int) and abs(given.value) > _INT4:
                raise QueryError("substring() position out of range", given.position)


def call(node: Call, given: list[Operand]) -> Operand:
    """The SQL of a function call with compiled arguments; raises QueryError on misuse."""
    signature = _signature(node, len(given))
    arguments = [
        _argument(node, index, operand, accepted)
        for index, (operand, accepted) in enumerate(zip(given, signature.parameters, strict=True))
    ]
    _check_literals(node, arguments)
    result = signature.result or arguments[0].kind
    if result is Kind.NULL:
        result = Kind.NUMBER
    if any(operand.kind is Kind.NULL for operand in arguments):
        return typed_null(result)
    if node.name in ("round", "floor", "ceiling") and arguments[0].kind is Kind.INTEGER:
        return arguments[0]
    if node.name == "totaloffsetminutes" and arguments[0].literal is not None:
        # Stored date-times are in UTC, but a literal keeps the offset it was written with.
        value = arguments[0].literal.value
        offset = value.utcoffset() if isinstance(value, datetime) else None
        minutes = 0 if offset is None else int(offset.total_seconds() // 60)
        return Operand(sql_literal(minutes, BigInteger()), Kind.INTEGER)
    sql = BUILDERS[node.name](*(operand.sql for operand in arguments))
    return Operand(sql, result)
