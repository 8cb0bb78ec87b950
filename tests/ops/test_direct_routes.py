"""DirectRoutes: a matching handler answers, a declining one or any other request reaches the
application, errors go to the application's exception handlers."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from stadtkern.errors import NotFound, StadtkernError
from stadtkern.http.direct import DirectRoute, DirectRoutes


async def ordinary(scope: Scope, receive: Receive, send: Send) -> None:
    """The application behind: says which route it took."""
    route = scope.get("route")
    await PlainTextResponse(f"ordinary {getattr(route, 'path', None)}")(scope, receive, send)


async def handle(request: Request, params: dict[str, str]) -> Response | None:
    if params["name"] == "pass":
        return None
    if params["name"] == "missing":
        raise NotFound("no such thing")
    if params["name"] == "broken":
        raise RuntimeError("unexpected")
    body = await request.body()
    return PlainTextResponse(f"direct {params['name']} {body.decode()}", status_code=201)


async def domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StadtkernError)
    return JSONResponse({"detail": error.detail, "path": request.url.path}, status_code=404)


def client() -> TestClient:
    route = DirectRoute("POST", r"/things/(?P<name>[a-z]+)", "/things/{name}", handle)
    app = DirectRoutes(ordinary, routes=[route], exception_handlers={StadtkernError: domain_error})
    return TestClient(app, raise_server_exceptions=True)


def test_a_matching_request_is_answered_by_its_handler() -> None:
    response = client().post("/things/lantern", content=b"on")
    assert response.status_code == 201
    assert response.text == "direct lantern on"


def test_declined_and_other_requests_reach_the_application() -> None:
    test_client = client()
    assert test_client.post("/things/pass").text == "ordinary None"
    assert test_client.get("/things/lantern").text == "ordinary None"  # another method
    assert test_client.post("/things/Lantern").text == "ordinary None"  # no full match
    assert test_client.post("/things/lantern/more").text == "ordinary None"


def test_errors_go_to_the_applications_handlers() -> None:
    response = client().post("/things/missing")
    assert response.status_code == 404
    assert response.json() == {"detail": "no such thing", "path": "/things/missing"}


def test_errors_without_a_handler_propagate() -> None:
    with pytest.raises(RuntimeError, match="unexpected"):
        client().post("/things/broken")
