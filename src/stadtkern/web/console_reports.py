"""HTTP adapter of the defect reports in the console, `/{tenant}/console/reports`.

For the town's `defect_handler`s: the inbox (filter by department, status, category; pages of
50), one report with its photo, map, reporter and whole history, and the steps of the work —
status with a public or internal note, assignment to a person of the town, merging a
duplicate, reopening — plus response-time figures and the CSV export. Every step is a call of
the Mängelmelder's services (`workflow`, `staff`), the same ones the staff API uses; a
refusal shows the page again with the reason and changes nothing. Categories and departments
(`defect_admin`) are in console_reports_admin.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from stadtkern.core.refs import Identity, TenantRef
from stadtkern.errors import InvalidInput, StadtkernError
from stadtkern.http.deps import TenantDep, module_enabled
from stadtkern.maengelmelder import HANDLER, staff, workflow
from stadtkern.maengelmelder.schemas import StatusChange
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import console_reports_data as data
from stadtkern.web.console_gate import RoleGate

if TYPE_CHECKING:
    from stadtkern.platform import Platform


def reports_gate(platform: Platform) -> RoleGate:
    """The console's door for the defect reports: `defect_handler` unless a page asks for
    another role (the catalogue: `defect_admin`)."""
    return RoleGate(platform, HANDLER, "console/reports_forbidden.html")


def build_reports_console_routers(context: ModuleContext) -> Sequence[APIRouter]:
    """The handlers' pages here, the catalogue's beside."""
    from stadtkern.web.console_reports_admin import build_catalogue_router

    return [build_catalogue_router(context), build_workflow_router(context)]


def build_workflow_router(context: ModuleContext) -> APIRouter:
    """Inbox, figures, one report and the steps of its processing."""
    router = APIRouter(
        prefix="/{tenant}/console/reports",
        tags=["console"],
        include_in_schema=False,
        dependencies=[Depends(module_enabled("maengelmelder"))],
    )
    door = reports_gate(context.platform)
    platform: Platform = context.platform

    @router.get("", response_class=HTMLResponse)
    def inbox(
        request: Request,
        tenant: TenantDep,
        department: str = Query(default="", max_length=64),
        status: str = Query(default="open", max_length=20),
        category: str = Query(default="", max_length=64),
        page: int = Query(default=1, ge=1, le=100_000),
    ) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                return data.inbox(session, tenant, department, status, category, page)

        return door.page(request, tenant, "console/reports_inbox.html", gather)

    @router.get("/figures", response_class=HTMLResponse)
    def figures(
        request: Request, tenant: TenantDep, days: int = Query(default=90, ge=1, le=3650)
    ) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                return data.figures(session, tenant, days)

        return door.page(request, tenant, "console/reports_figures.html", gather)

    @router.get("/{report_id}", response_class=HTMLResponse)
    def report(report_id: int, request: Request, tenant: TenantDep) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                return data.report(session, tenant, report_id)

        return door.page(request, tenant, "console/reports_report.html", gather)

    @router.post("/{report_id}/{step}", response_class=HTMLResponse)
    async def act(report_id: int, step: str, request: Request, tenant: TenantDep) -> Response:
        form = await request.form(max_fields=20)
        values = {name: str(value)[:5000] for name, value in form.items()}
        csrf = values.get("csrf", "")
        who = door.form(request, tenant, csrf)
        if isinstance(who, Response):
            return who
        if step not in STEPS:
            return Response(status_code=404)
        try:
            with platform.database.write() as session:
                STEPS[step](session, tenant, report_id, values, who)
        except (StadtkernError, ValidationError) as error:
            problem, code = reason_of(error)

            def again() -> dict[str, Any]:
                with platform.database.read() as session:
                    return {**data.report(session, tenant, report_id), "problem": problem}

            return door.page(
                request, tenant, "console/reports_report.html", again, form_csrf=csrf, status=code
            )
        return RedirectResponse(f"/{tenant.slug}/console/reports/{report_id}", status_code=303)

    return router


def reason_of(error: StadtkernError | ValidationError) -> tuple[str, int]:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}", 422
    return error.detail, error.status


Step = Callable[[Any, TenantRef, int, dict[str, str], Identity], object]


def _status(
    session: Any, tenant: TenantRef, report_id: int, values: dict[str, str], who: Identity
) -> object:
    change = StatusChange.model_validate(
        {
            "detailed_status": values.get("detailed_status") or None,
            "note": values.get("note", ""),
            "public": values.get("visibility", "public") != "internal",
        }
    )
    return workflow.change_status(
        session=session, tenant=tenant, report_id=report_id, change=change, actor=who.actor
    )


def _assign(
    session: Any, tenant: TenantRef, report_id: int, values: dict[str, str], who: Identity
) -> object:
    return staff.assign_to_staff(
        session=session,
        tenant=tenant,
        report_id=report_id,
        assignee=values.get("assignee", ""),
        actor=who.actor,
    )


def _merge(
    session: Any, tenant: TenantRef, report_id: int, values: dict[str, str], who: Identity
) -> object:
    try:
        into = int(values.get("into", "").strip().lstrip("#"))
    except ValueError:
        raise InvalidInput("give the number of the report that stays") from None
    return workflow.merge(
        session=session, tenant=tenant, report_id=report_id, into=into, actor=who.actor
    )


def _reopen(
    session: Any, tenant: TenantRef, report_id: int, values: dict[str, str], who: Identity
) -> object:
    return workflow.reopen(
        session=session,
        tenant=tenant,
        report_id=report_id,
        note=values.get("note", ""),
        actor=who.actor,
    )


STEPS: dict[str, Step] = {"status": _status, "assign": _assign, "merge": _merge, "reopen": _reopen}
