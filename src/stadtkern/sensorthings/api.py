"""HTTP adapter of the SensorThings API: `/{tenant}/v1.1/...` onto the dispatcher.

Resource paths such as `Things(1)/Datastreams` are not route templates, so one route per
method takes the whole path and hands it to the dispatcher. Access: reading needs the role
viewer (or the tenant's anonymous read for open data), writing the role operator; HTTP
Basic with the API key as the password works like a bearer token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.roles import ADMIN, OPERATOR, VIEWER
from stadtkern.core.schemas import RequestBody
from stadtkern.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep, get_identity, require
from stadtkern.http.problems import problem, responses
from stadtkern.sensorthings import tenant_settings
from stadtkern.sensorthings.batch import BATCH_PATH, execute_batch
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest, StaResponse
from stadtkern.sensorthings.ingest.pipeline import IngestBusy
from stadtkern.sensorthings.openapi import sensorthings_openapi
from stadtkern.sensorthings.service_root import service_root

VERSION = "v1.1"
CHALLENGE = 'Basic realm="stadtkern", Bearer realm="stadtkern"'
JSON_TYPES = ("application/json", "application/json-patch+json", "")


@dataclass(frozen=True)
class Access:
    """Who calls and whether they may change data."""

    identity: Identity | None
    may_write: bool


async def sta_identity(
    request: Request, platform: PlatformDep, tenant: TenantDep
) -> Identity | None:
    """The caller; refused credentials are challenged with Basic too (STA clients use it)."""
    try:
        return await get_identity(request, platform, tenant)
    except Unauthenticated as error:
        raise Unauthenticated(error.detail, challenge=CHALLENGE) from error


async def reader_access(
    identity: Annotated[Identity | None, Depends(sta_identity)],
    tenant: TenantDep,
    platform: PlatformDep,
) -> Access:
    """Admit viewers of the tenant, and anyone where the tenant publishes open data.

    Which tenants publish open data is kept in memory (`Platform.open_data_tenants`: changed
    at once by this process, re-read from the database by every process twice a minute).
    """
    if identity is None:
        if tenant.slug in platform.open_data_tenants:
            return Access(None, may_write=False)
        raise Unauthenticated(
            "reading this town's SensorThings data needs an API key (Bearer, or Basic with the "
            "key as the password)",
            challenge=CHALLENGE,
        )
    if not identity.platform_admin and identity.tenant_id != tenant.id:
        raise NotFound(f"no tenant '{tenant.slug}'")
    if not identity.has_role(VIEWER):
        raise Forbidden("reading SensorThings data needs the role 'viewer'")
    return Access(identity, may_write=identity.has_role(OPERATOR))


async def writer_access(access: Annotated[Access, Depends(reader_access)]) -> Access:
    """Admit operators of the tenant."""
    if access.identity is None:
        raise Unauthenticated("changing SensorThings data needs an API key", challenge=CHALLENGE)
    if not access.may_write:
        raise Forbidden("changing SensorThings data needs the role 'operator'")
    return access


ReaderDep = Annotated[Access, Depends(reader_access)]
WriterDep = Annotated[Access, Depends(writer_access)]


class SettingsBody(RequestBody):
    """The tenant's SensorThings settings."""

    anonymous_read: bool = Field(
        alias="anonymousRead",
        description="Anyone may read the town's SensorThings data (open data)",
    )


