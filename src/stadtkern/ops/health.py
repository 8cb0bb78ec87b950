"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stadtkern.db.migrations import SchemaOutOfDate, check_current
from stadtkern.http.deps import PlatformDep
from stadtkern.http.problems import problem, responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", response_model=None, responses=responses(503))
def readyz(platform: PlatformDep) -> JSONResponse | dict[str, object]:
    """Database reachable, schema current, broker connected; 503 with the reasons otherwise."""
    checks: dict[str, str] = {}
    try:
        platform.database.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            check_current(platform.database, platform.installed)
            checks["schema"] = "ok"
        except SchemaOutOfDate as exc:
            checks["schema"] = str(exc)
    checks["broker"] = "ok" if platform.mqtt.connected else "not connected"
    if platform.stopping:
        checks["lifecycle"] = "shutting down"
    if all(value == "ok" for value in checks.values()):
        return {"status": "ready", "checks": checks}
    return problem(503, "the platform is not ready", title="Not ready", checks=checks)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(platform: PlatformDep) -> Response:
    """Metrics in the Prometheus text format."""
    return Response(generate_latest(platform.registry), media_type=CONTENT_TYPE_LATEST)
