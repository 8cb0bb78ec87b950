"""HTTP adapter of the staff console under `/{tenant}/console/`: login, overview, health.

A console page needs a browser session of the town (or a platform administrator's) with at
least the role viewer; without one it redirects to the login page. The login form exchanges
an API key for the session cookie (core/login.py, as `POST /{tenant}/auth/session` does).
Forms are protected against cross-site requests: the login form by its Origin header (a
browser always sends one with a POST), the others also by the session's CSRF token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from stadtkern.core import login as login_service
from stadtkern.core import sessions
from stadtkern.core.refs import TenantRef
from stadtkern.errors import Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep, credentials_of
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import console_data, console_overview, portal_data
from stadtkern.web.console_gate import Gate, same_origin
from stadtkern.web.console_oidc import login_choices
from stadtkern.web.i18n import choose_language
from stadtkern.web.rendering import render

GEOJSON = "application/geo+json"


def build_console_router(context: ModuleContext) -> APIRouter:
    """The console's pages."""
    router = APIRouter(prefix="/{tenant}/console", tags=["console"], include_in_schema=False)
    gate = Gate(context.platform)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        data = {"staff": None, "error": None, "next": _next(request, tenant)}
        data.update(login_choices(platform))
        return render(request, tenant, "console/login.html", data)

    @router.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        token: str = Form(default="", max_length=4096),
    ) -> Response:
        same_origin(request)
        client = credentials_of(request).client
        try:
            logged_in = login_service.log_in(platform, tenant, client, token.strip())
        except Unauthenticated:
            refused = render(
                request,
                tenant,
                "console/login.html",
                {
                    "staff": None,
                    "error": _message(request, tenant),
                    "next": _next(request, tenant),
                    **login_choices(platform),
                },
            )
            refused.status_code = 401
            return refused
        response = RedirectResponse(_next(request, tenant), status_code=303)
        login_service.set_cookie(response, platform, tenant, logged_in.opened.token)
        return response

    @router.post("/logout")
    def logout(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        csrf: str = Form(default="", max_length=200),
    ) -> Response:
        identity = gate.form_staff(request, tenant, csrf)
        login_service.log_out(
            platform, tenant, request.cookies.get(sessions.COOKIE_NAME), identity.actor
        )
        response = RedirectResponse(f"/{tenant.slug}/console/login", status_code=303)
        login_service.clear_cookie(response, tenant)
        return response

    def shown(
        platform: Any, tenant: TenantRef, kind: str, district: str
    ) -> tuple[list[console_data.Device], list[console_data.Device]]:
        """Every device of the town, and those the filter keeps."""
        with platform.database.read() as session:
            every = console_data.devices(session, tenant.id)
        return every, [
            device
            for device in every
            if (not kind or device.kind == kind) and (not district or device.district == district)
        ]

    @router.get("", response_class=HTMLResponse)
    def overview(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        kind: str = Query(default="", max_length=200),
        district: str = Query(default="", max_length=200),
        page: int = Query(default=1, ge=1, le=100_000),
    ) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                every = console_data.devices(session, tenant.id)
                town = portal_data.town_geojson(session, tenant)
            language = choose_language(request, tenant.locale)
            data = console_overview.overview(every, kind, district, page, language)
            return {**data, "town": console_overview.embedded(town)}

        return gate.page(request, tenant, "console/overview.html", gather)

    @router.get("/devices.geojson")
    def devices_geojson(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        kind: str = "",
        district: str = "",
    ) -> Response:
        if gate.staff(request, tenant)[0] is None:
            raise Unauthenticated("log in to the console first")
        _every, devices = shown(platform, tenant, kind, district)
        return JSONResponse(_geojson(devices), media_type=GEOJSON)

    @router.get("/health", response_class=HTMLResponse)
    def health(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        def gather() -> dict[str, Any]:
            warning = platform.contexts.get("warning")
            with platform.database.read() as session:
                report = console_data.health(
                    session, tenant, datetime.now(UTC), warning.settings if warning else None
                )
            return {"health": report}

        return gate.page(request, tenant, "console/health.html", gather)

    return router


def _geojson(devices: list[console_data.Device]) -> dict[str, Any]:
    return console_data.map_points(
        (
            d.thing_id,
            d.name,
            d.kind,
            d.lon,
            d.lat,
            [(value.stream, value.value, value.unit) for value in d.values],
        )
        for d in devices
    )


def _next(request: Request, tenant: TenantRef) -> str:
    """Where to go after the login: a console path of the same town, else the overview."""
    wanted = request.query_params.get("next", "")
    parts = urlsplit(wanted)
    prefix = f"/{tenant.slug}/console"
    if parts.scheme or parts.netloc or not parts.path.startswith(prefix):
        return prefix
    return parts.path


def _message(request: Request, tenant: TenantRef) -> str:
    from stadtkern.web.i18n import choose_language, translations

    language = choose_language(request, tenant.locale)
    _ = translations(language).gettext
    return _("The key is not valid for this town, has expired or was revoked.")
