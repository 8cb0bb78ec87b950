"""Web pages: the citizen portal (public) and, growing, the staff console.

Server-rendered HTML (Jinja2) in German and English, with small scripts and vendored
libraries only: nothing is loaded from another site. Pages are thin adapters over the
service layers of the modules whose data they show. See docs/web.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from stadtkern.modules.contract import BaseModule, ModuleContext
from stadtkern.web.settings import WebSettings


class WebModule(BaseModule):
    """The citizen portal (`/{tenant}/portal/`), the staff console (`/{tenant}/console/`) and
    the shared static assets."""

    name = "web"
    title = "Citizen portal and web console"
    settings_model = WebSettings
    depends_on = ("core",)

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """The portal's and the console's pages, and the static assets."""
        from stadtkern.web.assets import build_assets_router
        from stadtkern.web.console import build_console_router
        from stadtkern.web.console_admin import build_admin_routers
        from stadtkern.web.console_live import build_live_router
        from stadtkern.web.console_oidc import build_oidc_router
        from stadtkern.web.console_streams import build_stream_router
        from stadtkern.web.portal import build_portal_router
        from stadtkern.web.portal_streams import build_portal_stream_router

        routers = [
            build_portal_router(context),
            build_portal_stream_router(context),
            build_console_router(context),
            build_live_router(context),
            build_oidc_router(context),
            *build_admin_routers(context),
            build_stream_router(context),
        ]
        if "warning" in context.platform.contexts:
            from stadtkern.web.console_warning import build_warning_console_router

            routers.append(build_warning_console_router(context))
        if "maengelmelder" in context.platform.contexts:
            from stadtkern.web.console_reports import build_reports_console_routers
            from stadtkern.web.portal_reports import build_portal_reports_router

            routers.append(build_portal_reports_router(context))
            routers += build_reports_console_routers(context)
        return [*routers, build_assets_router()]

    async def on_stop(self, context: ModuleContext) -> None:
        """End the console's live streams and their reads."""
        from stadtkern.web.console_live import close_live_feed

        await close_live_feed(context)


module = WebModule()
