"""The ASGI application: the platform's HTTP face."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from stadtkern import __version__
from stadtkern.http import problems
from stadtkern.http.deps import module_enabled
from stadtkern.http.direct import DirectRoutes
from stadtkern.http.middleware import BodyLimit, RequestContext
from stadtkern.ops import health
from stadtkern.platform import Platform
from stadtkern.settings import Settings


def _module_guard(name: str, router: APIRouter) -> list[Any]:
    """Tenant routes of a module answer 404 for tenants that have not switched it on."""
    tenant_routes = all(
        getattr(route, "path", "").startswith("/{tenant}") for route in router.routes
    )
    if name == "core" or not tenant_routes:
        return []
    return [Depends(module_enabled(name))]


def _telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry instrumentation: off, unless FastAPI is told to export
    (FASTAPI_OTEL_AUTO_CONFIGURE=true). The platform measures with Prometheus (/metrics) and
    logs each request itself; left on, FastAPI looks up the OpenTelemetry providers in the
    environment on every request."""
    wanted = os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true"
    return TelemetryConfig(tracing=wanted, metrics=wanted, logs=wanted)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the platform starts and stops with the ASGI lifespan."""
    platform = Platform(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    app = FastAPI(
        title="Stadtkern",
        version=__version__,
        description="Open-source smart-city platform for municipalities.",
        lifespan=lifespan,
        # The interactive docs load scripts from a CDN; the platform serves nothing from
        # outside, so only the OpenAPI document itself is published.
        docs_url=None,
        redoc_url=None,
        telemetry=_telemetry(),
    )
    app.state.platform = platform
    problems.install(app)
    app.include_router(health.router)
    for module in platform.modules:
        for router in module.routers(platform.contexts[module.name]):
            app.include_router(router, dependencies=_module_guard(module.name, router))
    allowances = [
        allowance
        for module in platform.modules
        for allowance in module.body_allowances(platform.contexts[module.name])
    ]
    direct = [
        route
        for module in platform.modules
        for route in module.direct_routes(platform.contexts[module.name])
    ]
    # Innermost: the direct routes' requests pass the body limit, request ids and metrics.
    app.add_middleware(DirectRoutes, routes=direct, exception_handlers=app.exception_handlers)
    app.add_middleware(BodyLimit, limit=platform.settings.max_body_bytes, allowances=allowances)
    app.add_middleware(RequestContext, registry=platform.registry)
    return app
