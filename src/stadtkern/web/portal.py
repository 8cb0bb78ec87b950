"""HTTP adapter of the citizen portal: public pages under `/{tenant}/portal/`, no login."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from stadtkern.core.api import PUBLIC
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.sensorthings.csv_ import spreadsheet_safe
from stadtkern.web import portal_data
from stadtkern.web.parquet_ import MEDIA_TYPE as PARQUET
from stadtkern.web.parquet_ import readings_parquet
from stadtkern.web.rendering import render
from stadtkern.web.settings import WebSettings

GEOJSON = "application/geo+json"


def build_portal_router(context: ModuleContext) -> APIRouter:
    """The portal's pages and the data its map draws."""
    router = APIRouter(prefix="/{tenant}/portal", tags=["portal"], include_in_schema=False)
    settings = context.settings
    assert isinstance(settings, WebSettings)  # noqa: S101 - the module's own settings model

    def page(path: str, name: str) -> None:
        @router.get(path, response_class=HTMLResponse, openapi_extra=PUBLIC, name=name)
        def show(request: Request, tenant: TenantDep, platform: PlatformDep) -> HTMLResponse:
            with platform.database.read() as session:
                data = _page_data(name, session, tenant, request, settings)
            return render(request, tenant, f"portal/{name}.html", data)

    page("", "start")
    page("/warnings", "warnings")
    page("/environment", "environment")
    page("/accessibility", "accessibility")
    page("/privacy", "privacy")

    @router.get("/town.geojson", openapi_extra=PUBLIC)
    def town(tenant: TenantDep, platform: PlatformDep) -> JSONResponse:
        """Boundary and districts: the offline base layer of the portal's maps."""
        with platform.database.read() as session:
            body = portal_data.town_geojson(session, tenant)
        return JSONResponse(body, media_type=GEOJSON)

    @router.get("/environment.geojson", openapi_extra=PUBLIC)
    def environment_geojson(tenant: TenantDep, platform: PlatformDep) -> JSONResponse:
        """The places of the environment map with their latest readings."""
        with platform.database.read() as session:
            places = portal_data.environment(session, tenant, settings) or []
        return JSONResponse(portal_data.places_geojson(places), media_type=GEOJSON)

    @router.get("/environment.csv", openapi_extra=PUBLIC)
    def environment_csv(tenant: TenantDep, platform: PlatformDep) -> Response:
        """The environment readings as CSV (one row per reading)."""
        with platform.database.read() as session:
            places = portal_data.environment(session, tenant, settings) or []
        return Response(
            _csv(places),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{tenant.slug}-umwelt.csv"'},
        )

    @router.get("/environment.parquet", openapi_extra=PUBLIC)
    def environment_parquet(tenant: TenantDep, platform: PlatformDep) -> Response:
        """The environment readings as Parquet (typed columns, units in the metadata)."""
        with platform.database.read() as session:
            places = portal_data.environment(session, tenant, settings) or []
        body = readings_parquet(portal_data.reading_rows(places), town=tenant.slug)
        return Response(
            body,
            media_type=PARQUET,
            headers={"Content-Disposition": f'attachment; filename="{tenant.slug}-umwelt.parquet"'},
        )

    return router


def _page_data(
    name: str, session: Any, tenant: Any, request: Request, settings: WebSettings
) -> dict[str, Any]:
    from stadtkern.web.i18n import choose_language

    language = choose_language(request, tenant.locale)
    if name == "start":
        return {"warnings": portal_data.public_warnings(session, tenant, language)[:3]}
    if name == "warnings":
        return {"warnings": portal_data.public_warnings(session, tenant, language)}
    if name == "environment":
        return {"places": portal_data.environment(session, tenant, settings)}
    return {"settings": settings}


def _csv(places: list[portal_data.Place]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["place", "kind", "lon", "lat", "quantity", "value", "unit", "time"])
    for place in places:
        for reading in place.readings:
            writer.writerow(
                [
                    spreadsheet_safe(place.name),
                    place.kind or "",
                    place.lon,
                    place.lat,
                    spreadsheet_safe(reading.property_name),
                    reading.value,
                    reading.unit_symbol,
                    reading.at.isoformat(),
                ]
            )
    return out.getvalue()
