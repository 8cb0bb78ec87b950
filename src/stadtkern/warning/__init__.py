"""Public warning through smart street lanterns: sirens and voice, signed and acknowledged.

Alerts are OASIS CAP 1.2 messages; each becomes signed commands to the lanterns of its area,
delivered through the durable MQTT outbox and acknowledged per lantern. Real alerts need a
second person; exercises are signed with another key on other topics. See docs/warning.md
and, for device makers, docs/lantern-protocol.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from stadtkern.modules.contract import (
    BackgroundTask,
    BaseModule,
    ModuleContext,
    RoleSpec,
    TopicHandler,
)
from stadtkern.warning.settings import WarningSettings

ISSUER = "warning_issuer"
APPROVER = "warning_approver"


class WarningModule(BaseModule):
    """Lantern register, warning zones, CAP alerts, signed delivery, health, warning day."""

    name = "warning"
    title = "Public warning through smart lanterns (CAP 1.2)"
    settings_model = WarningSettings
    migrations = Path(__file__).parent / "migrations"
    depends_on = ("core", "sensorthings")
    roles = (
        RoleSpec(ISSUER, "Composes alerts and sends exercises and tests"),
        RoleSpec(APPROVER, "Approves real alerts issued by someone else"),
    )

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """`/{tenant}/warning/...`: register, zones, alerts, CAP in and out, warning days."""
        from stadtkern.warning.api import build_routers

        return build_routers(context)

    def topic_handlers(self, context: ModuleContext) -> Sequence[TopicHandler]:
        """Acknowledgements and heartbeats of the lanterns."""
        from stadtkern.warning.wiring import topic_handlers

        return topic_handlers(context)

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """Resend unanswered commands until they expire; start due warning days."""
        from stadtkern.warning.wiring import background_tasks

        return background_tasks(context)

    async def on_stop(self, context: ModuleContext) -> None:
        """Write the lantern reports still queued (their PUBACKs wait for it)."""
        from stadtkern.warning.wiring import stop

        await stop(context)


module = WarningModule()
