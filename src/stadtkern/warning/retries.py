"""Resend what lanterns have not answered, until it expires; close alerts whose time is up.

A command without an answer is resent byte for byte (same id and counter: the lantern
answers a duplicate without playing it twice) after `retry_seconds`, doubling up to
`retry_backoff_max_seconds`; a command whose signal was reported received or started but not
yet finished is resent too, so that a lost "finished" report is asked for again (the lantern
answers a resent command with its last report). When it expires unanswered the lantern counts
as silent.
While the outbox is behind by more than a retry interval, nothing is resent: the commands
may still be waiting to leave, and copies would only lengthen the queue.
On PostgreSQL, several platform processes share the work (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import MqttOutboxEntry, Tenant
from stadtkern.core.tenants import to_ref
from stadtkern.devices.lantern.protocol import command_topic
from stadtkern.warning.coverage import coverage
from stadtkern.warning.dispatch import WarningEnv, channel_named
from stadtkern.warning.models import Alert, Delivery, Lantern
from stadtkern.warning.states import (
    ACTIVE,
    EXPIRED,
    PENDING,
    RECEIVED,
    SILENT,
    STARTED,
    TARGETED,
)

RESEND_BATCH = 5000


def resend_due(session: Session, env: WarningEnv, now: datetime) -> int:
    """Resend the due, unanswered commands; mark the expired ones silent. Returns resends."""
    session.execute(
        update(Delivery)
        .where(Delivery.state == TARGETED, Delivery.expires_at <= now)
        .values(state=SILENT, next_attempt_at=None)
    )
    backlog = session.scalar(select(func.min(MqttOutboxEntry.created_at)))
    if backlog is not None and backlog <= now - timedelta(seconds=env.settings.retry_seconds):
        # The outbox is behind by more than a retry interval: the unanswered commands may
        # not even have left yet, and copies would only lengthen the queue.
        return 0
    query = (
        select(Delivery, Lantern.code)
        .join(Lantern, Lantern.id == Delivery.lantern_id)
        .where(
            Delivery.state.in_((TARGETED, RECEIVED, STARTED)),
            Delivery.next_attempt_at <= now,
            Delivery.expires_at > now,
        )
        .order_by(Delivery.next_attempt_at)
        .limit(RESEND_BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    due = session.execute(query).all()
    by_tenant: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
    settings = env.settings
    for delivery, code in due:
        wait = min(
            settings.retry_seconds * 2**delivery.attempts, settings.retry_backoff_max_seconds
        )
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=wait)
        by_tenant[delivery.tenant_id].append(
            (command_topic(code, channel_named(delivery.channel)), delivery.envelope)
        )
    for tenant_id, messages in by_tenant.items():
        tenant = session.get(Tenant, tenant_id)
        if tenant is not None:
            env.outbox.enqueue_many(session, tenant=to_ref(tenant), messages=messages, qos=1)
    return len(due)


def close_expired(session: Session, now: datetime) -> int:
    """Alerts whose time is up become expired; the final per-lantern figures are audited."""
    expired = list(
        session.scalars(
            select(Alert)
            .where(Alert.state.in_((ACTIVE, PENDING)), Alert.expires_at <= now)
            .limit(100)
        )
    )
    for alert in expired:
        alert.state = EXPIRED
        tenant = session.get(Tenant, alert.tenant_id)
        audit.record(
            session,
            actor="stadtkern",
            action="warning.alert.expire",
            target=f"alert:{alert.identifier}",
            tenant_slug=tenant.slug if tenant is not None else None,
            payload=coverage(session, alert, now).as_json(),
        )
    return len(expired)
