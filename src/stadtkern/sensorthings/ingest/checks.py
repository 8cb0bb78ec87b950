"""The checks an ingest batch makes in its transaction, per submission rather than per row.

The references of every row (its Datastream or MultiDatastream and its FeatureOfInterest)
must name entities of the row's tenant: one query per table and tenant for the whole batch,
and a row is looked at one by one only when something it names is missing. The general
writer's rules that need the database are applied with its own functions: a
MultiDatastream's result size, and the feature generated from the Thing's Location for a
row sent without one (found once per stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.catalogue import DATASTREAM, FEATURE_OF_INTEREST, MULTI_DATASTREAM
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.features import feature_from_thing, prefetch_features
from stadtkern.sensorthings.ingest.rows import (
    DATASTREAM_ID,
    FEATURE_ID,
    MULTI_ID,
    RESULT_JSON,
    RESULT_TYPE,
    Row,
)
from stadtkern.sensorthings.rules import check_result_size
from stadtkern.sensorthings.write_context import WriteContext

REFERENCES = (
    (DATASTREAM_ID, DATASTREAM),
    (MULTI_ID, MULTI_DATASTREAM),
    (FEATURE_ID, FEATURE_OF_INTEREST),
)
CHUNK = 5000  # ids per IN list

Missing = set[tuple[int, int, int]]  # (tenant, row position, id) naming nothing
# A (Multi)Datastream a submission names: (DATASTREAM_ID or MULTI_ID, id).
StreamRef = tuple[int, int]


@dataclass(eq=False)
class Part:
    """The valid rows of one submission in a batch, and what the batch decides for them."""

    ctx: WriteContext
    positions: list[int]  # of the rows in the submission
    rows: list[Row]
    streams: frozenset[StreamRef] = frozenset()  # one missing refuses every row
    features: list[int | None] = field(default_factory=list)  # generated, per row
    errors: list[tuple[int, StadtkernError]] = field(default_factory=list)  # (position, why)
    ids: list[int] = field(default_factory=list)
    refused: StadtkernError | None = None  # every row's outcome, a stream of `streams` missing


def check_parts(session: Session, parts: list[Part]) -> None:
    """Keep in each part the rows whose references and rules hold; note the others' errors."""
    missing = _missing_references(session, parts)
    _prefetch_features(parts, missing)
    for part in parts:
        _check_part(part, missing)


class StreamMissing(BadRequest):
    """A row of a submission naming (in `Part.streams`) a (Multi)Datastream the tenant does
    not have: all its rows are refused."""


def _check_part(part: Part, missing: Missing) -> None:
    ctx = part.ctx
    tenant = ctx.tenant_id
    named_missing = {key for key in missing if key[0] == tenant}
    if any((tenant, position, value) in named_missing for position, value in part.streams):
        part.refused = StreamMissing("a Datastream or MultiDatastream named does not exist")
        part.positions, part.rows = [], []
        return
    generated: dict[tuple[bool, int], int | StadtkernError] = {}
    positions: list[int] = []
    rows: list[Row] = []
    features: list[int | None] = []
    feature: int | StadtkernError | None
    for position, row in zip(part.positions, part.rows, strict=True):
        try:
            if named_missing:
                _check_references(tenant, row, named_missing)
            multi = row[MULTI_ID]
            if multi is not None:
                columns = {"result_type": row[RESULT_TYPE], "result_json": row[RESULT_JSON]}
                check_result_size(ctx, multi, columns)
            feature = None if row[FEATURE_ID] is not None else _generated(ctx, generated, row)
        except StadtkernError as error:
            feature = error
        if isinstance(feature, StadtkernError):
            part.errors.append((position, feature))
            continue
        positions.append(position)
        rows.append(row)
        features.append(feature)
    part.positions, part.rows, part.features = positions, rows, features


def _generated(
    ctx: WriteContext, known: dict[tuple[bool, int], int | StadtkernError], row: Row
) -> int | StadtkernError:
    """The feature generated for a row sent without one (once per stream, errors too)."""
    multi = row[MULTI_ID]
    key = (False, row[DATASTREAM_ID]) if multi is None else (True, multi)
    found = known.get(key)
    if found is None:
        try:
            found = feature_from_thing(ctx, MULTI_DATASTREAM if key[0] else DATASTREAM, key[1])
        except StadtkernError as error:
            found = error
        known[key] = found
    return found


def _check_references(tenant: int, row: Row, missing: Missing) -> None:
    for position, entity in REFERENCES:
        if (tenant, position, row[position]) in missing:
            name = entity.name
            raise BadRequest(f"Observation.{name}: there is no {name} with @iot.id {row[position]}")


def _prefetch_features(parts: list[Part], missing: Missing) -> None:
    """The generated features of every stream in the batch whose rows name none, at once."""
    wanted: dict[tuple[int, int], tuple[WriteContext, set[int]]] = {}
    for part in parts:
        tenant = part.ctx.tenant_id
        for position in (DATASTREAM_ID, MULTI_ID):
            other = MULTI_ID if position == DATASTREAM_ID else DATASTREAM_ID
            ids = {
                row[position] for row in part.rows if row[FEATURE_ID] is None and row[other] is None
            }
            ids.difference_update(v for t, p, v in missing if t == tenant and p == position)
            if ids:
                entry = wanted.setdefault((tenant, position), (part.ctx, set()))
                entry[1].update(ids)
    for (_tenant, position), (ctx, stream_ids) in wanted.items():
        stream = DATASTREAM if position == DATASTREAM_ID else MULTI_DATASTREAM
        prefetch_features(ctx, stream, stream_ids)


def _missing_references(session: Session, parts: list[Part]) -> Missing:
    wanted: dict[tuple[int, int], set[int]] = {}
    for part in parts:
        tenant = part.ctx.tenant_id
        for position, _entity in REFERENCES:
            ids = {row[position] for row in part.rows}
            ids.discard(None)
            ids.update(value for named, value in part.streams if named == position)
            if ids:
                wanted.setdefault((tenant, position), set()).update(ids)
    missing: Missing = set()
    entities = dict(REFERENCES)
    for (tenant, position), ids in wanted.items():
        found = _existing(session, entities[position], tenant, ids)
        missing.update((tenant, position, value) for value in ids - found)
    return missing


def _existing(session: Session, entity: EntityType, tenant_id: int, ids: set[int]) -> set[int]:
    """The ids the tenant has, locked FOR KEY SHARE (PostgreSQL) until the batch commits:
    the lock a foreign key's check takes, here once per referenced row rather than per
    Observation (there are no foreign keys on the Observations there, sensorthings_0006)."""
    table = entity.table
    ordered = sorted(ids)
    found: set[int] = set()
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = select(table.c.id).where(table.c.tenant_id == tenant_id, table.c.id.in_(chunk))
        locked = query.with_for_update(read=True, key_share=True)
        found.update(int(value) for value in session.scalars(locked))
    return found
