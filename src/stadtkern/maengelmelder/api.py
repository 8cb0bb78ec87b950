"""The Mängelmelder's HTTP routes: the Open311 GeoReport v2 API, the area feed and the
staff API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from stadtkern.core.api import PUBLIC
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.http.problems import responses
from stadtkern.maengelmelder import search
from stadtkern.maengelmelder.api_open311 import base_url, build_open311_router
from stadtkern.maengelmelder.api_staff import build_staff_router
from stadtkern.maengelmelder.feed import ATOM_MEDIA_TYPE, reports_feed
from stadtkern.maengelmelder.open311_http import parse_bbox, parse_list
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.modules.contract import ModuleContext


def build_feed_router(settings: MaengelmelderSettings) -> APIRouter:
    """`/{tenant}/open311/feed.atom`: the newest reports of an area as Atom."""
    router = APIRouter(prefix="/{tenant}/open311", tags=["open311"])

    @router.get(
        "/feed.atom",
        summary="Reports of an area as an Atom feed",
        response_class=Response,
        responses=responses(404, 422),
        openapi_extra=PUBLIC,
    )
    def feed(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        bbox: Annotated[str | None, Query(description="west,south,east,north")] = None,
        service_code: Annotated[str | None, Query(description="comma list")] = None,
    ) -> Response:
        """The 50 newest reports of the area (of the last `default_window_days` days)."""
        query = search.RequestQuery(bbox=parse_bbox(bbox), service_codes=parse_list(service_code))
        base = base_url(request, tenant)
        with platform.database.read() as session:
            found = search.search_reports(
                session=session,
                tenant=tenant,
                query=query,
                window_days=settings.default_window_days,
            )
        body = reports_feed(
            found,
            feed_id=f"{base}/feed.atom",
            title=f"Mängelmelder: {tenant.name}",
            self_url=str(request.url),
            link_of=f"{base}/requests/{{id}}.json",
            updated=datetime.now(UTC),
        )
        return Response(body, media_type=ATOM_MEDIA_TYPE)

    return router


def build_routers(context: ModuleContext) -> list[APIRouter]:
    """Every router of the module."""
    settings = context.settings
    assert isinstance(settings, MaengelmelderSettings)  # noqa: S101 - validated by the platform
    return [build_open311_router(context), build_feed_router(settings), build_staff_router()]
