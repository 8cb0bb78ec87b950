"""HTTP adapter of a Datastream's console page: chart, table and downloads of a range."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from stadtkern.errors import InvalidInput, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.sensorthings.csv_ import spreadsheet_safe
from stadtkern.web import stream_data
from stadtkern.web.console_gate import Gate


def build_stream_router(context: ModuleContext) -> APIRouter:
    """`/{tenant}/console/datastreams/{id}` and its series and downloads."""
    router = APIRouter(
        prefix="/{tenant}/console/datastreams", tags=["console"], include_in_schema=False
    )
    gate = Gate(context.platform)

    def span_of(request: Request) -> str:
        span = request.query_params.get("range", "day")
        if span not in stream_data.RANGES:
            raise InvalidInput(f"range: one of {', '.join(stream_data.RANGES)}")
        return span

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
        value = [
            {**row, "start": row["start"].isoformat(), "end": row["end"].isoformat()}
            for row in rows
        ]
        return JSONResponse({"name": info.name, "unit": info.unit, "value": value})

    @router.get("/{datastream_id}/observations.{suffix}")
    def download(
        datastream_id: int, suffix: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        staff_only(request, tenant)
        if suffix not in ("csv", "geojson"):
            raise InvalidInput("downloads: observations.csv or observations.geojson")
        span = span_of(request)
        length = stream_data.RANGES[span][0]
        now = datetime.now(UTC)
        with platform.database.read() as session:
            info = stream_data.stream_info(session, tenant.id, datastream_id)
            rows = stream_data.observations(session, datastream_id, now - length, now)
        name = f"datastream-{datastream_id}-{span}.{suffix}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if suffix == "csv":
            return Response(_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        body = {
            "type": "FeatureCollection",
            "name": info.name,
            "features": [
                {
                    "type": "Feature",
                    "geometry": None,
                    "properties": {"phenomenonTime": at.isoformat(), "result": result},
                }
                for at, result in rows
            ],
        }
        return Response(json.dumps(body), media_type="application/geo+json", headers=headers)

    return router


def _csv(rows: list[tuple[datetime, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["phenomenonTime", "result"])
    for at, result in rows:
        value = spreadsheet_safe(result) if isinstance(result, str) else result
        writer.writerow([at.isoformat(), value])
    return out.getvalue()
