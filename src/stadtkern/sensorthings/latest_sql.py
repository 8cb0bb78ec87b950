"""`Datastreams/$latest` on PostgreSQL: the page's JSON built by the database.

A page of 10,000 map entries is about 2 MB of JSON. Fetching 10,000 rows, decoding their
JSON columns, building dictionaries and encoding them again costs Python far more than the
query itself (profiled: over 90 % of the request), so on PostgreSQL the database writes the
entries (`json_build_object`, aggregated in id order) and the adapter sends the text as it
comes. The entries equal the ones `latest._entry` builds (same keys in the same order, times
in `times.format_instant`'s form); SQLite keeps the Python path, whose JSON functions write
doubles with 15 significant digits and would round results.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from stadtkern.sensorthings.models import ResultType
from stadtkern.sensorthings.render import ID, SELF_LINK

UTC_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS'


def page_json(query: Select[Any], *, streams: str, first: int, last: int) -> Select[str, int, Any]:
    """One row: (the JSON array of rows `first`..`last` (1-based) of `query`, the rows
    `query` returned, the id of the page's last entry).

    `query` selects the latest-value columns in `latest._COLUMNS` order plus the location and
    must be ordered and limited already; a row past `last` tells that a next page exists.
    """
    rows = query.add_columns(
        func.row_number().over(order_by=query.selected_columns[0]).label("n")
    ).subquery()
    c = list(rows.c)
    (stream_id, name, unit, thing_id, thing_name, observation_id, start, end, result_time) = c[:9]
    result_type, number, string, boolean, exact = c[9:14]
    location, n = c[14], c[15]
    self_link = literal(f"{streams}(") + cast(stream_id, String) + literal(")")
    datastream = {ID: stream_id, "name": name, "unitOfMeasurement": unit, SELF_LINK: self_link}
    observation = {
        ID: observation_id,
        "phenomenonTime": _time(start, end),
        "result": _result(result_type, number, string, boolean, exact),
        "resultTime": case((result_time.is_(None), null()), else_=_instant(result_time)),
    }
    entry = _object(
        {
            "Datastream": _object(datastream),
            "Thing": _object({ID: thing_id, "name": thing_name}),
            "location": location,
            "Observation": _object(observation),
        }
    )
    on_page = n.between(first, last)
    entries = func.json_agg(aggregate_order_by(entry, stream_id)).filter(on_page)
    return select(
        func.coalesce(cast(entries, Text), "[]"),
        func.count(),
        func.max(stream_id).filter(on_page),
    ).select_from(rows)


def _object(members: dict[str, Any]) -> ColumnElement[Any]:
    """`json_build_object`: keys in the given order, as the Python entries have them."""
    return func.json_build_object(*(part for pair in members.items() for part in pair))


def _instant(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """`times.format_instant` in SQL: UTC, `Z`, a fraction only when non-zero."""
    utc = func.timezone("UTC", moment)
    micro = cast(func.extract("microseconds", moment), BigInteger) % 1_000_000
    fraction = case(
        (micro == 0, ""),
        (micro % 1000 == 0, "." + func.to_char(utc, "MS")),
        else_="." + func.to_char(utc, "US"),
    )
    return func.to_char(utc, UTC_SECONDS) + fraction + "Z"


def _time(start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(
        (start.is_(None), null()),
        (end.is_(None), _instant(start)),
        else_=_instant(start) + "/" + _instant(end),
    )


def _result(
    kind: ColumnElement[Any],
    number: ColumnElement[Any],
    string: ColumnElement[Any],
    boolean: ColumnElement[Any],
    exact: ColumnElement[Any],
) -> ColumnElement[Any]:
    """The result as JSON, as `results.result_value` reads it."""
    as_json = type_coerce(exact, JSON)
    whole = func.to_json(cast(number, BigInteger))
    return case(
        (kind == ResultType.NUMBER, func.to_json(number)),
        # result_json holds JSON null (not SQL NULL) unless the integer needs it
        (
            kind == ResultType.INTEGER,
            case((func.json_typeof(as_json) == "number", as_json), else_=whole),
        ),
        (kind == ResultType.STRING, func.to_json(string)),
        (kind == ResultType.BOOLEAN, func.to_json(boolean)),
        (kind == ResultType.OBJECT, as_json),
        else_=cast(literal("null"), JSON),
    )
