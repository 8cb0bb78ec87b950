"""The warning console's maps: the town's zones to choose from, and each lantern's answer.

Both are GeoJSON behind the console's session (401 without one), drawn by
`static/js/warning-map.js` over the base map. The checkbox list of zones and the table of
answers on the same pages stay the accessible way to the same facts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stadtkern.core.refs import TenantRef
from stadtkern.errors import Unauthenticated
from stadtkern.geo import geometry_to_geojson
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.warning import states

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from stadtkern.web.console_gate import Gate

GEOJSON = "application/geo+json"
# A delivery's state as the map and its legend group it (received and started both mean
# the lantern has the warning and is playing it).
ANSWERS = {
    states.TARGETED: "waiting",
    states.RECEIVED: "acknowledged",
    states.STARTED: "acknowledged",
    states.FINISHED: "finished",
    states.FAILED: "failed",
    states.REFUSED: "refused",
    states.SILENT: "silent",
}


def zones_geojson(session: Session, tenant: TenantRef) -> dict[str, Any]:
    """The town's zones as features keyed by their key, for choosing them on the map."""
    from stadtkern.warning.zones import list_zones

    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": geometry_to_geojson(zone.geom),
                "properties": {"key": zone.key, "name": zone.name, "kind": zone.kind},
            }
            for zone in list_zones(session=session, tenant=tenant)
            if zone.geom is not None
        ],
    }


def delivery_geojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The lanterns of an alert (rows of `coverage.lantern_report`) with their answer."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": row["geometry"],
                "properties": {
                    "lantern": row["lantern"],
                    "name": row["name"],
                    "state": row["state"],
                    "answer": ANSWERS.get(row["state"], "waiting"),
                },
            }
            for row in rows
            if row.get("geometry")
        ],
    }


def add_map_routes(router: APIRouter, gate: Gate, *, limit: int) -> None:
    """GET `zones.geojson` and `{identifier}/delivery.geojson` on the warning console's router
    (added before its `/{identifier}` page, which would otherwise take `zones.geojson`)."""

    def staff_only(request: Request, tenant: TenantRef) -> None:
        if gate.staff(request, tenant)[0] is None:
            raise Unauthenticated("log in to the console first")

    @router.get("/zones.geojson")
    def zones(request: Request, tenant: TenantDep, platform: PlatformDep) -> JSONResponse:
        staff_only(request, tenant)
        with platform.database.read() as session:
            body = zones_geojson(session, tenant)
        return JSONResponse(body, media_type=GEOJSON)

    @router.get("/{identifier}/delivery.geojson")
    def delivery(
        identifier: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> JSONResponse:
        staff_only(request, tenant)
        from stadtkern.warning.alerts import get_alert
        from stadtkern.warning.coverage import lantern_report

        with platform.database.read() as session:
            alert = get_alert(session, tenant, identifier)
            rows = lantern_report(session, alert, datetime.now(UTC), limit=limit, after=None)
        return JSONResponse(delivery_geojson(rows), media_type=GEOJSON)
