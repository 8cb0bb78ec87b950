"""RFC 9457 problem details for every error the HTTP API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from stadtkern.errors import StadtkernError, TooManyRequests, Unauthenticated

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://stadtkern.org/problems/"
log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
}


class FieldError(BaseModel):
    """One reason a request did not match the expected schema."""

    location: str
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: the answer to every request that failed."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of error answers a route gives (documented as problem+json)."""
    return {status: _declaration(status) for status in statuses}


def _declaration(status: int) -> dict[str, Any]:
    return {
        "description": _TITLES[status],
        **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
    }


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response."""
    title = title or _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": TYPE_BASE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="stadtkern"')
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors = []
    malformed = False
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            malformed = True
        errors.append(
            {
                "location": ".".join(str(part) for part in error.get("loc", ())),
                "message": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    if malformed:
        return 400, "the request body is not valid JSON", errors
    return 422, "the request does not match the expected schema", errors


def _document(document: dict[str, Any]) -> None:
    """Declare 400 and 413 wherever a body is read, and problem+json for every error answer."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    # FastAPI's default for 422 describes its own error body, which this platform never sends.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            declared = operation.setdefault("responses", {})
            if "requestBody" in operation:
                for status in (400, 413):
                    declared.setdefault(str(status), _declaration(status))
            for status, answer in declared.items():
                if status[0] in "45":
                    answer["content"] = content


def install(app: FastAPI) -> None:
    """Answer every error with problem+json, and say so in the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        # FastAPI caches the document, and builds a new one when the routes change.
        if "Problem" not in document.get("components", {}).get("schemas", {}):
            _document(document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StadtkernError)
    async def _domain(request: Request, exc: StadtkernError) -> JSONResponse:
        headers = {}
        if isinstance(exc, Unauthenticated) and exc.challenge:
            headers["WWW-Authenticate"] = exc.challenge
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        return problem(
            exc.status,
            exc.detail,
            title=exc.title,
            instance=request.url.path,
            headers=headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail, errors = _validation_errors(exc)
        return problem(status, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return problem(
            exc.status_code, detail, instance=request.url.path, headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred", instance=request.url.path)
