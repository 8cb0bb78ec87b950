"""HTTP adapter of the lantern register, zones, area previews and readiness.

Reading needs the role viewer; changing lanterns and zones needs operator; an area preview
needs warning_issuer or operator. Lanterns are written in a SensorThings transaction, so
their Things appear (and are announced to subscribers) with them or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status

from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.roles import OPERATOR, VIEWER
from stadtkern.errors import Forbidden, NotFound, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep, get_identity, require
from stadtkern.http.problems import responses
from stadtkern.modules.contract import ModuleContext
from stadtkern.sensorthings.api import VERSION
from stadtkern.sensorthings.dispatch import Dispatcher
from stadtkern.sensorthings.wiring import dispatcher_of
from stadtkern.warning import ISSUER, areas, readiness, register, register_import, zones
from stadtkern.warning import register_schemas as schemas
from stadtkern.warning.register_things import register_transaction
from stadtkern.warning.settings import WarningSettings

ViewerDep = Annotated[Identity, Depends(require(VIEWER))]
OperatorDep = Annotated[Identity, Depends(require(OPERATOR))]
LanternCode = Annotated[str, Path(pattern=schemas.CODE.pattern, description="Lantern code")]
ZoneKey = Annotated[str, Path(pattern=zones.ZONE_KEY.pattern, description="Zone key")]
IMPORT_TYPES = (*register_import.GEOJSON_TYPES, register_import.CSV_TYPE)
_IMPORT_BODY = {
    "required": True,
    "description": "A GeoJSON FeatureCollection of Points, or CSV with the header "
    + ",".join(register_import.CSV_COLUMNS),
    "content": {
        "application/geo+json": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}},
        "text/csv": {"schema": {"type": "string"}},
    },
}


def require_any(*roles: str) -> Callable[..., Awaitable[Identity]]:
    """A dependency that admits callers of the path's tenant holding any of `roles`."""

    async def dependency(
        identity: Annotated[Identity | None, Depends(get_identity)], tenant: TenantDep
    ) -> Identity:
        if identity is None:
            raise Unauthenticated("this resource needs an API key, OIDC token or session")
        if not identity.platform_admin and identity.tenant_id != tenant.id:
            raise NotFound(f"no tenant '{tenant.slug}'")
        if not any(identity.has_role(role) for role in roles):
            raise Forbidden(f"this action needs one of the roles {', '.join(roles)}")
        return identity

    dependency.__name__ = "require_" + "_or_".join(roles)
    return dependency


def sta_base_url(request: Request, tenant: TenantRef) -> str:
    """The base of the tenant's SensorThings links, as the SensorThings API writes them."""
    return f"{str(request.base_url).rstrip('/')}/{tenant.slug}/{VERSION}"


