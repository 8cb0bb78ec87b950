"""HTTP adapter for the town's staff at `/{tenant}/maengelmelder/`: departments, categories,
processing reports (status, notes, assignment, merge, reopen), export and figures.
Errors are problem+json like every other Stadtkern API; the console calls the same services.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from stadtkern.core import audit
from stadtkern.core.refs import Identity
from stadtkern.http.deps import PlatformDep, TenantDep, require
from stadtkern.http.problems import responses
from stadtkern.maengelmelder import (
    DEFECT_ADMIN,
    HANDLER,
    catalogue,
    figures,
    reports,
    search,
    workflow,
)
from stadtkern.maengelmelder.export import reports_csv
from stadtkern.maengelmelder.models import Category, Department, Update
from stadtkern.maengelmelder.schemas import (
    Assignment,
    CategoryCreate,
    CategoryUpdate,
    DepartmentCreate,
    Merge,
    Reopen,
    StatusChange,
)

AdminDep = Annotated[Identity, Depends(require(DEFECT_ADMIN))]
HandlerDep = Annotated[Identity, Depends(require(HANDLER))]
ReportId = Annotated[int, "service_request_id"]


def _department(department: Department) -> dict[str, Any]:
    return {"key": department.key, "name": department.name, "email": department.email}


def _category(category: Category, departments: dict[int, str]) -> dict[str, Any]:
    return {
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "group": category.group_name,
        "keywords": category.keywords,
        "attributes": category.attributes,
        "department": departments.get(category.department_id or 0),
        "expected_days": category.expected_days,
        "active": category.active,
        "position": category.position,
    }


def _update(update: Update) -> dict[str, Any]:
    return {
        "id": update.id,
        "kind": update.kind,
        "status": update.status,
        "detailed_status": update.detailed_status,
        "note": update.note,
        "public": update.public,
        "author": update.author,
        "created": update.created_at.isoformat(),
    }


def build_staff_router() -> APIRouter:
    """Routes under `/{tenant}/maengelmelder`."""
    router = APIRouter(prefix="/{tenant}/maengelmelder", tags=["maengelmelder"])
    errors = responses(401, 403, 404)

    @router.get("/departments", summary="List departments", responses=errors)
    def departments(tenant: TenantDep, platform: PlatformDep, _: AdminDep) -> list[dict[str, Any]]:
        """The town's departments."""
        with platform.database.read() as session:
            return [
                _department(d) for d in catalogue.list_departments(session=session, tenant=tenant)
            ]

    @router.post(
        "/departments",
        status_code=status.HTTP_201_CREATED,
        summary="Add a department",
        responses=responses(401, 403, 404, 409, 422),
    )
    def add_department(
        body: DepartmentCreate, tenant: TenantDep, platform: PlatformDep, who: AdminDep
    ) -> dict[str, Any]:
        """A new department."""
        with platform.database.write() as session:
            made = catalogue.create_department(
                session=session, tenant=tenant, department_create=body
            )
            audit.record(
                session,
                actor=who.actor,
                action="maengelmelder.department.create",
                target=made.key,
                tenant_slug=tenant.slug,
            )
            return _department(made)

    def _all(session: Any, tenant: Any) -> list[dict[str, Any]]:
        keys = {d.id: d.key for d in catalogue.list_departments(session=session, tenant=tenant)}
        return [
            _category(c, keys) for c in catalogue.list_categories(session=session, tenant=tenant)
        ]

    @router.get("/categories", summary="List categories", responses=errors)
    def categories(tenant: TenantDep, platform: PlatformDep, _: AdminDep) -> list[dict[str, Any]]:
        """Every category, inactive ones included."""
        with platform.database.read() as session:
            return _all(session, tenant)

    @router.post(
        "/categories",
        status_code=status.HTTP_201_CREATED,
        summary="Add a category",
        responses=responses(401, 403, 404, 409, 422),
    )
    def add_category(
        body: CategoryCreate, tenant: TenantDep, platform: PlatformDep, who: AdminDep
    ) -> dict[str, Any]:
        """A new category (Open311 service) mapped to a department."""
        with platform.database.write() as session:
            made = catalogue.create_category(session=session, tenant=tenant, category_create=body)
            audit.record(
                session,
                actor=who.actor,
                action="maengelmelder.category.create",
                target=made.code,
                tenant_slug=tenant.slug,
            )
            keys = {d.id: d.key for d in catalogue.list_departments(session=session, tenant=tenant)}
            return _category(made, keys)

    @router.put(
        "/categories/{category_code}",
        summary="Replace a category",
        responses=responses(401, 403, 404, 422),
    )
    def put_category(
        category_code: str,
        body: CategoryUpdate,
        tenant: TenantDep,
        platform: PlatformDep,
        who: AdminDep,
    ) -> dict[str, Any]:
        """Change a category; reports made before keep their answers."""
        with platform.database.write() as session:
            changed = catalogue.update_category(
                session=session, tenant=tenant, code=category_code, category_update=body
            )
            audit.record(
                session,
                actor=who.actor,
                action="maengelmelder.category.update",
                target=changed.code,
                tenant_slug=tenant.slug,
            )
            keys = {d.id: d.key for d in catalogue.list_departments(session=session, tenant=tenant)}
            return _category(changed, keys)

    @router.get("/reports/{report_id}", summary="A report for staff", responses=errors)
    def report(
        report_id: ReportId, tenant: TenantDep, platform: PlatformDep, _: HandlerDep
    ) -> dict[str, Any]:
        """The report, its reporter's contact (while kept) and its whole history."""
        with platform.database.read() as session:
            view = reports.get_report(session=session, tenant=tenant, report_id=report_id)
            reporter = reports.get_reporter(session=session, report_id=report_id)
            steps = workflow.history(
                session=session, tenant=tenant, report_id=report_id, public_only=False
            )
            r = view.report
            return {
                "service_request_id": str(r.id),
                "service_code": view.service_code,
                "status": r.status,
                "detailed_status": r.detailed_status,
                "description": r.description,
                "address": r.address,
                "lat": r.lat,
                "long": r.lon,
                "answers": r.answers,
                "agency_responsible": view.agency,
                "assignee": r.assignee,
                "supporters": r.supporters,
                "merged_into": r.merged_into_id,
                "reporter": None
                if reporter is None
                else {
                    "email": reporter.email,
                    "first_name": reporter.first_name,
                    "last_name": reporter.last_name,
                    "phone": reporter.phone,
                },
                "history": [_update(step) for step in steps],
            }

    @router.post(
        "/reports/{report_id}/updates",
        status_code=status.HTTP_201_CREATED,
        summary="Change status or add a note",
        responses=responses(401, 403, 404, 409, 422),
    )
    def add_update(
        report_id: ReportId,
        body: StatusChange,
        tenant: TenantDep,
        platform: PlatformDep,
        who: HandlerDep,
    ) -> dict[str, Any]:
        """A new detailed status and/or a public or internal note."""
        with platform.database.write() as session:
            step = workflow.change_status(
                session=session, tenant=tenant, report_id=report_id, change=body, actor=who.actor
            )
            return _update(step)

    @router.post(
        "/reports/{report_id}/assignment",
        summary="Assign to a person",
        responses=responses(401, 403, 404, 422),
    )
    def set_assignee(
        report_id: ReportId,
        body: Assignment,
        tenant: TenantDep,
        platform: PlatformDep,
        who: HandlerDep,
    ) -> dict[str, Any]:
        """Who works on the report."""
        with platform.database.write() as session:
            step = workflow.assign(
                session=session,
                tenant=tenant,
                report_id=report_id,
                assignee=body.assignee,
                actor=who.actor,
            )
            return _update(step)

    @router.post(
        "/reports/{report_id}/merge",
        summary="Merge a duplicate",
        responses=responses(401, 403, 404, 409, 422),
    )
    def merge(
        report_id: ReportId, body: Merge, tenant: TenantDep, platform: PlatformDep, who: HandlerDep
    ) -> dict[str, Any]:
        """Close this report as a duplicate of `into`."""
        with platform.database.write() as session:
            step = workflow.merge(
                session=session, tenant=tenant, report_id=report_id, into=body.into, actor=who.actor
            )
            return _update(step)

    @router.post(
        "/reports/{report_id}/reopen",
        summary="Reopen a closed report",
        responses=responses(401, 403, 404, 409, 422),
    )
    def reopen(
        report_id: ReportId, body: Reopen, tenant: TenantDep, platform: PlatformDep, who: HandlerDep
    ) -> dict[str, Any]:
        """Back to in process."""
        with platform.database.write() as session:
            step = workflow.reopen(
                session=session, tenant=tenant, report_id=report_id, note=body.note, actor=who.actor
            )
            return _update(step)

    @router.get(
        "/reports.csv", summary="Export reports as CSV", response_class=Response, responses=errors
    )
    def export(
        tenant: TenantDep,
        platform: PlatformDep,
        _: HandlerDep,
        days: Annotated[int, Query(ge=1, le=3650)] = 365,
    ) -> Response:
        """Reports of the last `days` days, formulas neutralised, without personal data."""
        since = datetime.now(UTC) - timedelta(days=days)
        with platform.database.read() as session:
            text = reports_csv(search.reports_since(session=session, tenant=tenant, since=since))
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="maengel-{tenant.slug}.csv"'},
        )

    @router.get("/figures", summary="Response times per category", responses=errors)
    def response_figures(
        tenant: TenantDep,
        platform: PlatformDep,
        _: HandlerDep,
        days: Annotated[int, Query(ge=1, le=3650)] = 90,
    ) -> list[dict[str, Any]]:
        """Counts and hours to first answer and to closing, per category."""
        since = datetime.now(UTC) - timedelta(days=days)
        with platform.database.read() as session:
            found = figures.response_times(session=session, tenant=tenant, since=since)
        return [vars(entry) for entry in found]

    return router
