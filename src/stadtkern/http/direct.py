"""Direct routes: a few hot routes answered without FastAPI's routing and dependency solving.

A module names a route whose requests come often and cost little of their own (a sensor's
single Observation): a method, a path pattern, the route's template and a handler. The
handler resolves what the route's dependencies would (by calling the same functions) and
answers with a Response, or declines with None before it reads the body, and the request
takes the ordinary way. `DirectRoutes` sits inside the platform's middleware, so request
ids, metrics (by the route's template), the access log and the body limit apply unchanged;
an error a handler raises is answered by the application's own exception handlers
(problem+json), and anything they do not handle propagates as from any route.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

# handler(request, path parameters): the answer, or None for the ordinary route.
DirectHandler = Callable[[Request, dict[str, str]], Awaitable[Response | None]]
ExceptionHandler = Callable[[Request, Exception], Any]


@dataclass(frozen=True)
class DirectRoute:
    """`method` requests whose whole path matches `pattern` (named groups: the path
    parameters); `path` is the template of the ordinary route, used for metrics."""

    method: str
    pattern: str
    path: str
    handler: DirectHandler = field(compare=False)


class DirectRoutes:
    """Answers the direct routes' requests; passes every other request on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[DirectRoute],
        exception_handlers: Mapping[Any, ExceptionHandler],
    ) -> None:
        self.app = app
        self.routes = [(route, re.compile(route.pattern)) for route in routes]
        self.exception_handlers = exception_handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.routes or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        for route, pattern in self.routes:
            if route.method != method:
                continue
            matched = pattern.fullmatch(path)
            if matched is not None and await self._answer(route, matched, scope, receive, send):
                return
        await self.app(scope, receive, send)

    async def _answer(
        self, route: DirectRoute, matched: re.Match[str], scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """Answer through the route's handler; False when it declined."""
        request = Request(scope, receive)
        try:
            response = await route.handler(request, matched.groupdict())
        except Exception as error:
            handler = self._handler_of(error)
            if handler is None:
                scope["route"] = route
                raise
            response = handler(request, error)
            if inspect.isawaitable(response):
                response = await response
        if response is None:
            return False
        scope["route"] = route  # the metrics count it under the ordinary route's template
        await response(scope, receive, send)
        return True

    def _handler_of(self, error: Exception) -> ExceptionHandler | None:
        """The application's handler of this error, as its exception middleware finds it
        (errors handled only by the catch-all are left to the server-error middleware)."""
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            handler = self.exception_handlers.get(kind)
            if handler is not None:
                return handler
        return None
