"""HTTP adapter of the warning console under `/{tenant}/console/warnings`.

Compose an exercise or a real alert for zones chosen from a list or on a map, preview the
lanterns it reaches, approve or reject as the second person, follow the delivery lantern by
lantern (the page refreshes its delivery part every two seconds; a map shows each answer,
see warning_map.py), and stop an alert with one click (cancel or all-clear). Every action
goes through the warning module's services, which enforce the roles and the two-person rule;
this adapter only turns forms into their inputs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from stadtkern.core.refs import TenantRef
from stadtkern.errors import StadtkernError
from stadtkern.http.deps import PlatformDep, TenantDep, module_enabled
from stadtkern.modules.contract import ModuleContext
from stadtkern.web.console_gate import Gate
from stadtkern.web.rendering import render
from stadtkern.web.warning_forms import alert_input, form_values, problems_of
from stadtkern.web.warning_map import add_map_routes

LIST_LIMIT = 50
DELIVERY_ROWS = 2000


def build_warning_console_router(context: ModuleContext) -> APIRouter:
    """The warning console's pages and forms."""
    router = APIRouter(
        prefix="/{tenant}/console/warnings",
        tags=["console"],
        include_in_schema=False,
        dependencies=[Depends(module_enabled("warning"))],
    )
    gate = Gate(context.platform)
    add_map_routes(router, gate, limit=DELIVERY_ROWS)

    def env() -> Any:
        from stadtkern.warning.wiring import env_of

        return env_of(context.platform.contexts["warning"])

    @router.get("", response_class=HTMLResponse)
    def overview(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        def gather() -> dict[str, Any]:
            from stadtkern.warning.models import Alert

            with platform.database.read() as session:
                rows = list(
                    session.scalars(
                        select(Alert)
                        .where(Alert.tenant_id == tenant.id)
                        .order_by(Alert.created_at.desc(), Alert.id.desc())
                        .limit(LIST_LIMIT)
                    )
                )
            return {
                "pending": [a for a in rows if a.state == "pending_approval"],
                "active": [a for a in rows if a.state == "active" and a.msg_type != "Cancel"],
                "recent": rows,
            }

        return gate.page(request, tenant, "console/warnings.html", gather)

    @router.get("/new", response_class=HTMLResponse)
    def new(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        status = "Actual" if request.query_params.get("status") == "Actual" else "Exercise"
        return gate.page(
            request,
            tenant,
            "console/warning_new.html",
            lambda: _compose_data(platform, tenant, {"status": status}, problems=[], preview=None),
        )

    @router.post("/new", response_class=HTMLResponse)
    async def create(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        form = await request.form()
        values = form_values(form)
        who = gate.form_staff(request, tenant, values.get("csrf", ""))
        now = datetime.now(UTC)
        try:
            body = alert_input(values)
        except ValidationError as error:
            return _again(request, tenant, platform, values, problems_of(error), None, 422)
        if values.get("action") == "preview":
            from stadtkern.warning.areas import preview

            with platform.database.read() as session:
                reached = preview(session, tenant, body.area, now, env().settings)
            return _again(request, tenant, platform, values, [], reached, 200)
        from stadtkern.warning import alerts

        try:
            with platform.database.write() as session:
                alert, _created = alerts.create(session, tenant, body, who, env(), now)
                identifier = alert.identifier
        except StadtkernError as error:
            return _again(request, tenant, platform, values, [error.detail], None, error.status)
        return RedirectResponse(f"/{tenant.slug}/console/warnings/{identifier}", status_code=303)

    def _again(
        request: Request,
        tenant: TenantRef,
        platform: Any,
        values: dict[str, Any],
        problems: list[str],
        preview: dict[str, Any] | None,
        status: int,
    ) -> Response:
        response = gate.page(
            request,
            tenant,
            "console/warning_new.html",
            lambda: _compose_data(platform, tenant, values, problems=problems, preview=preview),
            form_csrf=values.get("csrf", ""),
        )
        response.status_code = status
        return response

    @router.get("/{identifier}", response_class=HTMLResponse)
    def detail(
        identifier: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        return gate.page(
            request,
            tenant,
            "console/warning_detail.html",
            lambda: _detail_data(platform, tenant, identifier),
        )

    @router.get("/{identifier}/delivery", response_class=HTMLResponse)
    def delivery(
        identifier: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        if gate.staff(request, tenant)[0] is None:
            return Response(status_code=401)
        data = _detail_data(platform, tenant, identifier)
        return render(request, tenant, "console/warning_delivery.html", data)

    @router.post("/{identifier}/{action}", response_class=HTMLResponse)
    async def act(
        identifier: str, action: str, request: Request, tenant: TenantDep, platform: PlatformDep
    ) -> Response:
        form = await request.form()
        who = gate.form_staff(request, tenant, str(form.get("csrf", "")))
        from stadtkern.warning import alerts

        if action not in alerts.ACTIONS:
            return Response(status_code=404)

        now = datetime.now(UTC)
        reason = str(form.get("reason", ""))[:500]
        try:
            with platform.database.write() as session:
                alerts.act(session, tenant, identifier, action, who, env(), now, reason=reason)
        except StadtkernError as error:
            problem, status = error.detail, error.status
            response = gate.page(
                request,
                tenant,
                "console/warning_detail.html",
                lambda: {**_detail_data(platform, tenant, identifier), "problem": problem},
                form_csrf=str(form.get("csrf", "")),
            )
            response.status_code = status
            return response
        return RedirectResponse(f"/{tenant.slug}/console/warnings/{identifier}", status_code=303)

    return router


def _compose_data(
    platform: Any,
    tenant: TenantRef,
    values: dict[str, Any],
    *,
    problems: list[str],
    preview: dict[str, Any] | None,
) -> dict[str, Any]:
    from stadtkern.warning.zones import list_zones

    with platform.database.read() as session:
        zones = [(zone.key, zone.name) for zone in list_zones(session=session, tenant=tenant)]
    return {
        "zones": zones,
        "values": values,
        "real": values.get("status") == "Actual",
        "problems": problems,
        "preview": preview,
    }


def _detail_data(platform: Any, tenant: TenantRef, identifier: str) -> dict[str, Any]:
    from stadtkern.warning.alerts import get_alert
    from stadtkern.warning.coverage import coverage, lantern_report

    now = datetime.now(UTC)
    with platform.database.read() as session:
        alert = get_alert(session, tenant, identifier)
        counts = coverage(session, alert, now) if alert.sent_at is not None else None
        lanterns = lantern_report(session, alert, now, limit=DELIVERY_ROWS, after=None)
    return {
        "alert": alert,
        "real": alert.channel == "live",
        "coverage": counts,
        "lanterns": lanterns,
        "problem": None,
    }
