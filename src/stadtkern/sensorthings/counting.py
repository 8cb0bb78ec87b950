"""`$count` modes: exact, estimate and limited, chosen by the setting or per request.

    mode = count_mode(context)          # countMode= of the request, else the setting
    counted = count_rows(session, table, where, mode, limit=context.settings.count_limit)
    body.update(counted.annotations())  # {"@iot.count": n, "@iot.countMode": "estimate"}

- exact: `SELECT count(*)` of the filtered collection.
- limited: counts at most `limit + 1` rows (`LIMIT` inside the count); beyond the limit the
  answer is the limit with `@iot.countLimited: true`.
- estimate on PostgreSQL: the planner's row estimate of the filtered query
  (`EXPLAIN (FORMAT JSON)`; for a partitioned table the planner sums the partitions'
  `pg_class.reltuples` times the filter's selectivity). Below `limit` rows the estimate is
  replaced by a limited count, so small collections are exact.
- estimate on SQLite (which keeps no row estimates): a limited count; below the limit it is
  exact, at the limit the total is extrapolated from evenly spaced id windows of the table
  (about `limit` rows read in all), and never reported below the limit.

`@iot.countMode` says what the number is (exact, estimate or limited), not what was asked:
an estimate of a small collection is exact. Exact mode without `countMode=` adds nothing, so
plain `$count=true` answers as the standard shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ClauseElement, Executable, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select
from sqlalchemy.sql.util import ClauseAdapter

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.context import ReadContext

COUNT_MODE = "countMode"
# Windows the SQLite extrapolation reads, spread evenly over the table's id range.
SAMPLE_WINDOWS = 20


class CountMode(StrEnum):
    """How `$count=true` counts, and what kind of number `@iot.count` is."""

    EXACT = "exact"
    ESTIMATE = "estimate"
    LIMITED = "limited"


@dataclass(frozen=True)
class Count:
    """`@iot.count` and how it was obtained."""

    value: int
    mode: CountMode
    annotate: bool = True  # False for a plain exact count (no @iot.countMode member)

    def annotations(self) -> dict[str, Any]:
        """The members a collection's body carries for this count."""
        body: dict[str, Any] = {"@iot.count": self.value}
        if self.annotate:
            body["@iot.countMode"] = str(self.mode)
            if self.mode is CountMode.LIMITED:
                body["@iot.countLimited"] = True
        return body


def count_mode(context: ReadContext) -> tuple[CountMode, bool]:
    """The mode of this request (`countMode=`, else the setting) and whether it was asked."""
    values = [value for name, value in context.query_items if name == COUNT_MODE]
    if len(values) > 1:
        raise BadRequest(f"{COUNT_MODE} is given more than once")
    text = values[0] if values else context.settings.count_mode
    try:
        mode = CountMode(text.lower())
    except ValueError:
        known = ", ".join(mode.value for mode in CountMode)
        raise BadRequest(f"{COUNT_MODE}: unknown mode {text!r} (known: {known})") from None
    return mode, bool(values) or mode is not CountMode.EXACT


def count_rows(
    session: Session,
    table: FromClause,
    where: Sequence[ColumnElement[bool]],
    mode: CountMode,
    *,
    limit: int,
    annotate: bool = True,
) -> Count:
    """The number of rows of `table` matching `where`, counted as `mode` says."""
    rows = select(literal(1)).select_from(table).where(*where)
    if mode is CountMode.EXACT:
        total = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
        return Count(int(total), CountMode.EXACT, annotate)
    if mode is CountMode.ESTIMATE and session.get_bind().dialect.name == "postgresql":
        planned = planner_rows(session, rows)
        if planned >= limit:
            return Count(planned, CountMode.ESTIMATE, annotate)
    counted = _count_upto(session, rows, limit)
    if counted <= limit:
        return Count(counted, CountMode.EXACT, annotate)
    if mode is CountMode.ESTIMATE and session.get_bind().dialect.name == "sqlite":
        guess = _extrapolate(session, table, where, limit)
        return Count(max(guess, limit), CountMode.ESTIMATE, annotate)
    return Count(limit, CountMode.LIMITED, annotate)


def planner_rows(session: Session, query: Select[Any]) -> int:
    """PostgreSQL's estimate of the rows `query` returns (no rows are read)."""
    plan = session.execute(_Explain(query)).scalar_one()
    return int(plan[0]["Plan"]["Plan Rows"])


def _count_upto(session: Session, rows: Select[Any], limit: int) -> int:
    """The matching rows, counted up to `limit + 1` (more means: beyond the limit)."""
    capped = rows.limit(limit + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0)


def _extrapolate(
    session: Session, table: FromClause, where: Sequence[ColumnElement[bool]], limit: int
) -> int:
    """SQLite: the matches in evenly spaced id windows, scaled to the table's id range."""
    ids = table.c.get("id")
    if ids is None:  # a join: no single id range to sample
        return limit
    # Two statements: SQLite answers a lone min() or max() of the key from the b-tree's
    # end, but scans the whole table for both in one SELECT (1.4 s for 1,000,000 rows).
    low = session.scalar(select(func.min(ids)))
    high = session.scalar(select(func.max(ids)))
    if low is None:
        return 0
    span = int(high) - int(low) + 1
    width = max(1, min(span, limit) // SAMPLE_WINDOWS)
    step = max(width, span // SAMPLE_WINDOWS)
    starts = range(int(low), int(high) + 1, step)
    # One statement over all windows, materialized, or SQLite would rather walk an index of
    # the filter (a Datastream's 500,000 Observations) than the 500 ids of each window.
    windows = [select(table).where(ids.between(start, start + width - 1)) for start in starts]
    rows = union_all(*windows).cte("id_window").prefix_with("MATERIALIZED")
    adapter = ClauseAdapter(rows)
    terms = [adapter.traverse(term) for term in where]
    found = int(session.scalar(select(func.count()).select_from(rows).where(*terms)) or 0)
    sampled = sum(min(width, int(high) + 1 - start) for start in starts)
    return round(found * span / sampled) if sampled else 0


class _Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON)` of a query (PostgreSQL)."""

    inherit_cache = False

    def __init__(self, query: Select[Any]) -> None:
        self.query = query


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.query, **kw)
