"""The fast path of creating Observations: requests answered through the ingest pipeline.

    links = await ingest_data_arrays(pipeline, tenant, body, base_url=..., wait=False)
    if links is None:  # not for the fast path: the dispatcher's general writer answers
        ...

Taken by POST `Observations`, `Datastreams(id)/Observations`, `MultiDatastreams(id)/
Observations` and `FeaturesOfInterest(id)/Observations` with a body that links by @iot.id
only, by POST `CreateObservations`, and by MQTT create. The answers are those of the
general writer (201, the entity as a GET returns it, Location; the selfLinks or "error" of
CreateObservations). Whatever this path does not handle exactly as the general writer
would, it leaves to it: a body with a nested entity, any error found before the rows are
queued (the general writer finds it again and answers in its own words), and a single
Observation the batch refused (written again by the general writer, which then answers
404 or 400 exactly as before). Only CreateObservations rows fail here: as "error". A
CreateObservations request naming a stream that does not exist stores nothing (the batch
refuses the whole submission) and goes to the general writer for its 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from anyio import to_thread

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.create_observations import ERROR
from stadtkern.sensorthings.ingest.checks import StreamMissing
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.ingest.rows import (
    COLUMNS,
    STREAM_LINKS,
    Row,
    plan_create,
    plan_groups,
)
from stadtkern.sensorthings.render import Selection, render_entity, self_link

CREATE_OBSERVATIONS = "CreateObservations"
EVERYTHING = Selection(OBSERVATION.fields, OBSERVATION.links)
# Bodies smaller than this are checked on the event loop; larger ones in a worker thread.
INLINE_BODY_ROWS = 50


async def ingest_create(
    pipeline: IngestPipeline,
    tenant: TenantRef,
    path: str,
    body: object,
    *,
    base_url: str,
    wait: bool,
) -> tuple[int, dict[str, Any]] | None:
    """Create one Observation; its id and its JSON, or None: the general writer's turn."""
    now = datetime.now(UTC)
    plan = plan_create(path, body, now)
    if plan is None:
        return None
    (outcome,) = await pipeline.submit(tenant, [plan.row], base_url=base_url, wait=wait)
    if not isinstance(outcome, int):
        return None
    return outcome, render_observation(outcome, plan.row, base_url)


async def ingest_data_arrays(
    pipeline: IngestPipeline,
    tenant: TenantRef,
    body: object,
    *,
    base_url: str,
    wait: bool,
) -> list[str] | None:
    """CreateObservations: the selfLink or "error" of each row; None: the general writer's
    (a malformed body, or a stream that does not exist: nothing of the request is stored,
    and the general writer answers 400 in its own words)."""
    now = datetime.now(UTC)
    if isinstance(body, list) and sum(_size(group) for group in body) <= INLINE_BODY_ROWS:
        groups = plan_groups(body, now)
    else:
        groups = await to_thread.run_sync(plan_groups, body, now)
    if groups is None:
        return None
    rows = [row for group in groups for row in group.rows]
    streams = frozenset((STREAM_LINKS[group.stream.name], group.stream_id) for group in groups)
    outcomes = await pipeline.submit(tenant, rows, base_url=base_url, wait=wait, streams=streams)
    if any(isinstance(outcome, StreamMissing) for outcome in outcomes):
        return None
    return [
        self_link(base_url, OBSERVATION, outcome) if isinstance(outcome, int) else ERROR
        for outcome in outcomes
    ]


def render_observation(observation_id: int, row: Row, base_url: str) -> dict[str, Any]:
    """The Observation as a GET of it answers."""
    columns: dict[str, Any] = dict(zip(COLUMNS, row, strict=True))
    columns["id"] = observation_id
    return render_entity(OBSERVATION, columns, EVERYTHING, base_url)


def _size(group: object) -> int:
    rows = group.get("dataArray") if isinstance(group, dict) else None
    return len(rows) if isinstance(rows, list) else 0
