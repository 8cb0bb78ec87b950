"""HTTP adapter of the Open311 GeoReport v2 API at `/{tenant}/open311/v2/`, every resource in
JSON and XML (`.json` / `.xml`). Anyone may read; creating requests takes an api_key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from stadtkern.core.api import PUBLIC
from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, NotFound
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.http.problems import responses
from stadtkern.maengelmelder import catalogue, photos, reports, search, workflow
from stadtkern.maengelmelder import open311_format as fmt
from stadtkern.maengelmelder.limits import PostLimiter
from stadtkern.maengelmelder.open311_http import (
    Open311Route,
    check_jurisdiction,
    parse_bbox,
    parse_float,
    parse_ids,
    parse_list,
    parse_time,
    respond,
)
from stadtkern.maengelmelder.open311_post import accept_request
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.modules.contract import ModuleContext

Jurisdiction = Annotated[str | None, Query(max_length=64, description="this town's slug")]
DETAILED = ("received", "in_process", "processed", "rejected")
# Declared for towns without the module (the platform's problem); Open311 errors of the
# endpoint itself are described in docs/maengelmelder.md.
NOT_HERE = responses(404)


def base_url(request: Request, tenant: TenantRef) -> str:
    """The API's root as the client sees it."""
    return f"{str(request.base_url).rstrip('/')}/{tenant.slug}/open311/v2"


