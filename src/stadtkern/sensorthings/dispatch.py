"""One SensorThings request, whatever carried it: HTTP, a $batch part, or (for creates) MQTT.

    dispatcher = Dispatcher(database, settings, notify)
    answer = dispatcher.handle(tenant, StaRequest("POST", "Things", body={...}), may_write=True)

The dispatcher maps the method and resource path onto the reader and writer, turns the
query-language and path errors into `BadRequest`/`NotFound`, and reports what changed to
`publish` inside the transaction, before it commits (the MQTT extension writes the messages
to the outbox there, so they leave only with the change they report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import BadRequest, Forbidden, NotFound
from stadtkern.sensorthings import reader, writer
from stadtkern.sensorthings.context import ReadContext
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.ingest.requests import ingest_create, ingest_data_arrays
from stadtkern.sensorthings.paths import PathError, ResourcePath, parse_path
from stadtkern.sensorthings.query import QueryError, parse_query_options
from stadtkern.sensorthings.settings import SensorThingsSettings
from stadtkern.sensorthings.writer import Change

JSON_PATCH = "application/json-patch+json"
CREATE_OBSERVATIONS = "CreateObservations"

# publish(session, tenant, changes, base_url): report changes inside their transaction.
Publish = Callable[[Session, TenantRef, Sequence[Change], str], None]


@dataclass(frozen=True)
class StaRequest:
    """A request relative to the tenant's service root (`Things(1)`, not `/kl/v1.1/...`)."""

    method: str
    path: str
    query: Sequence[tuple[str, str]] = ()
    body: Any = None
    content_type: str = "application/json"