def build_register_router(context: ModuleContext) -> APIRouter:
    """The routes of `/{tenant}/warning/{lanterns,zones,areas/preview,readiness}`."""
    router = APIRouter(
        prefix="/{tenant}/warning", tags=["warning"], responses=responses(401, 403, 404, 429)
    )
    settings = context.settings
    assert isinstance(settings, WarningSettings)  # noqa: S101 - the platform validated it

    def dispatcher() -> Dispatcher:
        return dispatcher_of(context.platform.contexts["sensorthings"])

    def now() -> datetime:
        return datetime.now(UTC)

    @router.get("/lanterns", summary="List lanterns")
    def list_lanterns(
        platform: PlatformDep,
        tenant: TenantDep,
        _viewer: ViewerDep,
        district: Annotated[str | None, Query(max_length=120, pattern=r"^[^\x00]*$")] = None,
        bbox: Annotated[
            str | None, Query(max_length=200, description="minLon,minLat,maxLon,maxLat")
        ] = None,
        lantern_status: Annotated[readiness.Status | None, Query(alias="status")] = None,
        after: Annotated[
            str | None,
            Query(pattern=schemas.CODE.pattern, description="Continue after this code"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=schemas.MAX_LIST)] = 1000,
    ) -> list[schemas.LanternPublic]:
        """The town's lanterns by code, with their status; filters combine."""
        lantern_filter = schemas.LanternFilter(
            district=district,
            bbox=schemas.parse_bbox(bbox) if bbox is not None else None,
            status=lantern_status,
            after=after,
            limit=limit,
        )
        with platform.database.read() as session:
            found = register.list_lanterns(
                session=session,
                tenant=tenant,
                lantern_filter=lantern_filter,
                now=now(),
                settings=settings,
            )
            return [schemas.to_public(lantern, state) for lantern, state in found]

    @router.post(
        "/lanterns",
        status_code=status.HTTP_201_CREATED,
        summary="Register a lantern",
        responses=responses(409, 422),
    )
    def create_lantern(
        body: schemas.LanternInput,
        request: Request,
        response: Response,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
    ) -> schemas.LanternPublic:
        """Register a lantern with its SensorThings Thing (Location, Datastreams, Tasking)."""
        with register_transaction(dispatcher(), tenant, sta_base_url(request, tenant)) as (
            session,
            writer,
        ):
            lantern = register.create_lantern(
                session=session,
                writer=writer,
                tenant=tenant,
                lantern_input=body,
                actor=operator.actor,
            )
            public = schemas.to_public(lantern, readiness.lantern_status(lantern, now(), settings))
        response.headers["Location"] = f"/{tenant.slug}/warning/lanterns/{public.code}"
        return public

    @router.post(
        "/lanterns/import",
        summary="Register lanterns from GeoJSON or CSV",
        responses=responses(400, 415, 422),
        openapi_extra={"requestBody": _IMPORT_BODY},
    )
    async def import_lanterns(
        request: Request,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
        dry_run: Annotated[bool, Query(alias="dryRun")] = False,
        mode: Annotated[register_import.ImportMode, Query()] = "createOnly",
    ) -> dict[str, Any]:
        """Check every row, then register all of them or none (422 with the report)."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in IMPORT_TYPES:
            raise HTTPException(415, f"send one of {', '.join(IMPORT_TYPES)}")
        body = await request.body()
        base_url = sta_base_url(request, tenant)

        def run() -> dict[str, Any]:
            arguments: dict[str, Any] = {
                "tenant": tenant,
                "body": body,
                "media_type": media_type,
                "mode": mode,
                "actor": operator.actor,
            }
            if dry_run:
                with platform.database.read() as session:
                    return register_import.import_lanterns(
                        session=session, writer=None, **arguments
                    )
            with register_transaction(dispatcher(), tenant, base_url) as (session, writer):
                return register_import.import_lanterns(session=session, writer=writer, **arguments)

        return await to_thread.run_sync(run)

    @router.get("/lanterns/{code}", summary="Show a lantern")
    def show_lantern(
        code: LanternCode, platform: PlatformDep, tenant: TenantDep, _viewer: ViewerDep
    ) -> schemas.LanternPublic:
        """One lantern with its status and last health report."""
        with platform.database.read() as session:
            lantern = register.get_lantern(session=session, tenant=tenant, code=code)
            return schemas.to_public(lantern, readiness.lantern_status(lantern, now(), settings))

    @router.patch("/lanterns/{code}", summary="Change a lantern", responses=responses(422))
    def update_lantern(
        code: LanternCode,
        body: schemas.LanternUpdate,
        request: Request,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
    ) -> schemas.LanternPublic:
        """Change register fields; a new place moves the Thing (a HistoricalLocation)."""
        with register_transaction(dispatcher(), tenant, sta_base_url(request, tenant)) as (
            session,
            writer,
        ):
            lantern = register.update_lantern(
                session=session,
                writer=writer,
                tenant=tenant,
                code=code,
                lantern_update=body,
                actor=operator.actor,
            )
            return schemas.to_public(lantern, readiness.lantern_status(lantern, now(), settings))

    @router.delete(
        "/lanterns/{code}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a lantern"
    )
    def delete_lantern(
        code: LanternCode,
        request: Request,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
    ) -> Response:
        """Remove a lantern with its Thing and its deliveries."""
        with register_transaction(dispatcher(), tenant, sta_base_url(request, tenant)) as (
            session,
            writer,
        ):
            register.delete_lantern(
                session=session, writer=writer, tenant=tenant, code=code, actor=operator.actor
            )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/zones", summary="List warning zones")
    def list_zones(
        platform: PlatformDep, tenant: TenantDep, _viewer: ViewerDep
    ) -> list[zones.ZonePublic]:
        """The town's zones by key."""
        with platform.database.read() as session:
            return [zones.to_public(z) for z in zones.list_zones(session=session, tenant=tenant)]

    @router.post(
        "/zones",
        status_code=status.HTTP_201_CREATED,
        summary="Add a warning zone",
        responses=responses(409, 422),
    )
    def create_zone(
        body: zones.ZoneInput,
        response: Response,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
    ) -> zones.ZonePublic:
        """A district or a drawn area; invalid geometry is refused, not repaired."""
        with platform.database.write() as session:
            zone = zones.create_zone(
                session=session, tenant=tenant, zone_input=body, actor=operator.actor
            )
            public = zones.to_public(zone)
        response.headers["Location"] = f"/{tenant.slug}/warning/zones/{public.key}"
        return public

    @router.get("/zones/{key}", summary="Show a warning zone")
    def show_zone(
        key: ZoneKey, platform: PlatformDep, tenant: TenantDep, _viewer: ViewerDep
    ) -> zones.ZonePublic:
        """One zone with its geometry."""
        with platform.database.read() as session:
            return zones.to_public(zones.get_zone(session=session, tenant=tenant, key=key))

    @router.put("/zones/{key}", summary="Replace a warning zone", responses=responses(409, 422))
    def replace_zone(
        key: ZoneKey,
        body: zones.ZoneReplace,
        platform: PlatformDep,
        tenant: TenantDep,
        operator: OperatorDep,
    ) -> zones.ZonePublic:
        """New name, kind, regional key and geometry for an existing zone."""
        with platform.database.write() as session:
            zone = zones.replace_zone(
                session=session, tenant=tenant, key=key, zone_replace=body, actor=operator.actor
            )
            return zones.to_public(zone)

    @router.delete(
        "/zones/{key}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a warning zone"
    )
    def delete_zone(
        key: ZoneKey, platform: PlatformDep, tenant: TenantDep, operator: OperatorDep
    ) -> Response:
        """Remove a zone; alerts already sent keep their area."""
        with platform.database.write() as session:
            zones.delete_zone(session=session, tenant=tenant, key=key, actor=operator.actor)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/areas/preview", summary="Preview an alert area", responses=responses(422))
    def preview_area(
        body: areas.AreaSpec,
        platform: PlatformDep,
        tenant: TenantDep,
        _caller: Annotated[Identity, Depends(require_any(ISSUER, OPERATOR))],
    ) -> dict[str, Any]:
        """Which lanterns an alert to this area would reach, how many are ready, and a map."""
        with platform.database.read() as session:
            return areas.preview(session, tenant, body, now(), settings)

    @router.get("/readiness", summary="Readiness of the lanterns")
    def show_readiness(
        platform: PlatformDep, tenant: TenantDep, _viewer: ViewerDep
    ) -> dict[str, Any]:
        """How many lanterns would sound now: in the whole town and per zone."""
        with platform.database.read() as session:
            return readiness.readiness_report(session, tenant, now(), settings)

    return router
