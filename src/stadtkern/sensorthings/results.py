"""An Observation's result in the column of its JSON type, and back, unchanged.

JSON integers and floats are both numbers in SQL (result_number, double precision), so that
filters and aggregates treat them alike; the result type remembers which it was, and an
integer beyond 2**53 (which a double cannot hold exactly) is kept in result_json as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stadtkern.sensorthings.models import ResultType

EXACT_LIMIT = 2**53
COLUMNS = ("result_type", "result_number", "result_string", "result_boolean", "result_json")


def result_columns(value: Any) -> dict[str, Any]:
    """The column values that store a JSON result."""
    columns: dict[str, Any] = dict.fromkeys(COLUMNS)
    if value is None:
        columns["result_type"] = ResultType.NULL
    elif isinstance(value, bool):
        columns.update(result_type=ResultType.BOOLEAN, result_boolean=value)
    elif isinstance(value, int):
        columns.update(result_type=ResultType.INTEGER, result_number=float(value))
        if abs(value) >= EXACT_LIMIT:
            columns["result_json"] = value
    elif isinstance(value, float):
        columns.update(result_type=ResultType.NUMBER, result_number=value)
    elif isinstance(value, str):
        columns.update(result_type=ResultType.STRING, result_string=value)
    elif isinstance(value, dict | list):
        columns.update(result_type=ResultType.OBJECT, result_json=value)
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")
    return columns


def result_value(row: Mapping[str, Any]) -> Any:
    """The JSON result a row's result columns hold."""
    kind = row["result_type"]
    if kind == ResultType.NUMBER:
        return row["result_number"]
    if kind == ResultType.INTEGER:
        exact = row["result_json"]
        return int(exact) if exact is not None else int(row["result_number"])
    if kind == ResultType.STRING:
        return row["result_string"]
    if kind == ResultType.BOOLEAN:
        return bool(row["result_boolean"])
    if kind == ResultType.OBJECT:
        return row["result_json"]
    return None
