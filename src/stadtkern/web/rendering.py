"""Rendering pages: one Jinja2 environment per language, with localised dates and numbers."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from stadtkern.core.refs import TenantRef
from stadtkern.web.i18n import COOKIE, LANGUAGES, choose_language, translations

TEMPLATES = Path(__file__).parent / "templates"
# Scripts, styles and workers only from our own origin (MapLibre's worker is a module file
# beside it); map canvases export images as data: and blob: URLs.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "worker-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@cache
def environment(language: str) -> Environment:
    """The template environment of a language (built once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda value, digits=1: format_decimal(
        round(float(value), digits), locale=language
    )
    return env


def local_time(value: datetime, tenant: TenantRef, language: str) -> str:
    """A moment in the town's time zone, written as the language writes it."""
    return format_datetime(
        value, format="medium", tzinfo=ZoneInfo(tenant.timezone), locale=language
    )


def render(
    request: Request, tenant: TenantRef, template: str, context: dict[str, Any]
) -> HTMLResponse:
    """A page of the town in the visitor's language; a `?lang=` choice is remembered."""
    language = choose_language(request, tenant.locale)
    page = environment(language).get_template(template)
    other = [code for code in LANGUAGES if code != language]
    html = page.render(
        request=request,
        tenant=tenant,
        language=language,
        other_languages=other,
        path=request.url.path,
        when=lambda moment: local_time(moment, tenant, language),
        **context,
    )
    response = HTMLResponse(html, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") == language:
        response.set_cookie(COOKIE, language, max_age=365 * 86_400, samesite="lax")
    return response
