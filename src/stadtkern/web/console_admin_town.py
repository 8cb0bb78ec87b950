"""HTTP adapter of the console's administration of the town's setup: the role catalogue and
who holds each role, the modules switched on (through `tenants.switch_module`, the service
behind the platform API's tenant update, which keeps every module's dependencies) and the
newest entries of the town's audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stadtkern.core import audit, principals, tenants
from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, StadtkernError
from stadtkern.http.deps import TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import admin_data
from stadtkern.web.admin_gate import admin_gate

if TYPE_CHECKING:
    from stadtkern.platform import Platform

AUDIT_ENTRIES = 100


def build_town_router(context: ModuleContext) -> APIRouter:
    """Roles, modules and the audit log of the town."""
    router = APIRouter(prefix="/{tenant}/console/admin", tags=["console"], include_in_schema=False)
    door = admin_gate(context.platform)
    platform: Platform = context.platform

    @router.get("/roles", response_class=HTMLResponse)
    def roles(request: Request, tenant: TenantDep) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                holders = principals.role_holders(session=session, tenant=tenant)
            return {
                "roles": principals.describe_roles(platform.installed, tenant),
                "holders": holders,
            }

        return door.page(request, tenant, "console/admin_roles.html", gather)

    def modules_page(tenant: TenantRef, problem: str = "") -> dict[str, Any]:
        return {"modules": admin_data.module_rows(platform.installed, tenant), "problem": problem}

    @router.get("/modules", response_class=HTMLResponse)
    def modules(request: Request, tenant: TenantDep) -> Response:
        return door.page(
            request, tenant, "console/admin_modules.html", lambda: modules_page(tenant)
        )

    @router.post("/modules/{name}", response_class=HTMLResponse)
    async def switch(name: str, request: Request, tenant: TenantDep) -> Response:
        form = await request.form()
        csrf = admin_data.text(form, "csrf")
        who = door.form(request, tenant, csrf)
        if isinstance(who, Response):
            return who
        on = form.get("on") == "1"
        try:
            if name in admin_data.NOT_FROM_THE_CONSOLE:
                raise InvalidInput(
                    f"'{name}' is not switched from the console, which needs it; "
                    "the platform administration can"
                )
            with platform.database.write() as session:
                tenants.switch_module(
                    session=session,
                    slug=tenant.slug,
                    module=name[:40],
                    on=on,
                    installed=platform.installed,
                    actor=who.actor,
                )
        except StadtkernError as error:
            problem, status = error.detail, error.status
            return door.page(
                request,
                tenant,
                "console/admin_modules.html",
                lambda: modules_page(tenant, problem),
                form_csrf=csrf,
                status=status,
            )
        platform.forget_cached_access()  # the town's routes follow at once in this process
        return RedirectResponse(f"/{tenant.slug}/console/admin/modules", status_code=303)

    @router.get("/audit", response_class=HTMLResponse)
    def audit_log(request: Request, tenant: TenantDep) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                entries = audit.list_entries(session, tenant_slug=tenant.slug, limit=AUDIT_ENTRIES)
            return {"entries": entries, "limit": AUDIT_ENTRIES}

        return door.page(request, tenant, "console/admin_audit.html", gather)

    return router