@dataclass(frozen=True)
class StaResponse:
    """The answer: status, a JSON-able or text body, its media type and extra headers."""

    status: int
    body: Any = None
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Dispatcher:
    """Executes SensorThings requests of any tenant against one database."""

    def __init__(
        self,
        database: Database,
        settings: SensorThingsSettings,
        publish: Publish | None = None,
        ingest: IngestPipeline | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.publish = publish
        self.ingest = ingest  # the fast path of creating Observations, when there is one

    async def create_fast(
        self, tenant: TenantRef, request: StaRequest, *, base_url: str, wait: bool = False
    ) -> StaResponse | None:
        """A POST creating Observations, through the ingest pipeline: answered after the
        commit, as `handle` would answer it. None: not for the pipeline, call `handle`.

        `wait=False` raises IngestBusy (503) when the queue is full; `wait=True` waits."""
        pipeline = self.ingest
        if pipeline is None or request.method != "POST":
            return None
        if request.path.strip("/") == CREATE_OBSERVATIONS:
            links = await ingest_data_arrays(
                pipeline, tenant, request.body, base_url=base_url, wait=wait
            )
            return None if links is None else StaResponse(201, links)
        created = await ingest_create(
            pipeline, tenant, request.path, request.body, base_url=base_url, wait=wait
        )
        if created is None:
            return None
        body = created[1]
        return StaResponse(201, body, headers={"Location": body["@iot.selfLink"]})

    def handle(
        self, tenant: TenantRef, request: StaRequest, *, base_url: str, may_write: bool
    ) -> StaResponse:
        """Execute one request in a transaction of its own."""
        if request.method == "GET":
            with self.database.read() as session:
                return self.execute(session, tenant, request, base_url=base_url)[0]
        if not may_write:
            raise Forbidden("changing SensorThings data needs the role 'operator'")
        with self.transaction(tenant, base_url) as (session, changes):
            answer, made = self.execute(session, tenant, request, base_url=base_url)
            changes.extend(made)
        return answer

    @contextmanager
    def transaction(
        self, tenant: TenantRef, base_url: str
    ) -> Iterator[tuple[Session, list[Change]]]:
        """A write transaction whose changes are published before it commits.

        Database errors caused by bad values become BadRequest.
        """
        changes: list[Change] = []
        try:
            with self.database.write() as session:
                yield session, changes
                if changes and self.publish is not None:
                    self.publish(session, tenant, changes, base_url)
        except DataError as error:
            raise BadRequest(f"a value does not fit its column: {_reason(error)}") from error
        except IntegrityError as error:
            raise BadRequest(f"the change breaks a rule of the data: {_reason(error)}") from error

    def execute(
        self, session: Session, tenant: TenantRef, request: StaRequest, *, base_url: str
    ) -> tuple[StaResponse, tuple[Change, ...]]:
        """Execute a request inside an open session; the caller commits and notifies."""
        try:
            return self._execute(session, tenant, request, base_url)
        except (QueryError, PathError) as error:
            if isinstance(error, PathError) and error.not_found:
                raise NotFound(str(error)) from error
            raise BadRequest(str(error)) from error
        except DataError as error:
            raise BadRequest(f"a value is out of range: {_reason(error)}") from error

    def _execute(
        self, session: Session, tenant: TenantRef, request: StaRequest, base_url: str
    ) -> tuple[StaResponse, tuple[Change, ...]]:
        now = datetime.now(UTC)
        method = request.method
        if method == "POST" and request.path.strip("/") == CREATE_OBSERVATIONS:
            created, changes = writer.create_observations(session, tenant, request.body, now=now)
            links = [
                item if isinstance(item, str) else f"{base_url}/Observations({item})"
                for item in created
            ]
            return StaResponse(201, links), changes
        path = parse_path(request.path, extensions=method == "GET")
        context = ReadContext(tenant, base_url, self.settings, list(request.query))
        if method == "GET":
            options = parse_query_options(list(request.query))
            document = reader.read(session, context, path, options)
            if document.body is None:
                return StaResponse(204), ()  # the $value of a null property
            headers = {}
            if document.next_link is not None and document.media_type != "application/json":
                # Formats that cannot carry @iot.nextLink in the body (CSV) name it here.
                headers["Link"] = f'<{document.next_link}>; rel="next"'
            return StaResponse(200, document.body, document.media_type, headers), ()
        if path.ref:
            return self._reference(session, tenant, request, path), ()
        if method == "DELETE":
            return StaResponse(200), writer.delete(session, tenant, path)
        if method == "POST":
            written = writer.create(session, tenant, path, request.body, now=now)
            answer = self._entity(session, context, written.entity.set_name, written.id)
            location = answer.body["@iot.selfLink"]
            return StaResponse(201, answer.body, headers={"Location": location}), written.changes
        if method == "PATCH" and request.content_type == JSON_PATCH:
            written = writer.patch_json(session, tenant, path, request.body, now=now)
        elif method in ("PATCH", "PUT"):
            replace = method == "PUT"
            written = writer.update(session, tenant, path, request.body, replace=replace, now=now)
        else:
            raise BadRequest(f"the method {method} is not supported here")
        answer = self._entity(session, context, written.entity.set_name, written.id)
        return answer, written.changes

    def _reference(
        self, session: Session, tenant: TenantRef, request: StaRequest, path: ResourcePath
    ) -> StaResponse:
        if request.method in ("POST", "PUT"):
            writer.add_reference(session, tenant, path, request.body)
            return StaResponse(204 if request.method == "PUT" else 200)
        if request.method == "DELETE":
            writer.delete_reference(session, tenant, path)
            return StaResponse(200)
        raise BadRequest(f"the method {request.method} does not apply to $ref")

    def _entity(
        self, session: Session, context: ReadContext, set_name: str, id_: int
    ) -> StaResponse:
        path = parse_path(f"{set_name}({id_})")
        document = reader.read(session, context, path, parse_query_options([]))
        return StaResponse(200, document.body, document.media_type)


def _reason(error: DataError | IntegrityError) -> str:
    """The database's own first line, without the statement and parameters it echoes."""
    return str(error.orig).splitlines()[0][:200]
