"""One ingest batch: the rows of many submissions written in one transaction.

In the transaction, in this order: the references are checked (the Datastreams,
MultiDatastreams and FeaturesOfInterest named exist and belong to the row's tenant, one
query per table and tenant), what the general writer's rules decide with the database is
decided (a MultiDatastream's result size, the feature generated from the Thing's Location),
ids are taken, the rows are inserted in bulk, the streams' times are widened (one statement
for all streams), the latest values offered and the hourly rollups added (one upsert
statement each), and the changes are
handed to `publish` (the MQTT outbox). A row that fails a check fails alone; when the bulk
insert itself fails (a value the database refuses), the batch is written again row by row,
each row in a savepoint, so that the bad row fails alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.changes import Change
from stadtkern.sensorthings.ingest.bookkeeping import (
    add_to_hours,
    changes_by_root,
    note_spans,
    offer_newest,
)
from stadtkern.sensorthings.ingest.checks import Part, StreamRef, check_parts
from stadtkern.sensorthings.ingest.rows import FEATURE_ID, Row
from stadtkern.sensorthings.ingest.sinks import allocate_ids, insert_records
from stadtkern.sensorthings.stream_times import widen_streams
from stadtkern.sensorthings.write_context import WriteContext

log = logging.getLogger(__name__)

# publish(session, tenant, changes, base_url): the dispatcher's hook (MQTT outbox).
Publish = Callable[[Session, TenantRef, Sequence[Change], str], None]
Outcome = int | StadtkernError
INVALID = BadRequest("the row is not a valid Observation")
FEATURE_RECORD = 2 + FEATURE_ID  # records start with id and tenant_id


@dataclass(eq=False)
class Submission:
    """Rows one request or message hands in; `outcomes` is filled by the batch."""

    tenant: TenantRef
    rows: list[Row | None]  # None: invalid before it got here
    base_url: str
    # If one of these (Multi)Datastreams does not exist, every row is refused (StreamMissing),
    # as the general writer refuses a whole CreateObservations request naming one.
    streams: frozenset[StreamRef] = frozenset()
    outcomes: list[Outcome] = field(default_factory=list)


def write_batch(database: Database, batch: Sequence[Submission], publish: Publish | None) -> None:
    """Write the batch in one transaction; fill every submission's outcomes after commit."""
    try:
        with database.write() as session:
            _write(session, batch, publish, one_by_one=False)
    except Exception as error:
        if sum(len(submission.rows) for submission in batch) <= 1:
            _fail_all(batch, error)
            return
        log.info("ingest batch refused (%s); writing it row by row", _first_line(error))
        with database.write() as session:
            _write(session, batch, publish, one_by_one=True)


def write_in_session(
    session: Session, batch: Sequence[Submission], publish: Publish | None
) -> None:
    """Write the batch inside the caller's transaction (for another module's writes that
    must commit together with its own). A row a rule refuses fails alone; a refusal of the
    database raises and the caller's transaction fails."""
    _write(session, batch, publish, one_by_one=False)


def _fail_all(batch: Sequence[Submission], error: Exception) -> None:
    refused = _as_refusal(error)
    if refused is None:
        raise error
    for submission in batch:
        submission.outcomes = [INVALID if row is None else refused for row in submission.rows]


def _as_refusal(error: Exception) -> StadtkernError | None:
    """A row's error as the client's fault; None for the database's own trouble."""
    if isinstance(error, StadtkernError):
        return error
    name = type(error).__name__
    module = type(error).__module__
    refused = ("IntegrityError", "DataError") if module.startswith("sqlalchemy") else ()
    if name in refused or (module.startswith("psycopg") and _client_sqlstate(error)):
        return BadRequest(f"the database refused the row: {_first_line(error)}")
    return None


def _client_sqlstate(error: Exception) -> bool:
    state = getattr(getattr(error, "diag", None), "sqlstate", None) or ""
    return state[:2] in ("22", "23")  # data exception, integrity constraint violation


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).splitlines()[0][:200] if str(original) else type(error).__name__


def _write(
    session: Session, batch: Sequence[Submission], publish: Publish | None, *, one_by_one: bool
) -> None:
    now = datetime.now(UTC)
    contexts: dict[int, WriteContext] = {}
    parts: list[Part] = []
    for submission in batch:
        rows = submission.rows
        submission.outcomes = [INVALID] * len(rows)
        tenant_id = submission.tenant.id
        ctx = contexts.get(tenant_id)
        if ctx is None:
            ctx = contexts[tenant_id] = WriteContext(session, tenant_id, now)
        positions = [position for position, row in enumerate(rows) if row is not None]
        valid = [row for row in rows if row is not None]
        parts.append(Part(ctx, positions, valid, streams=submission.streams))
    check_parts(session, parts)
    ids = iter(allocate_ids(session, sum(len(part.rows) for part in parts)))
    for part in parts:
        part.ids = [next(ids) for _row in part.rows]
    if one_by_one:
        _insert_one_by_one(session, parts)
    else:
        insert_records(session, [record for part in parts for record in _records(part)])
    for part in parts:
        note_spans(part)
    for ctx in contexts.values():
        widen_streams(ctx, latest=False)
    offer_newest(session, parts)
    add_to_hours(session, parts)
    if publish is not None:
        _publish(session, batch, parts, publish)
    for submission, part in zip(batch, parts, strict=True):
        if part.refused is not None:
            submission.outcomes = [part.refused] * len(submission.rows)
            continue
        outcomes = submission.outcomes
        for position, error in part.errors:
            outcomes[position] = error
        for position, new_id in zip(part.positions, part.ids, strict=True):
            outcomes[position] = new_id


def _records(part: Part) -> list[list[Any]]:
    """The part's rows as sinks insert them: `[id, tenant_id, *row]`."""
    tenant = part.ctx.tenant_id
    records = [[new_id, tenant, *row] for new_id, row in zip(part.ids, part.rows, strict=True)]
    for record, feature in zip(records, part.features, strict=True):
        if feature is not None:
            record[FEATURE_RECORD] = feature
    return records


def _insert_one_by_one(session: Session, parts: list[Part]) -> None:
    """Each row in a savepoint: a row the database refuses fails alone."""
    for part in parts:
        stored = []
        for index, record in enumerate(_records(part)):
            try:
                with session.begin_nested():
                    insert_records(session, [record])
            except Exception as error:
                refused = _as_refusal(error)
                if refused is None:
                    raise
                part.errors.append((part.positions[index], refused))
                continue
            stored.append(index)
        part.positions = [part.positions[i] for i in stored]
        part.rows = [part.rows[i] for i in stored]
        part.features = [part.features[i] for i in stored]
        part.ids = [part.ids[i] for i in stored]


def _publish(
    session: Session, batch: Sequence[Submission], parts: list[Part], publish: Publish
) -> None:
    """Every change of the batch, per tenant and service root URL, into the outbox."""
    tenants = [submission.tenant for submission in batch]
    roots = [submission.base_url for submission in batch]
    for (_tenant, root), (tenant, changes) in changes_by_root(parts, tenants, roots).items():
        publish(session, tenant, changes, root)
