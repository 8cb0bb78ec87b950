"""HTTP adapter of the citizen's defect form in the portal, `/{tenant}/portal/reports/...`.

No account: (1) what and where — a category and a place (a click on the map, an address, the
browser's position, or coordinates typed in); (2) "already reported?" — open reports of the
category within 50 m, each with a "me too" button, and the details (description, the
category's questions, a photo, an e-mail for updates); (3) the confirmation with a tracking
link. Every rule is the Mängelmelder's (`reports.submit_report`, `photos.clean_photo`,
`workflow.support`); a refusal shows the form again with the reason at its field and stores
nothing. Forms are accepted only from the portal's own origin (there is no session, so no CSRF
token: the login form is protected the same way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from stadtkern.core.api import PUBLIC
from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, StadtkernError
from stadtkern.http.deps import TenantDep, credentials_of, module_enabled
from stadtkern.maengelmelder import photos, reports, workflow
from stadtkern.maengelmelder.limits import PostLimiter
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import report_pages
from stadtkern.web.console_gate import same_origin
from stadtkern.web.i18n import choose_language
from stadtkern.web.rendering import render
from stadtkern.web.report_forms import (
    HONEYPOT,
    Problem,
    answers_of,
    draft_of,
    form_values,
    local_times,
    problem_of,
)

if TYPE_CHECKING:
    from stadtkern.platform import Platform

NEARBY_METRES = 50.0


def build_portal_reports_router(context: ModuleContext) -> APIRouter:
    """The defect form, the confirmation, a report's public page and the list of reports."""
    router = APIRouter(
        prefix="/{tenant}/portal/reports",
        tags=["portal"],
        include_in_schema=False,
        dependencies=[Depends(module_enabled("maengelmelder"))],
    )
    platform: Platform = context.platform
    settings = platform.contexts["maengelmelder"].settings
    assert isinstance(settings, MaengelmelderSettings)  # noqa: S101 - the module's own model
    # Its own count per process: the form's visitors have no API key, only their address.
    limiter = PostLimiter(limit=settings.posts_per_window, window=settings.post_window_seconds)

    def where(request: Request, tenant: TenantRef, values: dict[str, str]) -> dict[str, Any]:
        with platform.database.read() as session:
            return report_pages.where_page(session, tenant, values, settings)

    @router.get("", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def listing(request: Request, tenant: TenantDep) -> Response:
        with platform.database.read() as session:
            data = report_pages.list_page(session, tenant, settings)
        return render(request, tenant, "portal/report_list.html", data)

    @router.get(".geojson", openapi_extra=PUBLIC)
    def listing_geojson(tenant: TenantDep) -> JSONResponse:
        with platform.database.read() as session:
            data = report_pages.list_page(session, tenant, settings)
        return JSONResponse(report_pages.points(data["reports"]), media_type="application/geo+json")

    @router.get("/new", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def new(request: Request, tenant: TenantDep) -> Response:
        values = form_values(request.query_params)
        return render(request, tenant, "portal/report_new.html", where(request, tenant, values))

    @router.get("/check", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def check(request: Request, tenant: TenantDep) -> Response:
        """Step two: the place is known; open reports nearby, then the details."""
        values = form_values(request.query_params)
        language = choose_language(request, tenant.locale)
        try:
            with platform.database.read() as session:
                data = report_pages.check_page(session, tenant, values, settings, NEARBY_METRES)
        except StadtkernError as error:
            problem = problem_of(error, language, photo_bytes=settings.max_photo_bytes)
            data = {**where(request, tenant, values), "problems": _by_field([problem])}
            page = render(request, tenant, "portal/report_new.html", data)
            page.status_code = error.status
            return page
        return render(request, tenant, "portal/report_details.html", data)

    @router.post("/new", response_class=HTMLResponse)
    async def send(request: Request, tenant: TenantDep) -> Response:
        same_origin(request)
        form = await request.form(
            max_files=1, max_fields=200, max_part_size=settings.max_photo_bytes + 1
        )
        try:
            return await _send(request, tenant, form)
        finally:
            await form.close()

    async def _send(request: Request, tenant: TenantRef, form: FormData) -> Response:
        values, answers = form_values(form), answers_of(form)
        language = choose_language(request, tenant.locale)
        client = f"web:{credentials_of(request).client}"
        try:
            limiter.take(client)
            if values.get(HONEYPOT):
                raise InvalidInput("the request was refused")
            draft = draft_of(values, answers, client)
            photo = await _photo(form.get("photo"), settings)
            token = await to_thread.run_sync(_store, platform, tenant, draft, photo, settings)
        except StadtkernError as error:
            problem = problem_of(error, language, photo_bytes=settings.max_photo_bytes)
            with platform.database.read() as session:
                try:
                    data = report_pages.check_page(session, tenant, values, settings, NEARBY_METRES)
                except StadtkernError:  # the place or category itself is wrong: step one
                    data = report_pages.where_page(session, tenant, values, settings)
                    data["problems"] = _by_field([problem])
                    page = render(request, tenant, "portal/report_new.html", data)
                    page.status_code = error.status
                    return page
            data.update(problems=_by_field([problem]), answers=answers)
            page = render(request, tenant, "portal/report_details.html", data)
            page.status_code = error.status
            return page
        return RedirectResponse(f"/{tenant.slug}/portal/reports/sent/{token}", status_code=303)

    @router.get("/privacy", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def privacy(request: Request, tenant: TenantDep) -> Response:
        data = {"retention_days": settings.retention_days}
        return render(request, tenant, "portal/report_privacy.html", data)

    @router.get("/sent/{token}", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def sent(token: str, request: Request, tenant: TenantDep) -> Response:
        with platform.database.read() as session:
            report_id = reports.find_by_token(session=session, tenant=tenant, token=token[:64])
        data = {"report_id": report_id, "token": token}
        return render(request, tenant, "portal/report_sent.html", data)

    @router.get("/{report_id}", response_class=HTMLResponse, openapi_extra=PUBLIC)
    def status_page(report_id: int, request: Request, tenant: TenantDep) -> Response:
        with platform.database.read() as session:
            data = report_pages.status_page(session, tenant, report_id)
        data["supported"] = request.query_params.get("supported") == "1"
        return render(request, tenant, "portal/report_status.html", data)

    @router.post("/{report_id}/support", response_class=HTMLResponse)
    def support(report_id: int, request: Request, tenant: TenantDep) -> Response:
        """ "Me too": one more person has the same defect; counted once per connection."""
        same_origin(request)
        who = f"web:{credentials_of(request).client}"
        try:
            with platform.database.write() as session:
                workflow.support(
                    session=session,
                    tenant=tenant,
                    report_id=report_id,
                    who=who,
                    secret=platform.settings.token_pepper,
                )
        except StadtkernError as error:
            with platform.database.read() as session:
                data = report_pages.status_page(session, tenant, report_id)
            data["problem"] = error.detail
            page = render(request, tenant, "portal/report_status.html", data)
            page.status_code = error.status
            return page
        return RedirectResponse(
            f"/{tenant.slug}/portal/reports/{report_id}?supported=1", status_code=303
        )

    return router


def _by_field(problems: list[Problem]) -> dict[str, str]:
    return {problem.field: problem.message for problem in problems}


async def _photo(upload: Any, settings: MaengelmelderSettings) -> photos.CleanPhoto | None:
    """The cleaned photo (EXIF and GPS gone), or None when no file was chosen."""
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read(settings.max_photo_bytes + 1)
    if not data:
        return None
    return await to_thread.run_sync(
        lambda: photos.clean_photo(
            data, max_bytes=settings.max_photo_bytes, max_side=settings.photo_max_pixels
        )
    )


def _store(
    platform: Platform,
    tenant: TenantRef,
    draft: reports.ReportDraft,
    photo: photos.CleanPhoto | None,
    settings: MaengelmelderSettings,
) -> str:
    """Photo and report in one transaction: a refused report leaves no photo behind."""
    with platform.database.write() as session:
        local_times(session, tenant, draft)
        photo_id = None
        if photo is not None:
            photo_id = photos.store_photo(session=session, tenant=tenant, photo=photo).id
        report = reports.submit_report(
            session=session,
            tenant=tenant,
            draft=draft,
            max_description=settings.max_description_chars,
            photo_id=photo_id,
        )
        return report.token
