"""After an ingest batch's insert: stream times, latest values and MQTT notifications.

Rows of one stream usually come together (a CreateObservations group), so the times are
gathered per run of rows of one stream and merged into the request's spans once per run;
the newest row per Datastream is kept the same way. Notifications are produced lazily: the
hook reads the changes only when someone subscribed to the tenant's topics.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, overload

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.catalogue import DATASTREAM, MULTI_DATASTREAM, OBSERVATION
from stadtkern.sensorthings.changes import Change
from stadtkern.sensorthings.ingest.checks import Part
from stadtkern.sensorthings.ingest.latest import COPIED, offer_latest
from stadtkern.sensorthings.ingest.rows import (
    DATASTREAM_ID,
    INDEX,
    MULTI_ID,
    RESULT_NUMBER,
    RESULT_TIME,
    TIME_END,
    TIME_START,
    Row,
)
from stadtkern.sensorthings.rollups import roll_up
from stadtkern.sensorthings.write_context import StreamSpan, WriteContext

LATEST_ROW = tuple((name, INDEX[name]) for name in COPIED)
CREATED_FIELDS = frozenset(field.name for field in OBSERVATION.fields)


def note_spans(part: Part) -> None:
    """Widen the part's context's spans by the times of its rows."""
    spans = part.ctx.spans
    rows = part.rows
    start = 0
    while start < len(rows):
        key = _stream_key(rows[start])
        end = start + 1
        while end < len(rows) and _stream_key(rows[end]) == key:
            end += 1
        _widen(spans, key, rows[start:end])
        start = end


def _stream_key(row: Row) -> tuple[str, int]:
    if row[DATASTREAM_ID] is not None:
        return (DATASTREAM.name, row[DATASTREAM_ID])
    return (MULTI_DATASTREAM.name, row[MULTI_ID])


def _widen(spans: dict[tuple[str, int], StreamSpan], key: tuple[str, int], run: list[Row]) -> None:
    first = min(row[TIME_START] for row in run)
    last = max(row[TIME_START] if row[TIME_END] is None else row[TIME_END] for row in run)
    results = [row[RESULT_TIME] for row in run if row[RESULT_TIME] is not None]
    low, high = (min(results), max(results)) if results else (None, None)
    span = spans.get(key)
    if span is None:
        spans[key] = StreamSpan(first, last, low, high)
    else:
        span.add(first, last, low)
        span.add(first, last, high)


def newest_rows(parts: Sequence[Part]) -> list[dict[str, Any]]:
    """The newest stored row of every Datastream of the batch, as latest-value rows."""
    newest: dict[int, tuple[datetime, int, Row, WriteContext]] = {}
    for part in parts:
        for row, new_id in zip(part.rows, part.ids, strict=True):
            stream_id = row[DATASTREAM_ID]
            if stream_id is None:
                continue
            known = newest.get(stream_id)
            if known is None or (row[TIME_START], new_id) > (known[0], known[1]):
                newest[stream_id] = (row[TIME_START], new_id, row, part.ctx)
    latest = []
    for stream_id, (_time, new_id, row, ctx) in sorted(newest.items()):
        values = {name: row[position] for name, position in LATEST_ROW}
        values.update(datastream_id=stream_id, tenant_id=ctx.tenant_id, observation_id=new_id)
        latest.append(values)
    return latest


def offer_newest(session: Session, parts: Sequence[Part]) -> None:
    """Offer every Datastream's newest row of the batch to the latest-value table."""
    offer_latest(session, newest_rows(parts))


def add_to_hours(session: Session, parts: Sequence[Part]) -> None:
    """Add the batch's numeric results to their Datastreams' hourly rollups."""
    roll_up(
        session,
        (
            (part.ctx.tenant_id, row[DATASTREAM_ID], row[TIME_START], row[RESULT_NUMBER])
            for part in parts
            for row in part.rows
            if row[RESULT_NUMBER] is not None
        ),
    )


class CreatedObservations(Sequence[Change]):
    """The changes of a tenant's group: what else its requests changed, then a create per
    Observation, made only when read."""

    def __init__(self, head: Sequence[Change]) -> None:
        self._head = list(head)
        self._ids: list[int] = []

    def extend(self, ids: Sequence[int]) -> None:
        """Add the created Observations' ids."""
        self._ids.extend(ids)

    def __len__(self) -> int:
        return len(self._head) + len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Change: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Change]: ...
    def __getitem__(self, index: int | slice) -> Change | Sequence[Change]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if index < len(self._head):
            return self._head[index]
        return _created(self._ids[index - len(self._head)])

    def __iter__(self) -> Iterator[Change]:
        yield from self._head
        for new_id in self._ids:
            yield _created(new_id)


def _created(new_id: int) -> Change:
    return Change(OBSERVATION, new_id, "create", CREATED_FIELDS)


Grouped = dict[tuple[int, str], tuple[TenantRef, CreatedObservations]]


def changes_by_root(
    parts: Sequence[Part], tenants: Sequence[TenantRef], base_urls: Sequence[str]
) -> Grouped:
    """The batch's changes per tenant and service root URL (the tenant's other changes,
    features made and stream times, go with its first group)."""
    groups: Grouped = {}
    seen: set[int] = set()
    for part, tenant, base_url in zip(parts, tenants, base_urls, strict=True):
        key = (tenant.id, base_url)
        if key not in groups:
            head = [] if tenant.id in seen else list(part.ctx.log.changes())
            seen.add(tenant.id)
            groups[key] = (tenant, CreatedObservations(head))
        groups[key][1].extend(part.ids)
    return groups
