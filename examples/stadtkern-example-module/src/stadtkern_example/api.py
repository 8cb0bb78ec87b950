"""HTTP adapter of the example module."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from stadtkern.core.refs import Identity
from stadtkern.core.roles import VIEWER
from stadtkern.core.schemas import RequestBody, RowId
from stadtkern.http.deps import PlatformDep, TenantDep, require
from stadtkern.http.problems import responses
from stadtkern_example import service

router = APIRouter(
    prefix="/{tenant}/example", tags=["example"], responses=responses(401, 403, 404, 429)
)


class GreetingCreate(RequestBody):
    """A new greeting."""

    text: str = Field(min_length=1, max_length=200)


class GreetingPublic(BaseModel):
    """A greeting as the API shows it."""

    id: int
    text: str


@router.get("/greetings", summary="List greetings")
def list_greetings(
    platform: PlatformDep, tenant: TenantDep, _viewer: Annotated[Identity, Depends(require(VIEWER))]
) -> list[GreetingPublic]:
    """The tenant's greetings."""
    with platform.database.read() as session:
        return [
            GreetingPublic(id=g.id, text=g.text)
            for g in service.list_greetings(session=session, tenant=tenant)
        ]


@router.post("/greetings", status_code=status.HTTP_201_CREATED, summary="Post a greeting")
def create_greeting(
    body: GreetingCreate,
    response: Response,
    platform: PlatformDep,
    tenant: TenantDep,
    _greeter: Annotated[Identity, Depends(require("greeter"))],
) -> GreetingPublic:
    """Store a greeting (role greeter)."""
    with platform.database.write() as session:
        greeting = service.create_greeting(session=session, tenant=tenant, text=body.text)
        public = GreetingPublic(id=greeting.id, text=greeting.text)
    response.headers["Location"] = f"/{tenant.slug}/example/greetings/{public.id}"
    return public


@router.get("/greetings/{greeting_id}", summary="Show a greeting")
def show_greeting(
    greeting_id: RowId,
    platform: PlatformDep,
    tenant: TenantDep,
    _viewer: Annotated[Identity, Depends(require(VIEWER))],
) -> GreetingPublic:
    """One greeting."""
    with platform.database.read() as session:
        greeting = service.get_greeting(session=session, tenant=tenant, greeting_id=greeting_id)
        return GreetingPublic(id=greeting.id, text=greeting.text)
