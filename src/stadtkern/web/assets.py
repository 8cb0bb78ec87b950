"""The pages' static files (our own and the vendored libraries) under `/static/web/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from stadtkern.core.api import PUBLIC
from stadtkern.errors import NotFound

STATIC = (Path(__file__).parent / "static").resolve()
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",  # module scripts and module workers need a JavaScript type
    ".css": "text/css",
}
SERVED = frozenset((".js", ".mjs", ".css", ".png", ".svg", ".woff2"))


def build_assets_router() -> APIRouter:
    """GET `/static/web/{path}`: files of the package's static folder, nothing else."""
    router = APIRouter(tags=["web"])

    @router.get(
        "/static/web/{path:path}",
        summary="Static file of the web pages",
        include_in_schema=False,
        openapi_extra=PUBLIC,
    )
    def static_file(path: str) -> FileResponse:
        """A file inside the static folder (never outside it), cached for an hour."""
        target = (STATIC / path).resolve()
        if not target.is_relative_to(STATIC) or not target.is_file():
            raise NotFound("no such file")
        if target.suffix not in SERVED:
            raise NotFound("no such file")
        return FileResponse(
            target,
            media_type=MEDIA_TYPES.get(target.suffix),
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return router