def build_open311_router(context: ModuleContext) -> APIRouter:
    """Every Open311 resource, once per format."""
    settings = context.settings
    assert isinstance(settings, MaengelmelderSettings)  # noqa: S101 - validated by the platform
    limiter = PostLimiter(limit=settings.posts_per_window, window=settings.post_window_seconds)
    router = APIRouter(prefix="/{tenant}/open311/v2", tags=["open311"], route_class=Open311Route)
    for kind in ("json", "xml"):
        _routes(router, kind, settings, limiter)

    @router.get(
        "/media/{media_key}.jpg",
        summary="A report's photo",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def media(media_key: str, tenant: TenantDep, platform: PlatformDep) -> Response:
        """The re-encoded photo (JPEG, without EXIF or GPS)."""
        with platform.database.read() as session:
            photo = photos.get_photo(session=session, tenant=tenant, key=media_key)
            content, media_type = photo.content, photo.media_type
        return Response(
            content,
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    return router


def _routes(
    router: APIRouter, kind: str, settings: MaengelmelderSettings, limiter: PostLimiter
) -> None:
    @router.get(
        f"/discovery.{kind}",
        summary=f"Discovery ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def discovery(request: Request, tenant: TenantDep) -> Response:
        """Where this town's endpoint is and what it speaks."""
        body = {
            "changeset": "2027-01-10T00:00:00+00:00",
            "contact": f"{tenant.name}: see {base_url(request, tenant)}/../../",
            "key_service": f"API keys: ask {tenant.name} (role 'open311_client')",
            "endpoints": [
                {
                    "specification": fmt.SPEC_URL,
                    "url": base_url(request, tenant),
                    "changeset": "2027-01-10T00:00:00+00:00",
                    "type": "production",
                    "formats": [fmt.XML_TYPE, fmt.JSON_TYPE],
                }
            ],
        }
        return respond(kind, "discovery", None, body)

    @router.get(
        f"/services.{kind}", summary=f"Services ({kind})", openapi_extra=PUBLIC, responses=NOT_HERE
    )
    def services(
        tenant: TenantDep, platform: PlatformDep, jurisdiction_id: Jurisdiction = None
    ) -> Response:
        """The categories citizens can report."""
        check_jurisdiction(jurisdiction_id, tenant.slug)
        with platform.database.read() as session:
            found = catalogue.list_categories(session=session, tenant=tenant, active_only=True)
            body = [fmt.service(category) for category in found]
        return respond(kind, "services", "service", body)

    @router.get(
        f"/services/{{service_code}}.{kind}",
        summary=f"Service definition ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def definition(
        service_code: str,
        tenant: TenantDep,
        platform: PlatformDep,
        jurisdiction_id: Jurisdiction = None,
    ) -> Response:
        """The questions (attributes) a category asks."""
        check_jurisdiction(jurisdiction_id, tenant.slug)
        with platform.database.read() as session:
            category = catalogue.get_category(session=session, tenant=tenant, code=service_code)
            body = fmt.service_definition(category)
        return respond(kind, "service_definition", None, body)

    @router.post(
        f"/requests.{kind}",
        summary=f"Create a request ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    async def create(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        """A new service request, form-encoded (multipart with a `media` photo)."""
        check_jurisdiction(request.query_params.get("jurisdiction_id"), tenant.slug)
        accepted = await accept_request(
            request, platform=platform, tenant=tenant, settings=settings, limiter=limiter
        )
        body = [
            {
                "service_request_id": str(accepted.service_request_id),
                "token": accepted.token,
                "service_notice": None,
                "account_id": None,
            }
        ]
        return respond(kind, "service_requests", "request", body)

    @router.get(
        f"/tokens/{{token}}.{kind}",
        summary=f"Request id of a token ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def token(
        token: str, tenant: TenantDep, platform: PlatformDep, jurisdiction_id: Jurisdiction = None
    ) -> Response:
        """The service request a POST's token stands for."""
        check_jurisdiction(jurisdiction_id, tenant.slug)
        with platform.database.read() as session:
            found = reports.find_by_token(session=session, tenant=tenant, token=token)
        body = [{"service_request_id": str(found), "token": token}]
        return respond(kind, "service_requests", "request", body)

    @router.get(
        f"/requests.{kind}",
        summary=f"Search requests ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def requests_(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        """Requests by the standard filters and the German cities' extensions."""
        params = request.query_params
        check_jurisdiction(params.get("jurisdiction_id"), tenant.slug)
        query = _query(params)
        extensions = params.get("extensions", "").lower() == "true"
        base = base_url(request, tenant)
        with platform.database.read() as session:
            found = search.search_reports(
                session=session,
                tenant=tenant,
                query=query,
                window_days=settings.default_window_days,
            )
            body = [fmt.request(view, f"{base}/media", extensions=extensions) for view in found]
        return respond(kind, "service_requests", "request", body)

    @router.get(
        f"/requests/{{service_request_id}}.{kind}",
        summary=f"One request ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def one(
        request: Request,
        service_request_id: str,
        tenant: TenantDep,
        platform: PlatformDep,
        jurisdiction_id: Jurisdiction = None,
        extensions: bool = False,
    ) -> Response:
        """One service request (as a list of one, as the standard has it)."""
        check_jurisdiction(jurisdiction_id, tenant.slug)
        if not service_request_id.isdigit() or len(service_request_id) > 18:
            raise NotFound(f"no service request '{service_request_id}'")
        report_id = int(service_request_id)
        with platform.database.read() as session:
            view = reports.get_report(session=session, tenant=tenant, report_id=report_id)
            body = [fmt.request(view, f"{base_url(request, tenant)}/media", extensions=extensions)]
        return respond(kind, "service_requests", "request", body)

    @router.get(
        f"/servicerequestupdates.{kind}",
        summary=f"Public updates of requests ({kind})",
        openapi_extra=PUBLIC,
        responses=NOT_HERE,
    )
    def updates(
        tenant: TenantDep,
        platform: PlatformDep,
        start_date: str | None = None,
        end_date: str | None = None,
        jurisdiction_id: Jurisdiction = None,
    ) -> Response:
        """Status changes and public notes in a time range, oldest first (FixMyStreet)."""
        check_jurisdiction(jurisdiction_id, tenant.slug)
        start, end = parse_time(start_date, "start_date"), parse_time(end_date, "end_date")
        with platform.database.read() as session:
            found = workflow.public_updates(session=session, tenant=tenant, start=start, end=end)
            body = [fmt.request_update(update, report.id) for update, report in found]
        return respond(kind, "service_request_updates", "request_update", body)


def _query(params: object) -> search.RequestQuery:
    get = params.get  # type: ignore[attr-defined]
    statuses = tuple(s.lower() for s in parse_list(get("status")))
    detailed = tuple(s.lower() for s in parse_list(get("detailed_status")))
    for value in statuses:
        if value not in ("open", "closed", *DETAILED):
            raise InvalidInput(f"status '{value}' is not open, closed or an extended status")
    for value in detailed:
        if value not in DETAILED:
            raise InvalidInput(f"detailed_status '{value}' is not one of {', '.join(DETAILED)}")
    lat, lon = parse_float(get("lat"), "lat"), parse_float(get("long"), "long")
    near = None
    if (lat is None) != (lon is None):
        raise InvalidInput("lat and long come together")
    if lat is not None and lon is not None:
        radius = parse_float(get("radius"), "radius") or 1000.0
        near = (lat, lon, radius)
    return search.RequestQuery(
        ids=parse_ids(get("service_request_id")),
        service_codes=parse_list(get("service_code")),
        start=parse_time(get("start_date"), "start_date"),
        end=parse_time(get("end_date"), "end_date"),
        statuses=tuple(s for s in statuses if s in ("open", "closed")),
        detailed=(*detailed, *(s for s in statuses if s in DETAILED)),
        bbox=parse_bbox(get("bbox")),
        near=near,
        q=(get("q") or "").strip()[:200],
        updated_after=parse_time(get("updated_after"), "updated_after"),
        page=_int(get("page"), "page", 1),
        page_size=_int(get("page_size"), "page_size", 50),
    )


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput(f"{name} must be a whole number")
    return int(value)
