"""ASGI middleware: body size limit, request ids, access log and HTTP metrics."""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stadtkern.http.problems import PROBLEM_JSON, TYPE_BASE

if TYPE_CHECKING:
    from stadtkern.modules.contract import BodyAllowance

log = logging.getLogger("stadtkern.access")


class BodyTooLarge(Exception):
    """The request body grew past the limit while it was read."""


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses bodies over `limit` bytes with 413, by Content-Length or while streaming."""

    def __init__(
        self, app: ASGIApp, *, limit: int, allowances: Sequence[BodyAllowance] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.allowances = [
            (allowance.method.upper(), re.compile(allowance.path), allowance.limit)
            for allowance in allowances
        ]

    def limit_of(self, scope: Scope) -> int:
        """The platform's limit, or the larger one a module allows for this route."""
        method, path = scope.get("method", ""), scope.get("path", "")
        for allowed_method, pattern, limit in self.allowances:
            if method == allowed_method and pattern.fullmatch(path):
                return max(limit, self.limit)
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_problem(send, 400, "Bad request", "invalid Content-Length")
                    return
                if declared > limit:
                    await _send_problem(send, 413, "Request body too large", _detail(limit))
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_problem(send, 413, "Request body too large", _detail(limit))


def _detail(limit: int) -> str:
    return f"the request body exceeds {limit} bytes"


class RequestContext:
    """Gives each request an id, logs it and counts it by route template (not raw path)."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "stadtkern_http_requests_total",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "stadtkern_http_request_seconds",
            "HTTP request duration by method and route",
            ["method", "route"],
            registry=registry,
        )
        # Request ids: 20 random hex digits of this instance and a 12-digit counter, 32 in
        # all like a UUID's hex, unique without a system call per request.
        self._id_prefix = secrets.token_hex(10)
        self._numbers = itertools.count(1)

    def new_request_id(self) -> str:
        """An id for a request that brought none."""
        return f"{self._id_prefix}{next(self._numbers):012x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or self.new_request_id()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(elapsed)
            log.info(
                "%s %s %s %.1fms",
                method,
                scope.get("path", ""),
                status,
                elapsed * 1000,
                extra={"request_id": request_id, "status": status, "route": route},
            )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text = value.decode("latin-1")
            return text[:64] if text.isprintable() else None
    return None


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"
