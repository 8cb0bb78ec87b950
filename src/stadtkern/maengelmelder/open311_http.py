"""HTTP plumbing of the Open311 API: answers in the format the path asks for, errors in the
standard Open311 shape (never problem+json), and the parsing of the query parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from stadtkern.errors import InvalidInput, NotFound, StadtkernError, TooManyRequests
from stadtkern.maengelmelder import open311_format as fmt

log = logging.getLogger(__name__)
# Our domain errors onto the codes Open311 clients expect: a refused key is 403, bad input 400.
_STATUS = {401: 403, 422: 400}


def respond(
    kind: str, root: str, item: str | None, content: Any, status_code: int = 200
) -> Response:
    """`content` as JSON or as XML under `root` (with one `item` element per entry)."""
    if kind == "xml":
        return Response(
            fmt.to_xml(root, item, content),
            status_code=status_code,
            media_type=f"{fmt.XML_TYPE}; charset=utf-8",
        )
    import json

    return Response(
        json.dumps(content, ensure_ascii=False),
        status_code=status_code,
        media_type=fmt.JSON_TYPE,
    )


def error_response(path: str, status: int, description: str, headers: dict[str, str]) -> Response:
    """The standard error list in the format the path names (JSON unless it ends in .xml)."""
    kind = "xml" if path.endswith(".xml") else "json"
    answer = respond(kind, "errors", "error", [fmt.error(status, description)], status)
    answer.headers.update(headers)
    return answer


class Open311Route(APIRoute):
    """A route whose every failure answers in Open311's shape, once the path names a town
    that runs the Mängelmelder (elsewhere there is no endpoint: the platform's 404 problem)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            path = request.url.path
            platform = request.app.state.platform
            tenant = await platform.resolve_tenant(request.path_params.get("tenant", ""))
            if tenant is None or not tenant.has_module("maengelmelder"):
                # No Open311 endpoint here: the platform's own 404 problem, as on every route.
                return await handler(request)
            try:
                return await handler(request)
            except StadtkernError as exc:
                headers = {}
                if isinstance(exc, TooManyRequests):
                    headers["Retry-After"] = str(exc.retry_after)
                return error_response(
                    path, _STATUS.get(exc.status, exc.status), exc.detail, headers
                )
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(part) for part in first.get("loc", ())[1:])
                return error_response(path, 400, f"{where}: {first.get('msg', 'invalid')}", {})
            except HTTPException as exc:
                return error_response(path, exc.status_code, str(exc.detail), {})

        return answer


def parse_time(value: str | None, name: str) -> datetime | None:
    """A W3C date-time parameter (with offset), or None when absent."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be a W3C date-time such as 2027-01-01T00:00:00Z") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone offset (e.g. Z)")
    return moment


def parse_list(value: str | None) -> tuple[str, ...]:
    """A comma-separated parameter as its non-empty parts."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_ids(value: str | None) -> tuple[int, ...]:
    """service_request_id: a comma list of ids."""
    ids = []
    for part in parse_list(value):
        if not part.isdigit() or len(part) > 18:
            raise InvalidInput(f"service_request_id '{part}' is not a service request id")
        ids.append(int(part))
    return tuple(ids)


def parse_float(value: str | None, name: str) -> float | None:
    """A number parameter, or None when absent."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number") from None


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """bbox=west,south,east,north in degrees (WGS 84)."""
    if not value:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise InvalidInput("bbox must be west,south,east,north")
    numbers = [parse_float(part, "bbox") for part in parts]
    if any(number is None for number in numbers):
        raise InvalidInput("bbox must be west,south,east,north")
    west, south, east, north = (float(number or 0.0) for number in numbers)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox must be west,south,east,north with west <= east, south <= north")
    return (west, south, east, north)


def check_jurisdiction(jurisdiction_id: str | None, slug: str) -> None:
    """A jurisdiction_id, when given, must name this town (its slug)."""
    if jurisdiction_id and jurisdiction_id != slug:
        raise NotFound(f"jurisdiction_id '{jurisdiction_id}' is not served here; use '{slug}'")
