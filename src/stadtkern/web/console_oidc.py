"""HTTP adapter of the console's login through the identity provider (OpenID Connect).

`/{tenant}/console/oidc/start` sends the browser to the provider with a fresh state, nonce
and PKCE challenge (core/oidc_login.py); the provider sends it back to
`/{tenant}/console/oidc/callback`, where the code is redeemed, the ID token verified with the
same verifier as bearer tokens and the same browser session opened as for a key
(core/login.py). Every refusal shows the login page with the reason and opens no session.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stadtkern.core import login as login_service
from stadtkern.core.oidc import OidcError
from stadtkern.core.oidc_login import (
    LOGIN_COOKIE,
    LOGIN_SECONDS,
    IdentityProvider,
    LoginRefused,
    PendingLogin,
    ProviderUnavailable,
    seal,
    start_login,
    unseal,
)
from stadtkern.core.refs import TenantRef
from stadtkern.errors import NotFound, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep, credentials_of
from stadtkern.modules.contract import ModuleContext
from stadtkern.web.i18n import choose_language, translations
from stadtkern.web.rendering import render

if TYPE_CHECKING:
    from stadtkern.platform import Platform

# The provider's own error codes are shown only when they are one of these (RFC 6749 4.1.2.1).
PROVIDER_ERRORS = frozenset(
    {"access_denied", "login_required", "consent_required", "interaction_required"}
)


def login_choices(platform: Platform) -> dict[str, Any]:
    """What the login page offers besides the key: the provider's button, if configured."""
    oidc = platform.settings.oidc
    return {"oidc_provider": oidc.provider_name if oidc.enabled and oidc.client_id else None}


def build_oidc_router(context: ModuleContext) -> APIRouter:
    """The two legs of the browser login; absent when no client is configured."""
    router = APIRouter(prefix="/{tenant}/console/oidc", tags=["console"], include_in_schema=False)
    settings = context.platform.settings
    offered = login_choices(context.platform)["oidc_provider"] is not None
    provider = IdentityProvider(settings.oidc) if offered else None

    def redirect_uri(request: Request, tenant: TenantRef) -> str:
        base = settings.public_url.rstrip("/") or f"{request.url.scheme}://{request.url.netloc}"
        return f"{base}/{tenant.slug}/console/oidc/callback"

    @router.get("/start")
    def start(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        if provider is None:
            raise NotFound("no identity provider is configured")
        from stadtkern.web.console import _next  # imports this module

        pending = start_login(tenant.slug, _next(request, tenant), time.time())
        try:
            target = provider.authorization_url(pending, redirect_uri(request, tenant))
        except ProviderUnavailable:
            return _refused(request, tenant, platform, "unavailable", 503)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            LOGIN_COOKIE,
            seal(pending, settings.token_pepper),
            max_age=LOGIN_SECONDS,
            path=f"/{tenant.slug}/console/oidc",
            secure=settings.session_cookie_secure,
            httponly=True,
            samesite="lax",  # it must come along on the provider's top-level redirect back
        )
        return response

    @router.get("/callback")
    def callback(request: Request, tenant: TenantDep, platform: PlatformDep) -> Response:
        if provider is None:
            raise NotFound("no identity provider is configured")
        client = credentials_of(request).client
        platform.authenticator.limiter.check(client)
        query = request.query_params
        try:
            pending = unseal(
                request.cookies.get(LOGIN_COOKIE),
                settings.token_pepper,
                tenant=tenant.slug,
                state=query.get("state", ""),
                now=time.time(),
            )
            if "error" in query or not query.get("code"):
                error = query.get("error", "")
                raise LoginRefused(error if error in PROVIDER_ERRORS else "no login code")
            logged_in = _finish(platform, provider, tenant, client, pending, query["code"], request)
        except ProviderUnavailable:
            return _refused(request, tenant, platform, "unavailable", 503)
        except (LoginRefused, OidcError) as refusal:
            login_service.refuse_login(platform, tenant, client)
            return _refused(request, tenant, platform, str(refusal), 401)
        except Unauthenticated as refusal:  # already counted and audited by the login service
            return _refused(request, tenant, platform, refusal.detail, 401)
        response = RedirectResponse(pending.next, status_code=303)
        login_service.set_cookie(response, platform, tenant, logged_in.opened.token)
        response.delete_cookie(LOGIN_COOKIE, path=f"/{tenant.slug}/console/oidc")
        return response

    def _finish(
        platform: Platform,
        provider: IdentityProvider,
        tenant: TenantRef,
        client: str,
        pending: PendingLogin,
        code: str,
        request: Request,
    ) -> login_service.LoggedIn:
        id_token = provider.redeem(code[:2048], pending, redirect_uri(request, tenant))
        if platform.oidc is None:
            raise ProviderUnavailable("OIDC is not enabled")
        claims = platform.oidc.verify_id_token(
            id_token, client_id=settings.oidc.client_id, nonce=pending.nonce
        )
        return login_service.log_in_oidc(platform, tenant, client, claims)

    return router


def _refused(
    request: Request, tenant: TenantRef, platform: Platform, reason: str, status: int
) -> HTMLResponse:
    _ = translations(choose_language(request, tenant.locale)).gettext
    name = platform.settings.oidc.provider_name
    message = (
        _("%(provider)s cannot be reached right now; please try again later or use your key.")
        % {"provider": name}
        if reason == "unavailable"
        else _("The login through %(provider)s was refused: %(reason)s.")
        % {"provider": name, "reason": reason}
    )
    data = {"staff": None, "error": message, "next": "", **login_choices(platform)}
    page = render(request, tenant, "console/login.html", data)
    page.status_code = status
    page.delete_cookie(LOGIN_COOKIE, path=f"/{tenant.slug}/console/oidc")
    return page
