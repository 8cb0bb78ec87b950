"""From an approved alert to signed commands in the outbox, in the caller's transaction.

Every lantern of the alert's area gets its own command: signed with the channel's key,
numbered with a counter that is new for this dispatch, valid until its expiry. The command's
bytes are kept in `warn_delivery`, so a resend is byte-identical and the lantern can tell a
duplicate from a replay. Delivery rows and outbox rows commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.devices.lantern.protocol import Channel, Command, command_topic, sign_command
from stadtkern.warning import keys
from stadtkern.warning.models import Alert, CommandCounter, Delivery, Lantern, Target
from stadtkern.warning.settings import WarningSettings
from stadtkern.warning.states import TARGETED

Action = Literal["sound", "stop", "rotate_key"]


class Outbox(Protocol):
    """Where commands go: the platform's MQTT service (its transactional outbox)."""

    def enqueue_many(
        self,
        session: Session,
        *,
        tenant: TenantRef | None,
        messages: Sequence[tuple[str, bytes]],
        qos: int = 1,
    ) -> None:
        """Add publishes to the outbox in the caller's transaction."""
        ...


@dataclass(frozen=True)
class WarningEnv:
    """What the warning services need from the running platform."""

    settings: WarningSettings
    secret: bytes
    outbox: Outbox

    def sender(self, tenant: TenantRef) -> str:
        """The CAP sender of the tenant's messages."""
        return self.settings.sender or f"stadtkern@{tenant.slug}"


def channel_named(name: str) -> Channel:
    """A stored channel name as the protocol's type."""
    if name == "live":
        return "live"
    if name == "exercise":
        return "exercise"
    raise ValueError(f"no channel {name!r}")


def lock_tenant(session: Session, tenant_id: int) -> None:
    """Serialise alert decisions of one tenant until the transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite: its single writer already does.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :tenant)"),
            {"space": 0x5741524E, "tenant": tenant_id},  # 'WARN'
        )


def next_counter(session: Session, tenant_id: int, channel: str) -> int:
    """A command counter larger than every one handed out before for the tenant's channel."""
    dialect = session.get_bind().dialect.name
    factory = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        factory(CommandCounter)
        .values(tenant_id=tenant_id, channel=channel, value=1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "channel"],
            set_={"value": CommandCounter.value + 1},
        )
        .returning(CommandCounter.value)
    )
    return int(session.execute(statement).scalar_one())


def send_commands(
    session: Session,
    tenant: TenantRef,
    alert: Alert,
    lanterns: Sequence[Lantern | Target],
    *,
    action: Action,
    env: WarningEnv,
    now: datetime,
    key: dict[str, str] | None = None,
    retire: tuple[str, ...] = (),
    stops: str | None = None,
) -> int:
    """Sign one command per lantern, record the deliveries and enqueue the publishes.

    `key` and `retire` belong to rotate_key: the key to add, the key ids to drop. A stop
    names the alert whose signal it stops (`stops`, the cancelled alert's identifier)."""
    if not lanterns:
        return 0
    channel = channel_named(alert.channel)
    counter = next_counter(session, tenant.id, channel)
    signer = keys.signer(session, tenant, channel, env.secret)
    expires = min(alert.expires_at, now + timedelta(seconds=env.settings.command_ttl_seconds))
    first_retry = now + timedelta(seconds=env.settings.retry_seconds)
    content = alert.content
    rows: list[dict[str, object]] = []
    messages: list[tuple[str, bytes]] = []
    for lantern in lanterns:
        command = Command(
            id=uuid.uuid4().hex,
            tenant=tenant.slug,
            lantern=lantern.code,
            channel=channel,
            counter=counter,
            issued=now,
            expires=expires,
            alert=stops if action == "stop" and stops else alert.identifier,
            action=action,
            signal=alert.signal if action == "sound" else "none",
            voice=content.get("voice") if action == "sound" else None,
            audio=content.get("audio") if action == "sound" else None,
            repeat=alert.repeat,
            key=key,
            retire=retire,
        )
        envelope = sign_command(command, kid=signer.kid, private_key=signer.private_key)
        messages.append((command_topic(lantern.code, channel), envelope))
        rows.append(
            {
                "tenant_id": tenant.id,
                "alert_id": alert.id,
                "lantern_id": lantern.id,
                "command_id": command.id,
                "counter": counter,
                "channel": channel,
                "action": action,
                "envelope": envelope,
                "state": TARGETED,
                "attempts": 1,
                "next_attempt_at": first_retry,
                "expires_at": expires,
            }
        )
    session.execute(insert(Delivery), rows)
    env.outbox.enqueue_many(session, tenant=tenant, messages=messages, qos=1)
    alert.counter = counter
    alert.targeted = len(rows)
    return len(rows)
