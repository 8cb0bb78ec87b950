"""What a Stadtkern module is: the typed contract every built-in and third-party module meets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from stadtkern.core.refs import TenantRef
    from stadtkern.http.direct import DirectRoute
    from stadtkern.platform import Platform


class NoSettings(BaseModel):
    """Settings model of a module that has none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class RoleSpec:
    """A role a module adds to the tenant's role catalogue."""

    name: str
    description: str


@dataclass(frozen=True)
class InboundMessage:
    """An MQTT message for a tenant, with the tenant prefix already removed from the topic."""

    tenant: TenantRef
    topic: str
    payload: bytes
    qos: int
    retain: bool


# Handles the messages of one burst together: per message, None when it is handled (it may be
# acknowledged) or the exception that left it unhandled (it stays unacknowledged).
BurstHandler = Callable[[Sequence[InboundMessage]], Awaitable[Sequence[BaseException | None]]]


@dataclass(frozen=True)
class TopicHandler:
    """An MQTT subscription of a module; `pattern` is relative to the tenant prefix.

    With `handle_burst`, the messages that arrived together are passed to it at once instead
    of to `handle` one by one (the SensorThings ingest stores them as one submission).
    """

    pattern: str
    handle: Callable[[InboundMessage], Awaitable[None]]
    qos: int = 1
    handle_burst: BurstHandler | None = None


BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class BodyAllowance:
    """A route that takes a larger body than the platform's `max_body_bytes` (an upload):
    `path` is a regular expression matched against the whole request path."""

    method: str
    path: str
    limit: int


@dataclass
class ModuleContext:
    """What a module receives when the platform starts it."""

    platform: Platform
    settings: BaseModel
    extras: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class StadtkernModule(Protocol):
    """The contract: name, settings, routers, MQTT handlers, migrations, roles, tasks, hooks."""

    name: str
    title: str
    settings_model: type[BaseModel]
    roles: Sequence[RoleSpec]
    migrations: Path | None
    depends_on: Sequence[str]

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """HTTP routers; tenant routes use the prefix `/{tenant}`."""
        ...

    def topic_handlers(self, context: ModuleContext) -> Sequence[TopicHandler]:
        """MQTT subscriptions relative to the tenant prefix."""
        ...

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """Coroutines run for the lifetime of the platform and cancelled on shutdown."""
        ...

    def body_allowances(self, context: ModuleContext) -> Sequence[BodyAllowance]:
        """Routes whose bodies may exceed the platform's limit (uploads), and by how much."""
        ...

    def direct_routes(self, context: ModuleContext) -> Sequence[DirectRoute]:
        """Hot routes answered without FastAPI's routing (see stadtkern.http.direct)."""
        ...

    def copy_configuration(self, session: Session, source: TenantRef, target: TenantRef) -> None:
        """Copy the tenant's configuration (not its data) when a town adopts another's setup."""
        ...

    async def on_start(self, context: ModuleContext) -> None:
        """Called once after the database and broker are up, before requests are served."""
        ...

    async def on_stop(self, context: ModuleContext) -> None:
        """Called once on shutdown, after requests have drained."""
        ...


class BaseModule:
    """Defaults for the contract; a module subclasses it and overrides what it provides."""

    name: ClassVar[str]
    title: ClassVar[str]
    settings_model: type[BaseModel] = NoSettings
    roles: Sequence[RoleSpec] = ()
    migrations: Path | None = None
    depends_on: Sequence[str] = ("core",)

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """No routers."""
        return ()

    def topic_handlers(self, context: ModuleContext) -> Sequence[TopicHandler]:
        """No MQTT subscriptions."""
        return ()

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """No background tasks."""
        return ()

    def body_allowances(self, context: ModuleContext) -> Sequence[BodyAllowance]:
        """No uploads beyond the platform's body limit."""
        return ()

    def direct_routes(self, context: ModuleContext) -> Sequence[DirectRoute]:
        """No direct routes: every request takes FastAPI's routing."""
        return ()

    def copy_configuration(self, session: Session, source: TenantRef, target: TenantRef) -> None:
        """No configuration of its own to copy."""

    async def on_start(self, context: ModuleContext) -> None:
        """Nothing to start."""

    async def on_stop(self, context: ModuleContext) -> None:
        """Nothing to stop."""
