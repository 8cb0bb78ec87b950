"""One ingest batch: the rows of many submissions written in one transaction.

In the transaction, in this order: the references are checked (the Datastreams,
MultiDatastreams and FeaturesOfInterest named exist and belong to the row's tenant, one
query per table and tenant), what the general writer's rules decide with the database is
decided (a MultiDatastream's result size, the feature generated from the Thing's Location),
ids are taken, the rows are inserted in bulk, the streams' times are widened (one statement
for all streams), the latest values offered (one upsert statement), and the changes are
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

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.catalogue import (
    DATASTREAM,
    FEATURE_OF_INTEREST,
    MULTI_DATASTREAM,
    OBSERVATION,
)
from stadtkern.sensorthings.changes import Change
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.features import feature_from_thing, prefetch_features
from stadtkern.sensorthings.ingest.latest import COPIED, offer_latest
from stadtkern.sensorthings.ingest.rows import (
    DATASTREAM_ID,
    FEATURE_ID,
    INDEX,
    MULTI_ID,
    RESULT_JSON,
    RESULT_TIME,
    RESULT_TYPE,
    TIME_END,
    TIME_START,
    Row,
)
from stadtkern.sensorthings.ingest.sinks import allocate_ids, insert_records
from stadtkern.sensorthings.rules import check_result_size
from stadtkern.sensorthings.stream_times import note_observation, widen_streams
from stadtkern.sensorthings.write_context import WriteContext

log = logging.getLogger(__name__)

# publish(session, tenant, changes, base_url): the dispatcher's hook (MQTT outbox).
Publish = Callable[[Session, TenantRef, Sequence[Change], str], None]
Outcome = int | StadtkernError
INVALID = BadRequest("the row is not a valid Observation")
REFERENCES = ((DATASTREAM_ID, DATASTREAM), (MULTI_ID, MULTI_DATASTREAM), (FEATURE_ID, None))
CHUNK = 5000  # ids per IN list
FEATURE_RECORD = 2 + FEATURE_ID  # records start with id and tenant_id
LATEST_ROW = tuple((name, INDEX[name]) for name in COPIED)
CREATED_FIELDS = frozenset(field.name for field in OBSERVATION.fields)


@dataclass(eq=False)
class Submission:
    """Rows one request or message hands in; `outcomes` is filled by the batch."""

    tenant: TenantRef
    rows: list[Row | None]  # None: invalid before it got here
    base_url: str
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass(eq=False)
class _Item:
    submission: Submission
    position: int
    row: Row
    ctx: WriteContext
    id: int = 0
    feature: int | None = None  # generated from the Thing's Location (the row stays as sent)

    def record(self) -> list[Any]:
        """The row as sinks insert it."""
        record = [self.id, self.ctx.tenant_id, *self.row]
        if self.feature is not None:
            record[FEATURE_RECORD] = self.feature
        return record


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
    items: list[_Item] = []
    for submission in batch:
        submission.outcomes = [INVALID] * len(submission.rows)
        tenant_id = submission.tenant.id
        ctx = contexts.get(tenant_id)
        if ctx is None:
            ctx = contexts[tenant_id] = WriteContext(session, tenant_id, now)
        for position, row in enumerate(submission.rows):
            if row is not None:
                items.append(_Item(submission, position, row, ctx))
    items = _checked(session, items)
    for item, new_id in zip(items, allocate_ids(session, len(items)), strict=True):
        item.id = new_id
    stored = _insert(session, items, one_by_one=one_by_one)
    _bookkeeping(session, stored, contexts, publish)
    for item in stored:
        item.submission.outcomes[item.position] = item.id


def _checked(session: Session, items: list[_Item]) -> list[_Item]:
    """The items whose references and rules hold; the others get their error."""
    missing = _missing_references(session, items)
    _prefetch_features(items, missing)
    kept = []
    for item in items:
        row = item.row
        try:
            for position, entity in REFERENCES:
                if (item.ctx.tenant_id, position, row[position]) in missing:
                    name = entity.name if entity is not None else FEATURE_OF_INTEREST.name
                    raise BadRequest(
                        f"Observation.{name}: there is no {name} with @iot.id {row[position]}"
                    )
            item.feature = _apply_rules(item.ctx, row)
        except StadtkernError as error:
            item.submission.outcomes[item.position] = error
            continue
        kept.append(item)
    return kept


def _prefetch_features(items: list[_Item], missing: set[tuple[int, int, int]]) -> None:
    """The generated features of every stream in the batch whose rows name none, at once."""
    wanted: dict[tuple[int, str], tuple[WriteContext, EntityType, set[int]]] = {}
    for item in items:
        row = item.row
        if row[FEATURE_ID] is not None:
            continue
        stream, stream_id = _stream(row)
        position = DATASTREAM_ID if stream is DATASTREAM else MULTI_ID
        if (item.ctx.tenant_id, position, stream_id) in missing:
            continue
        key = (item.ctx.tenant_id, stream.name)
        if key not in wanted:
            wanted[key] = (item.ctx, stream, set())
        wanted[key][2].add(stream_id)
    for ctx, stream, stream_ids in wanted.values():
        prefetch_features(ctx, stream, stream_ids)


def _missing_references(session: Session, items: list[_Item]) -> set[tuple[int, int, int]]:
    """(tenant, row position, id) of every reference naming nothing of the tenant."""
    wanted: dict[tuple[int, int], set[int]] = {}
    for item in items:
        for position, _entity in REFERENCES:
            value = item.row[position]
            if value is not None:
                wanted.setdefault((item.ctx.tenant_id, position), set()).add(value)
    missing: set[tuple[int, int, int]] = set()
    for (tenant_id, position), ids in wanted.items():
        entity = dict(REFERENCES)[position] or FEATURE_OF_INTEREST
        found = _existing(session, entity, tenant_id, ids)
        missing.update((tenant_id, position, value) for value in ids - found)
    return missing


def _existing(session: Session, entity: EntityType, tenant_id: int, ids: set[int]) -> set[int]:
    table = entity.table
    ordered = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.id.in_(chunk))
        found.update(int(value) for value in session.scalars(query))
    return found


def _apply_rules(ctx: WriteContext, row: Row) -> int | None:
    """rules.before_insert's checks that need the database, with the same functions; the
    feature generated for a row without one."""
    if row[MULTI_ID] is not None:
        columns = {"result_type": row[RESULT_TYPE], "result_json": row[RESULT_JSON]}
        check_result_size(ctx, row[MULTI_ID], columns)
    if row[FEATURE_ID] is not None:
        return None
    stream, stream_id = _stream(row)
    return feature_from_thing(ctx, stream, stream_id)


def _stream(row: Row) -> tuple[EntityType, int]:
    if row[DATASTREAM_ID] is not None:
        return DATASTREAM, row[DATASTREAM_ID]
    return MULTI_DATASTREAM, row[MULTI_ID]


def _insert(session: Session, items: list[_Item], *, one_by_one: bool) -> list[_Item]:
    if not one_by_one:
        insert_records(session, [item.record() for item in items])
        return items
    stored = []
    for item in items:
        try:
            with session.begin_nested():
                insert_records(session, [item.record()])
        except Exception as error:
            refused = _as_refusal(error)
            if refused is None:
                raise
            item.submission.outcomes[item.position] = refused
            continue
        stored.append(item)
    return stored


def _bookkeeping(
    session: Session,
    stored: list[_Item],
    contexts: dict[int, WriteContext],
    publish: Publish | None,
) -> None:
    """Stream times, latest values and notifications of the rows stored."""
    newest: dict[int, _Item] = {}
    for item in stored:
        row = item.row
        stream, stream_id = _stream(row)
        note_observation(
            item.ctx, stream, stream_id, (row[TIME_START], row[TIME_END], row[RESULT_TIME])
        )
        if stream is DATASTREAM:
            known = newest.get(stream_id)
            if known is None or (row[TIME_START], item.id) > (known.row[TIME_START], known.id):
                newest[stream_id] = item
    for ctx in contexts.values():
        widen_streams(ctx, latest=False)
    offer_latest(session, [_latest(stream_id, item) for stream_id, item in sorted(newest.items())])
    if publish is not None:
        _publish(session, stored, publish)


def _latest(stream_id: int, item: _Item) -> dict[str, Any]:
    values = {name: item.row[position] for name, position in LATEST_ROW}
    values.update(datastream_id=stream_id, tenant_id=item.ctx.tenant_id, observation_id=item.id)
    return values


def _publish(session: Session, stored: list[_Item], publish: Publish) -> None:
    """Every change of the batch, per tenant and service root URL, into the outbox."""
    groups: dict[tuple[int, str], list[Change]] = {}
    tenants: dict[int, TenantRef] = {}
    for item in stored:
        tenant = item.submission.tenant
        key = (tenant.id, item.submission.base_url)
        changes = groups.get(key)
        if changes is None:
            # The tenant's other changes (features made, stream times) go with its first group.
            changes = groups[key] = [] if tenant.id in tenants else list(item.ctx.log.changes())
            tenants[tenant.id] = tenant
        changes.append(Change(OBSERVATION, item.id, "create", CREATED_FIELDS))
    for (tenant_id, base_url), changes in groups.items():
        publish(session, tenants[tenant_id], changes, base_url)
