"""HTTP adapter of a Datastream's console page: chart, table and downloads of a range."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from stadtkern.errors import Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import stream_data, stream_files
from stadtkern.web.console_gate import Gate


def build_stream_router(context: ModuleContext) -> APIRouter:
    """`/{tenant}/console/datastreams/{id}` and its series and downloads."""
    router = APIRouter(
        prefix="/{tenant}/console/datastreams", tags=["console"], include_in_schema=False
    )
    gate = Gate(context.platform)

    def span_of(request: Request) -> str:
        return stream_data.range_of(request.query_params.get("range"))

    def staff_only(request: Request, tenant: Any) -> None:
        if gate.staff(request, tenant)[0] is None:
            raise Unauthenticated("log in to the console first")

    @router.get("/{datastream_id}", response_class=HTMLResponse)
    def show(
        datastream_id: int, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        span = span_of(request)

        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                info = stream_data.stream_info(session, tenant.id, datastream_id)
                rows = stream_data.series(session, datastream_id, span, datetime.now(UTC))
            return {"info": info, "rows": rows, "span": span, "spans": list(stream_data.RANGES)}

        return gate.page(request, tenant, "console/stream.html", gather)

    @router.get("/{datastream_id}/series.json")
    def series_json(
        datastream_id: int, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> JSONResponse:
        staff_only(request, tenant)
        span = span_of(request)
        with platform.database.read() as session:
            info = stream_data.stream_info(session, tenant.id, datastream_id)
            rows = stream_data.series(session, datastream_id, span, datetime.now(UTC))
        return JSONResponse(stream_data.series_body(info, rows))

    @router.get("/{datastream_id}/observations.{suffix}")
    def download(
        datastream_id: int, suffix: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        staff_only(request, tenant)
        stream_files.check_format(suffix)
        span = span_of(request)
        length = stream_data.RANGES[span][0]
        now = datetime.now(UTC)
        with platform.database.read() as session:
            info = stream_data.stream_info(session, tenant.id, datastream_id)
            rows = stream_data.observations(session, datastream_id, now - length, now)
        name = f"datastream-{datastream_id}-{span}.{suffix}"
        return stream_files.observations_file(info, rows, suffix, name)

    return router
