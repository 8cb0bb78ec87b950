"""HTTP adapter of a published environment Datastream in the citizen portal: chart, table,
downloads, no login.

Only Datastreams the environment page publishes are shown (the town reads out its sensor
data as open data, and the Datastream measures one of `environment_properties`); any other
id answers 404, whether it exists or not. Chart, table and files come from the same services
as the console's Datastream page (`stream_data`, `stream_files`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from stadtkern.core.api import PUBLIC
from stadtkern.core.refs import TenantRef
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import portal_data, stream_data, stream_files
from stadtkern.web.rendering import render
from stadtkern.web.settings import WebSettings


def build_portal_stream_router(context: ModuleContext) -> APIRouter:
    """`/{tenant}/portal/environment/{id}` with its series and downloads."""
    router = APIRouter(
        prefix="/{tenant}/portal/environment", tags=["portal"], include_in_schema=False
    )
    settings = context.settings
    assert isinstance(settings, WebSettings)  # noqa: S101 - the module's own settings model

    def read(
        platform: Any, tenant: TenantRef, datastream_id: int, span: str
    ) -> tuple[stream_data.StreamInfo, list[dict[str, Any]]]:
        with platform.database.read() as session:
            info = portal_data.published_stream(session, tenant, settings, datastream_id)
            rows = stream_data.series(session, datastream_id, span, datetime.now(UTC))
        return info, rows

    @router.get("/{datastream_id}", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def show(
        datastream_id: int, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> HTMLResponse:
        span = stream_data.range_of(request.query_params.get("range"))
        info, rows = read(platform, tenant, datastream_id, span)
        data = {"info": info, "rows": rows, "span": span, "formats": ("csv", "parquet")}
        return render(request, tenant, "portal/stream.html", data)

    @router.get("/{datastream_id}/series.json", openapi_extra=PUBLIC)
    def series_json(
        datastream_id: int, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> JSONResponse:
        span = stream_data.range_of(request.query_params.get("range"))
        info, rows = read(platform, tenant, datastream_id, span)
        return JSONResponse(stream_data.series_body(info, rows))

    @router.get("/{datastream_id}/observations.{suffix}", openapi_extra=PUBLIC)
    def download(
        datastream_id: int, suffix: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        stream_files.check_format(suffix)
        span = stream_data.range_of(request.query_params.get("range"))
        length = stream_data.RANGES[span][0]
        now = datetime.now(UTC)
        with platform.database.read() as session:
            info = portal_data.published_stream(session, tenant, settings, datastream_id)
            rows = stream_data.observations(session, datastream_id, now - length, now)
        name = f"{tenant.slug}-{datastream_id}-{span}.{suffix}"
        return stream_files.observations_file(info, rows, suffix, name)

    return router
