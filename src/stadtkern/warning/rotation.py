"""Rotating a channel's signing key without a moment in which lanterns refuse commands.

1. `start`: a next key is made and announced to every lantern in a rotate_key command signed
   by the current key (lanterns add it; the command is delivered and retried like any other).
2. `finish`: once the lanterns have it (their heartbeats list their key ids), the next key
   becomes active and a rotate_key command signed by the NEW key tells lanterns to drop the
   old one. Commands from then on are signed by the new key.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.devices.lantern.protocol import Channel
from stadtkern.warning import keys
from stadtkern.warning.alerts import person_of
from stadtkern.warning.dispatch import WarningEnv, lock_tenant, send_commands
from stadtkern.warning.models import Alert, Lantern, SigningKey
from stadtkern.warning.states import ACTIVE

EVENT = {"de": "Schlüsselwechsel", "en": "Key rotation"}


def _system_alert(
    session: Session,
    tenant: TenantRef,
    channel: Channel,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> Alert:
    alert = Alert(
        tenant_id=tenant.id,
        identifier=f"{tenant.slug}-keys-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
        sender=env.sender(tenant),
        status="System",
        msg_type="Alert",
        channel=channel,
        state=ACTIVE,
        signal="none",
        repeat=1,
        content={"event": EVENT["de"], "headline": EVENT, "capAreas": [], "voice": None},
        area={},
        expires_at=now + timedelta(seconds=env.settings.command_ttl_seconds),
        created_at=now,
        sent_at=now,
        issued_by=who.actor,
        issuer_person=person_of(who),
        dedup_key=secrets.token_hex(16),
        source="rotation",
        targeted=0,
    )
    session.add(alert)
    session.flush()
    return alert


def _all_lanterns(session: Session, tenant: TenantRef) -> list[Lantern]:
    return list(
        session.scalars(
            select(Lantern).where(Lantern.tenant_id == tenant.id).order_by(Lantern.code)
        )
    )


def start(
    session: Session,
    tenant: TenantRef,
    channel: Channel,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> tuple[SigningKey, Alert]:
    """Make the next key and announce it to every lantern (signed by the current key)."""
    lock_tenant(session, tenant.id)
    upcoming = keys.prepare_rotation(session, tenant, channel, env.secret)
    alert = _system_alert(session, tenant, channel, who, env, now)
    send_commands(
        session,
        tenant,
        alert,
        _all_lanterns(session, tenant),
        action="rotate_key",
        env=env,
        now=now,
        key={"kid": upcoming.kid, "publicKey": upcoming.public_key},
    )
    audit.record(
        session,
        actor=who.actor,
        action="warning.key.rotate",
        target=f"key:{upcoming.kid}",
        tenant_slug=tenant.slug,
        payload={"channel": channel, "alert": alert.identifier},
    )
    return upcoming, alert


def finish(
    session: Session,
    tenant: TenantRef,
    channel: Channel,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> tuple[SigningKey, Alert, int]:
    """Switch to the next key; tell lanterns to drop the old one. Also returns how many
    lanterns had not reported the new key yet (they will refuse new commands)."""
    lock_tenant(session, tenant.id)
    old = [
        row.kid
        for row in keys.ensure_keys(session, tenant, env.secret)
        if row.channel == channel and row.state == keys.ACTIVE
    ]
    active = keys.complete_rotation(session, tenant, channel)
    lanterns = _all_lanterns(session, tenant)
    missing = sum(
        1 for lantern in lanterns if active.kid not in (lantern.keys or {}).get(channel, [])
    )
    alert = _system_alert(session, tenant, channel, who, env, now)
    send_commands(
        session,
        tenant,
        alert,
        lanterns,
        action="rotate_key",
        env=env,
        now=now,
        retire=tuple(old),
    )
    audit.record(
        session,
        actor=who.actor,
        action="warning.key.activate",
        target=f"key:{active.kid}",
        tenant_slug=tenant.slug,
        payload={"channel": channel, "retired": old, "lanternsWithoutKey": missing},
    )
    return active, alert, missing