def build_router(dispatcher: Dispatcher, mqtt_endpoint: str) -> APIRouter:
    """The routes of `/{tenant}/v1.1` and `/{tenant}/sensorthings/settings`."""
    router = APIRouter(prefix="/{tenant}", tags=["sensorthings"])

    @router.get(
        "/sensorthings/settings",
        summary="The town's SensorThings settings",
        responses=responses(401, 403, 404),
    )
    def read_settings(
        tenant: TenantDep,
        platform: PlatformDep,
        _admin: Annotated[Identity, Depends(require(ADMIN))],
    ) -> SettingsBody:
        """Whether the data is open for anonymous reading."""
        with platform.database.read() as session:
            enabled = tenant_settings.anonymous_read(session, tenant.id)
        return SettingsBody.model_validate({"anonymousRead": enabled})

    @router.patch(
        "/sensorthings/settings",
        summary="Change the town's SensorThings settings",
        responses=responses(401, 403, 404),
    )
    def change_settings(
        body: SettingsBody,
        tenant: TenantDep,
        platform: PlatformDep,
        admin: Annotated[Identity, Depends(require(ADMIN))],
    ) -> SettingsBody:
        """Open or close the data for anonymous reading (recorded in the audit log)."""
        with platform.database.write() as session:
            tenant_settings.set_anonymous_read(
                session, tenant, body.anonymous_read, actor=admin.actor
            )
        # The broker of this process applies it at once; other processes within a refresh.
        if body.anonymous_read:
            platform.open_data_tenants.add(tenant.slug)
        else:
            platform.open_data_tenants.discard(tenant.slug)
        return body

    @router.get(f"/{VERSION}/openapi.json", include_in_schema=False)
    def openapi(request: Request, tenant: TenantDep) -> Response:
        """The OpenAPI description of this tenant's SensorThings service (public)."""
        document = sensorthings_openapi(_base_url(request, tenant))
        return _respond(StaResponse(200, document))

    @router.get(f"/{VERSION}", include_in_schema=False)
    def root(request: Request, tenant: TenantDep, _access: ReaderDep) -> Response:
        return _respond(StaResponse(200, service_root(_base_url(request, tenant), mqtt_endpoint)))

    @router.get(f"/{VERSION}/{{path:path}}", include_in_schema=False)
    def read(path: str, request: Request, tenant: TenantDep, access: ReaderDep) -> Response:
        if not path.strip("/"):
            return root(request, tenant, access)
        sta = StaRequest("GET", path, list(request.query_params.multi_items()))
        base_url = _base_url(request, tenant)
        return _respond(dispatcher.handle(tenant, sta, base_url=base_url, may_write=False))

    @router.api_route(
        f"/{VERSION}/{{path:path}}",
        methods=["POST", "PATCH", "PUT", "DELETE"],
        include_in_schema=False,
    )
    async def write(path: str, request: Request, tenant: TenantDep, access: ReaderDep) -> Response:
        return await write_sta(dispatcher, path, request, tenant, access)

    return router


async def write_sta(
    dispatcher: Dispatcher, path: str, request: Request, tenant: TenantRef, access: Access
) -> Response:
    """POST, PATCH, PUT or DELETE of a resource path (also the direct route of creating
    Observations, `api_direct`): Observations through the ingest pipeline where it takes
    them, everything else through the dispatcher in a worker thread."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    base_url = _base_url(request, tenant)
    if path.strip("/") == BATCH_PATH and request.method == "POST":
        answer = await execute_batch(
            dispatcher,
            tenant,
            body,
            request.headers.get("content-type", ""),
            base_url=base_url,
            may_write=access.may_write,
        )
        return _respond(answer)
    await writer_access(access)
    sta = StaRequest(
        request.method,
        path,
        list(request.query_params.multi_items()),
        parse_json(body, content_type) if body or request.method != "DELETE" else None,
        content_type or "application/json",
    )
    try:
        fast = await dispatcher.create_fast(tenant, sta, base_url=base_url)
    except IngestBusy as busy:
        return problem(
            busy.status,
            busy.detail,
            instance=request.url.path,
            headers={"Retry-After": str(busy.retry_after)},
        )
    if fast is not None:
        return _respond(fast)  # committed: the ingest pipeline answers after the commit
    answer = await to_thread.run_sync(
        lambda: dispatcher.handle(tenant, sta, base_url=base_url, may_write=True)
    )
    return _respond(answer)


def parse_json(body: bytes, content_type: str) -> Any:
    """A JSON request body; 400 for anything else (no NaN, no Infinity, UTF-8 only)."""
    if content_type not in JSON_TYPES:
        raise BadRequest(f"the body must be JSON, not {content_type!r}")
    if not body.strip():
        raise BadRequest("the request needs a JSON body")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from error


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _base_url(request: Request, tenant: TenantRef) -> str:
    return f"{str(request.base_url).rstrip('/')}/{tenant.slug}/{VERSION}"


def _respond(answer: StaResponse) -> Response:
    if answer.body is None:
        return Response(status_code=answer.status, headers=answer.headers)
    if isinstance(answer.body, str | bytes):
        content: str | bytes = answer.body
    else:
        content = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":"))
    return Response(
        content, status_code=answer.status, media_type=answer.media_type, headers=answer.headers
    )
