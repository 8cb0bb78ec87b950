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
from stadtkern.web.settings import WebSettings

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_SETTINGS = WebSettings()


@cache
def security_headers(map_origins: tuple[str, ...] = ()) -> dict[str, str]:
    """The headers of every page. Scripts, styles and workers only from our own origin
    (MapLibre's worker is a module file beside it); map canvases export images as data: and
    blob: URLs; a configured production base map adds exactly its origins to the images and
    connections (tiles, style, sprites and glyphs are fetched, tiles drawn as images)."""
    extra = "".join(f" {origin}" for origin in map_origins)
    policy = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob:{extra}; worker-src 'self'; connect-src 'self'{extra}; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def web_settings(request: Request) -> WebSettings:
    """The web module's settings of the application serving this request."""
    platform = getattr(request.app.state, "platform", None)
    context = platform.contexts.get("web") if platform is not None else None
    settings = getattr(context, "settings", None)
    return settings if isinstance(settings, WebSettings) else DEFAULT_SETTINGS


def base_map_attributes(settings: WebSettings) -> dict[str, str | None]:
    """What a map element tells base-map.js (`{{ base_map|xmlattr }}`): the configured style
    or tiles; none of them means the offline base layer."""
    return {
        "data-base-style": settings.base_map_style_url or None,
        "data-base-tiles": settings.base_map_tiles or None,
        "data-base-attribution": settings.base_map_attribution or None,
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
    settings = web_settings(request)
    html = page.render(
        request=request,
        tenant=tenant,
        language=language,
        other_languages=other,
        path=request.url.path,
        when=lambda moment: local_time(moment, tenant, language),
        base_map=base_map_attributes(settings),
        **context,
    )
    headers = security_headers(tuple(settings.base_map_sources()))
    response = HTMLResponse(html, headers=headers)
    if request.query_params.get("lang") == language:
        response.set_cookie(COOKIE, language, max_age=365 * 86_400, samesite="lax")
    return response
