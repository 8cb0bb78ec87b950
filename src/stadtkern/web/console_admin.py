"""HTTP adapter of the console's administration, `/{tenant}/console/admin`: people and keys.

For the town's administrators (role admin; platform administrators too). Every change goes
through the core's services, the same as the JSON API's (`core/api.py`), which check the
input and write the audit log; a refusal is shown on the page with the reason and changes
nothing. Roles, modules and the audit log are in `console_admin_town.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from stadtkern.core import keys, principals
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.schemas import ApiKeyCreate, PrincipalCreate, PrincipalUpdate, RowId
from stadtkern.errors import StadtkernError
from stadtkern.http.deps import TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import admin_data
from stadtkern.web.admin_gate import admin_gate

if TYPE_CHECKING:
    from stadtkern.platform import Platform


def build_admin_routers(context: ModuleContext) -> Sequence[APIRouter]:
    """The administration's pages: people and keys here, the town's setup beside."""
    from stadtkern.web.console_admin_town import build_town_router

    return [build_people_router(context), build_town_router(context)]


def build_people_router(context: ModuleContext) -> APIRouter:
    """People (principals) with their roles, and their API keys."""
    router = APIRouter(prefix="/{tenant}/console/admin", tags=["console"], include_in_schema=False)
    door = admin_gate(context.platform)
    platform: Platform = context.platform

    def catalogue(tenant: TenantRef) -> dict[str, str]:
        return principals.role_catalogue(platform.installed, tenant)

    def people_page(tenant: TenantRef, problem: str = "", values: Any = None) -> dict[str, Any]:
        with platform.database.read() as session:
            people = admin_data.people(session, tenant)
        return {
            "people": people,
            "roles": principals.describe_roles(platform.installed, tenant),
            "problem": problem,
            "values": values or {},
        }

    def person_page(tenant: TenantRef, principal_id: int, problem: str = "") -> dict[str, Any]:
        with platform.database.read() as session:
            principal = principals.get_principal(
                session=session, tenant=tenant, principal_id=principal_id
            )
            return {
                "person": principals.to_public(session, principal),
                "keys": admin_data.key_rows(session, tenant, principal_id),
                "roles": principals.describe_roles(platform.installed, tenant),
                "problem": problem,
            }

    def change(
        request: Request,
        tenant: TenantRef,
        csrf: str,
        act: Callable[[Identity], Any],
        again: Callable[[str], tuple[str, Callable[[], dict[str, Any]]]],
        done: Callable[[], str],
    ) -> Response:
        """One change by an administrator: done → redirect; refused → the page with why."""
        who = door.form(request, tenant, csrf)
        if isinstance(who, Response):
            return who
        try:
            act(who)
        except ValidationError as error:
            problem, status = admin_data.readable(error), 422
        except StadtkernError as error:
            problem, status = error.detail, error.status
        else:
            platform.forget_cached_access()  # roles, disabling and revocations apply at once
            return RedirectResponse(done(), status_code=303)
        template, gather = again(problem)
        return door.page(request, tenant, template, gather, form_csrf=csrf, status=status)

    @router.get("", response_class=HTMLResponse)
    def people(request: Request, tenant: TenantDep) -> Response:
        return door.page(request, tenant, "console/admin_people.html", lambda: people_page(tenant))

    @router.post("/people", response_class=HTMLResponse)
    async def create(request: Request, tenant: TenantDep) -> Response:
        form = await request.form()
        values = {"name": admin_data.text(form, "name"), "kind": admin_data.text(form, "kind")}
        roles = admin_data.chosen_roles(form.getlist("role"))
        created: list[int] = []

        def act(who: Identity) -> None:
            body = PrincipalCreate(name=values["name"], kind=values["kind"] or "user", roles=roles)
            with platform.database.write() as session:
                principal = principals.create_principal(
                    session=session,
                    tenant=tenant,
                    principal_create=body,
                    catalogue=catalogue(tenant),
                    actor=who.actor,
                )
                created.append(principal.id)

        def again(problem: str) -> tuple[str, Callable[[], dict[str, Any]]]:
            kept = {**values, "roles": roles}
            return "console/admin_people.html", lambda: people_page(tenant, problem, kept)

        def done() -> str:
            return f"/{tenant.slug}/console/admin/people/{created[0]}"

        return change(request, tenant, admin_data.text(form, "csrf"), act, again, done)

    @router.get("/people/{principal_id}", response_class=HTMLResponse)
    def person(principal_id: RowId, request: Request, tenant: TenantDep) -> Response:
        return door.page(
            request, tenant, "console/admin_person.html", lambda: person_page(tenant, principal_id)
        )

    @router.post("/people/{principal_id}/{what}", response_class=HTMLResponse)
    async def update(
        principal_id: RowId, what: str, request: Request, tenant: TenantDep
    ) -> Response:
        form = await request.form()
        if what == "roles":
            roles = admin_data.chosen_roles(form.getlist("role"))
            wanted = PrincipalUpdate(roles=roles)
        elif what == "state":
            wanted = PrincipalUpdate(disabled=form.get("disabled") == "1")
        else:
            return Response(status_code=404)

        def act(who: Identity) -> None:
            admin_data.refuse_own_lockout(
                who, principal_id, roles=wanted.roles, disabled=bool(wanted.disabled)
            )
            with platform.database.write() as session:
                principals.update_principal(
                    session=session,
                    tenant=tenant,
                    principal_id=principal_id,
                    principal_update=wanted,
                    catalogue=catalogue(tenant),
                    actor=who.actor,
                )

        def again(problem: str) -> tuple[str, Callable[[], dict[str, Any]]]:
            return "console/admin_person.html", lambda: person_page(tenant, principal_id, problem)

        def here() -> str:
            return f"/{tenant.slug}/console/admin/people/{principal_id}"

        return change(request, tenant, admin_data.text(form, "csrf"), act, again, here)

    def keys_page(tenant: TenantRef, problem: str = "") -> dict[str, Any]:
        with platform.database.read() as session:
            return {
                "keys": admin_data.key_rows(session, tenant),
                "people": admin_data.people(session, tenant),
                "problem": problem,
            }

    @router.get("/keys", response_class=HTMLResponse)
    def key_list(request: Request, tenant: TenantDep) -> Response:
        return door.page(request, tenant, "console/admin_keys.html", lambda: keys_page(tenant))

    @router.post("/keys", response_class=HTMLResponse)
    async def issue(request: Request, tenant: TenantDep) -> Response:
        form = await request.form()
        csrf = admin_data.text(form, "csrf")
        who = door.form(request, tenant, csrf)
        if isinstance(who, Response):
            return who
        owner = admin_data.text(form, "principal", 20)
        try:
            body = ApiKeyCreate(
                principal_id=int(owner) if owner.isdigit() else 0,
                label=admin_data.text(form, "label"),
                expires_at=admin_data.expiry(admin_data.text(form, "expires", 20), tenant),
            )
            with platform.database.write() as session:
                issued = keys.issue_tenant_key(
                    session=session,
                    tenant=tenant,
                    key_create=body,
                    actor=who.actor,
                    pepper=platform.settings.token_pepper,
                )
                owner_name = principals.get_principal(
                    session=session, tenant=tenant, principal_id=body.principal_id
                ).name
                shown = {"key": keys.to_public(issued.key), "token": issued.token}
        except (ValidationError, StadtkernError) as error:
            problem, status = (
                (admin_data.readable(error), 422)
                if isinstance(error, ValidationError)
                else (error.detail, error.status)
            )

            return door.page(
                request,
                tenant,
                "console/admin_keys.html",
                lambda: keys_page(tenant, problem),
                form_csrf=csrf,
                status=status,
            )
        # The secret is on this page only: never cached, never shown again.
        page = door.page(
            request,
            tenant,
            "console/admin_key_issued.html",
            lambda: {**shown, "owner": owner_name},
            form_csrf=csrf,
        )
        page.headers["Cache-Control"] = "no-store"
        return page

    @router.get("/keys/{key_id}/revoke", response_class=HTMLResponse)
    def confirm_revoke(key_id: str, request: Request, tenant: TenantDep) -> Response:
        def gather() -> dict[str, Any]:
            with platform.database.read() as session:
                keys.get_key(session=session, tenant=tenant, key_id=key_id)  # 404 otherwise
                rows = admin_data.key_rows(session, tenant)
            return {"row": next(row for row in rows if row.key.key_id == key_id)}

        return door.page(request, tenant, "console/admin_key_revoke.html", gather)

    @router.post("/keys/{key_id}/revoke", response_class=HTMLResponse)
    async def revoke(key_id: str, request: Request, tenant: TenantDep) -> Response:
        form = await request.form()

        def act(who: Identity) -> None:
            with platform.database.write() as session:
                keys.revoke_key(session=session, tenant=tenant, key_id=key_id, actor=who.actor)

        def again(problem: str) -> tuple[str, Callable[[], dict[str, Any]]]:
            return "console/admin_keys.html", lambda: keys_page(tenant, problem)

        def done() -> str:
            return f"/{tenant.slug}/console/admin/keys"

        return change(request, tenant, admin_data.text(form, "csrf"), act, again, done)

    return router
