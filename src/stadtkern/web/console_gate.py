"""Who may see and use the console: the browser session, its CSRF token, the form's origin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from stadtkern.core import sessions
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.roles import VIEWER
from stadtkern.errors import Forbidden, Unauthenticated
from stadtkern.http.deps import credentials_of
from stadtkern.web.rendering import render

if TYPE_CHECKING:
    from stadtkern.platform import Platform


class Gate:
    """The console's door: a session of the town with at least `viewer`."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def staff(
        self, request: Request, tenant: TenantRef, form_csrf: str | None = None
    ) -> tuple[Identity | None, str]:
        """The session's identity and CSRF token; a form's POST presents its token field."""
        credentials = credentials_of(request)
        cookie = credentials.session_cookie
        if cookie is None:
            return None, ""
        if form_csrf is not None:
            credentials = replace(credentials, csrf_token=form_csrf)
        try:
            identity = self.platform.authenticator.identify(credentials, tenant)
        except (Unauthenticated, Forbidden):  # Forbidden: a POST with a wrong CSRF token
            return None, ""
        if identity is None or not identity.has_role(VIEWER):
            return None, ""
        if identity.tenant_id != tenant.id and not identity.platform_admin:
            return None, ""
        with self.platform.database.read() as session:
            found = sessions.find_session(session, cookie, self.platform.settings.token_pepper)
        return identity, found[0].csrf_token if found else ""

    def page(
        self,
        request: Request,
        tenant: TenantRef,
        template: str,
        gather: Callable[[], dict[str, Any]],
        *,
        form_csrf: str | None = None,
    ) -> Response:
        """A console page for the session's person, or the way to the login. `gather` reads
        the page's data, and only once the person is known (a page answering a form passes
        the form's CSRF token)."""
        identity, csrf = self.staff(request, tenant, form_csrf=form_csrf)
        if identity is None:
            target = f"/{tenant.slug}/console/login?{urlencode({'next': request.url.path})}"
            return RedirectResponse(target, status_code=303)
        return render(request, tenant, template, {"staff": identity, "csrf": csrf, **gather()})

    def form_staff(self, request: Request, tenant: TenantRef, csrf: str) -> Identity:
        """The person behind a console form: same origin, live session, its CSRF token."""
        same_origin(request)
        identity, expected = self.staff(request, tenant, form_csrf=csrf)
        if identity is None or not expected:
            raise Forbidden("the form is outdated or the session ended; reload the page")
        return identity


class RoleGate:
    """The console's door plus a role (administration: `admin`; defect reports: a defect
    role): staff without it see `forbidden_template`, a 403 page naming the role."""

    def __init__(self, platform: Platform, role: str, forbidden_template: str) -> None:
        self.gate = Gate(platform)
        self.role = role
        self.forbidden_template = forbidden_template

    def page(
        self,
        request: Request,
        tenant: TenantRef,
        template: str,
        gather: Callable[[], dict[str, Any]],
        *,
        role: str | None = None,
        form_csrf: str | None = None,
        status: int = 200,
    ) -> Response:
        """A page for a holder of the role (or of `role`); `gather` runs only for them."""
        identity, csrf = self.gate.staff(request, tenant, form_csrf=form_csrf)
        if identity is None:
            return self.gate.page(request, tenant, template, gather)  # the way to the login
        if not identity.has_role(role or self.role):
            return self.forbidden(request, tenant, identity, csrf, role)
        page = render(request, tenant, template, {"staff": identity, "csrf": csrf, **gather()})
        page.status_code = status
        return page

    def form(
        self, request: Request, tenant: TenantRef, csrf: str, role: str | None = None
    ) -> Identity | Response:
        """The person behind a form (session, CSRF, same origin), or the 403 page for anyone
        without the role."""
        identity = self.gate.form_staff(request, tenant, csrf)
        if not identity.has_role(role or self.role):
            return self.forbidden(request, tenant, identity, csrf, role)
        return identity

    def forbidden(
        self,
        request: Request,
        tenant: TenantRef,
        identity: Identity,
        csrf: str,
        role: str | None = None,
    ) -> Response:
        """The page telling a member of staff which role this part of the console needs."""
        context = {"staff": identity, "csrf": csrf, "role": role or self.role}
        page = render(request, tenant, self.forbidden_template, context)
        page.status_code = 403
        return page


def same_origin(request: Request) -> None:
    """Refuse a form sent from another site (no Origin, or another one)."""
    origin = request.headers.get("origin") or ""
    expected = f"{request.url.scheme}://{request.url.netloc}"
    if origin != expected:
        raise Forbidden("forms of the console are only accepted from the console itself")
