"""The example module: greetings per tenant, over HTTP and MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.modules import BackgroundTask, BaseModule, ModuleContext, RoleSpec, TopicHandler
from stadtkern.modules.contract import InboundMessage


class ExampleSettings(BaseModel):
    """Settings of the example module."""

    model_config = ConfigDict(extra="forbid")

    salutation: str = "Hallo"


class ExampleModule(BaseModule):
    """Greetings: a template for third-party modules."""

    name = "example"
    title = "Example: greetings"
    settings_model = ExampleSettings
    roles: Sequence[RoleSpec] = (RoleSpec("greeter", "Posts greetings"),)
    migrations = Path(__file__).parent / "migrations"

    def __init__(self) -> None:
        self.heartbeats = 0
        self.started = False

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """The greetings API."""
        from stadtkern_example.api import router

        return [router]

    def topic_handlers(self, context: ModuleContext) -> Sequence[TopicHandler]:
        """Answers pings with pongs."""

        async def ping(message: InboundMessage) -> None:
            await context.platform.mqtt.publish(
                tenant=message.tenant, topic="example/pong", payload=message.payload
            )

        return [TopicHandler(pattern="example/ping", handle=ping)]

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """A heartbeat counter, to show background tasks run and are cancelled."""

        async def heartbeat() -> None:
            while True:
                self.heartbeats += 1
                await asyncio.sleep(1)

        return [heartbeat]

    def copy_configuration(self, session: Session, source: TenantRef, target: TenantRef) -> None:
        """Greetings are configuration: a new town starts with the same ones."""
        from stadtkern_example.service import copy_greetings

        copy_greetings(session=session, source=source, target=target)

    async def on_start(self, context: ModuleContext) -> None:
        """Remember that the platform started us."""
        self.started = True

    async def on_stop(self, context: ModuleContext) -> None:
        """Remember that the platform stopped us."""
        self.started = False


module = ExampleModule()
