"""Public HTTP adapter: the town's warning feeds (Atom, JSON) and CAP messages, for apps and
NINA-like consumers. Anyone may read them: warnings are public by nature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from stadtkern.core.api import PUBLIC
from stadtkern.errors import NotFound
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.http.problems import responses
from stadtkern.warning.api_alerts import AlertIdentifier
from stadtkern.warning.cap import CAP_MEDIA_TYPE, CapAlert
from stadtkern.warning.feed import ATOM_MEDIA_TYPE, atom_feed, json_feed
from stadtkern.warning.public_alerts import published_alerts, published_cap


def _published(platform: Any, tenant_id: int, now: datetime, *, exercises: bool) -> list[CapAlert]:
    with platform.database.read() as session:
        return published_alerts(session, tenant_id, now, exercises=exercises)


def build_public_router() -> APIRouter:
    """Routes under `/{tenant}/warning/public`, open to anyone."""
    router = APIRouter(prefix="/{tenant}/warning/public", tags=["warning (public)"])

    def base_of(request: Request, slug: str) -> str:
        return f"{str(request.base_url).rstrip('/')}/{slug}/warning/public"

    @router.get(
        "/feed.atom",
        summary="The town's warnings as an Atom feed",
        response_class=Response,
        responses=responses(404),
        openapi_extra=PUBLIC,
    )
    def feed_atom(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        exercises: Annotated[bool, Query(description="include exercises")] = False,
    ) -> Response:
        """Current warnings and those of the last seven days; each entry links its CAP."""
        now = datetime.now(UTC)
        base = base_of(request, tenant.slug)
        body = atom_feed(
            _published(platform, tenant.id, now, exercises=exercises),
            feed_id=f"{base}/feed.atom",
            title=f"Warnungen: {tenant.name}",
            self_url=str(request.url),
            alternate_url_of=lambda alert: f"{base}/alerts/{alert.identifier}.xml",
            updated=now,
        )
        return Response(body, media_type=ATOM_MEDIA_TYPE)

    @router.get(
        "/feed.json",
        summary="The town's warnings as a JSON feed",
        responses=responses(404),
        openapi_extra=PUBLIC,
    )
    def feed_json(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        exercises: Annotated[bool, Query(description="include exercises")] = False,
    ) -> dict[str, Any]:
        """The same warnings as the Atom feed, with areas as GeoJSON."""
        now = datetime.now(UTC)
        base = base_of(request, tenant.slug)
        return json_feed(
            _published(platform, tenant.id, now, exercises=exercises),
            title=f"Warnungen: {tenant.name}",
            self_url=str(request.url),
            alternate_url_of=lambda alert: f"{base}/alerts/{alert.identifier}.xml",
        )

    @router.get(
        "/alerts/{identifier}.xml",
        summary="A sent alert's CAP 1.2 message",
        response_class=Response,
        responses=responses(404),
        openapi_extra=PUBLIC,
    )
    def public_cap(
        identifier: AlertIdentifier, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        """Exactly the XML that was sent; only real alerts and exercises are public."""
        with platform.database.read() as session:
            xml = published_cap(session, tenant.id, identifier)
        if xml is None:
            raise NotFound(f"no published alert '{identifier}'")
        return Response(xml, media_type=CAP_MEDIA_TYPE)

    return router
