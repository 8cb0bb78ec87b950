"""HTTP adapter of the defect catalogue in the console, `/{tenant}/console/reports/catalogue`.

For the town's `defect_admin`: departments (list, add) and categories (list, add, edit), each
category with its questions (Open311 attributes) and its department. The forms become the
staff API's bodies (`CategoryCreate`, `CategoryUpdate`, `DepartmentCreate`) and go through
the same services with the same audit entries; a refusal shows the page with the reason.
Questions are edited as JSON, the format of the staff API, so every datatype, list value and
option is reachable without a form per datatype.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from stadtkern.core import audit
from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, StadtkernError
from stadtkern.http.deps import TenantDep, module_enabled
from stadtkern.maengelmelder import DEFECT_ADMIN, catalogue
from stadtkern.maengelmelder.schemas import CategoryCreate, CategoryUpdate, DepartmentCreate
from stadtkern.modules.contract import ModuleContext
from stadtkern.web.console_reports import reason_of, reports_gate

if TYPE_CHECKING:
    from stadtkern.platform import Platform

EXAMPLE = [
    {"code": "depth", "datatype": "number", "required": True, "description": "Depth in cm"},
    {"code": "surface", "datatype": "singlevaluelist", "description": "Surface",
     "values": [{"key": "asphalt", "name": "Asphalt"}, {"key": "cobble", "name": "Cobbles"}]},
]  # fmt: skip


def category_body(values: dict[str, str], *, with_code: bool) -> dict[str, Any]:
    """The staff API's body of a category, from the form's fields."""
    try:
        attributes = json.loads(values.get("attributes", "").strip() or "[]")
    except json.JSONDecodeError as error:
        raise InvalidInput(f"questions: not JSON ({error.msg}, line {error.lineno})") from None
    days, position = values.get("expected_days", "").strip(), values.get("position", "").strip()
    body: dict[str, Any] = {
        "name": values.get("name", "").strip(),
        "description": values.get("description", ""),
        "group": values.get("group", "").strip(),
        "keywords": [k.strip() for k in values.get("keywords", "").split(",") if k.strip()],
        "attributes": attributes,
        "department": values.get("department") or None,
        "expected_days": _whole(days) if days else None,
        "active": values.get("active") == "on",
        "position": _whole(position) if position else 0,
    }
    if with_code:
        body["code"] = values.get("code", "").strip()
    return body


def _whole(text: str) -> int | str:
    """A whole number typed into a field; anything else is left for the schema to refuse."""
    return int(text) if text.isdigit() and len(text) < 10 else text


def category_values(category: Any, departments: dict[int, str]) -> dict[str, str]:
    """A stored category as the edit form's fields."""
    return {
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "group": category.group_name,
        "keywords": ", ".join(category.keywords),
        "attributes": json.dumps(category.attributes, ensure_ascii=False, indent=2),
        "department": departments.get(category.department_id or 0, ""),
        "expected_days": "" if category.expected_days is None else str(category.expected_days),
        "active": "on" if category.active else "",
        "position": str(category.position),
    }


def build_catalogue_router(context: ModuleContext) -> APIRouter:
    """Departments and categories."""
    router = APIRouter(
        prefix="/{tenant}/console/reports/catalogue",
        tags=["console"],
        include_in_schema=False,
        dependencies=[Depends(module_enabled("maengelmelder"))],
    )
    door = reports_gate(context.platform)
    platform: Platform = context.platform
    base = "/{slug}/console/reports/catalogue"

    def listing(tenant: TenantRef, problem: str = "", values: Any = None) -> dict[str, Any]:
        with platform.database.read() as session:
            departments = catalogue.list_departments(session=session, tenant=tenant)
            keys = {d.id: d.key for d in departments}
            categories = catalogue.list_categories(session=session, tenant=tenant)
        return {
            "departments": departments,
            "categories": [(c, keys.get(c.department_id or 0, "")) for c in categories],
            "problem": problem,
            "values": values or {"active": "on"},
            "example": json.dumps(EXAMPLE, ensure_ascii=False, indent=2),
        }

    def editing(
        tenant: TenantRef, code: str, problem: str = "", values: Any = None
    ) -> dict[str, Any]:
        with platform.database.read() as session:
            departments = catalogue.list_departments(session=session, tenant=tenant)
            category = catalogue.get_category(session=session, tenant=tenant, code=code)
            keys = {d.id: d.key for d in departments}
            return {
                "departments": departments,
                "code": category.code,
                "values": values or category_values(category, keys),
                "problem": problem,
                "example": json.dumps(EXAMPLE, ensure_ascii=False, indent=2),
            }

    @router.get("", response_class=HTMLResponse)
    def overview(request: Request, tenant: TenantDep) -> Response:
        return door.page(
            request, tenant, "console/reports_catalogue.html", lambda: listing(tenant),
            role=DEFECT_ADMIN,
        )  # fmt: skip

    @router.get("/categories/{code}", response_class=HTMLResponse)
    def edit(code: str, request: Request, tenant: TenantDep) -> Response:
        return door.page(
            request, tenant, "console/reports_category.html", lambda: editing(tenant, code),
            role=DEFECT_ADMIN,
        )  # fmt: skip

    @router.post("/{kind}", response_class=HTMLResponse)
    @router.post("/{kind}/{code}", response_class=HTMLResponse)
    async def change(request: Request, tenant: TenantDep, kind: str, code: str = "") -> Response:
        form = await request.form(max_fields=30)
        values = {name: str(value)[:20_000] for name, value in form.items()}
        csrf = values.get("csrf", "")
        who = door.form(request, tenant, csrf, role=DEFECT_ADMIN)
        if isinstance(who, Response):
            return who
        if kind not in ("departments", "categories") or (code and kind != "categories"):
            return Response(status_code=404)
        try:
            with platform.database.write() as session:
                action, target = _apply(session, tenant, kind, code, values)
                audit.record(
                    session, actor=who.actor, action=action, target=target, tenant_slug=tenant.slug
                )
        except (StadtkernError, ValidationError) as error:
            problem, status = reason_of(error)
            template, gather = (
                ("console/reports_category.html", lambda: editing(tenant, code, problem, values))
                if code
                else ("console/reports_catalogue.html", lambda: listing(tenant, problem, values))
            )
            return door.page(
                request, tenant, template, gather, role=DEFECT_ADMIN, form_csrf=csrf, status=status
            )
        return RedirectResponse(base.format(slug=tenant.slug), status_code=303)

    return router


def _apply(
    session: Any, tenant: TenantRef, kind: str, code: str, values: dict[str, str]
) -> tuple[str, str]:
    """One catalogue change; the audit action and target."""
    if kind == "departments":
        body = DepartmentCreate.model_validate(
            {
                "key": values.get("key", "").strip(),
                "name": values.get("name", "").strip(),
                "email": values.get("email", "").strip() or None,
            }
        )
        made = catalogue.create_department(session=session, tenant=tenant, department_create=body)
        return "maengelmelder.department.create", made.key
    if code:
        update = CategoryUpdate.model_validate(category_body(values, with_code=False))
        changed = catalogue.update_category(
            session=session, tenant=tenant, code=code, category_update=update
        )
        return "maengelmelder.category.update", changed.code
    create = CategoryCreate.model_validate(category_body(values, with_code=True))
    made_category = catalogue.create_category(
        session=session, tenant=tenant, category_create=create
    )
    return "maengelmelder.category.create", made_category.code
