"""`Datastreams/$latest` on PostgreSQL: the page's JSON written by the database.

A page of 10,000 map entries is about 4.6 MB of JSON. The constant part of each entry (the
Datastream, its Thing and Location) is kept rendered in `sta_latest_head` by triggers, so
the database only writes each entry's Observation and joins the texts (`string_agg` in id
order); the adapter sends the text as it comes. The Observation equals the one
`latest_rows.observation_json` writes in Python (times in `times.format_instant`'s form);
SQLite keeps that Python path, since its JSON functions write doubles with 15 significant
digits and would round results.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from stadtkern.sensorthings.models import ResultType

UTC_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS'


def page_json(query: Select[Any], *, base: str, first: int, last: int) -> Select[str, int, Any]:
    """One row: (the JSON array of rows `first`..`last` (1-based) of `query`, the rows
    `query` returned, the id of the page's last entry).

    `query` selects `latest_rows.COLUMNS` (Datastream id, head, tail, Observation id,
    times, result columns), ordered and limited already; a row past `last` tells that a next
    page exists. `base` is the request's base URL, already escaped for a JSON string.
    """
    rows = query.add_columns(
        func.row_number().over(order_by=query.selected_columns[0]).label("n")
    ).subquery()
    (stream_id, head, tail, observation_id, start, end, result_time, *results, n) = rows.c
    observation = (
        literal('{"@iot.id":', String)
        + cast(observation_id, String)
        + ',"phenomenonTime":'
        + _quoted(_time(start, end))
        + ',"result":'
        + _result(*results)
        + ',"resultTime":'
        + _quoted(_instant(result_time))
        + "}}"
    )
    entry = head + literal(base, String) + tail + observation
    on_page = n.between(first, last)
    # string_agg(entry, ',' ORDER BY id): the order goes with the separator argument
    entries = func.string_agg(entry, aggregate_order_by(literal(","), stream_id)).filter(on_page)
    return select(
        "[" + func.coalesce(entries, "") + "]",
        func.count(),
        func.max(stream_id).filter(on_page),
    ).select_from(rows)


def _quoted(text: ColumnElement[Any]) -> ColumnElement[str]:
    """A JSON string of `text` (digits, `-:.TZ/` only: nothing to escape), or null."""
    return func.coalesce('"' + text + '"', "null")


def _instant(moment: ColumnElement[Any]) -> ColumnElement[str]:
    """`times.format_instant` in SQL: UTC, `Z`, a fraction only when non-zero (NULL stays)."""
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
    """The result as JSON text, as `results.result_value` reads it."""
    exact_text = cast(exact, Text)
    value = case(
        (kind == ResultType.NUMBER, cast(func.to_json(number), Text)),
        # result_json holds JSON null (not SQL NULL) unless the integer needs it
        (
            kind == ResultType.INTEGER,
            case(
                (func.json_typeof(exact) == "number", exact_text),
                else_=cast(cast(number, BigInteger), Text),
            ),
        ),
        (kind == ResultType.STRING, cast(func.to_json(string), Text)),
        (kind == ResultType.BOOLEAN, cast(func.to_json(boolean), Text)),
        (kind == ResultType.OBJECT, exact_text),
        else_=literal("null"),
    )
    return func.coalesce(value, "null")  # never NULL: it would drop the whole entry
