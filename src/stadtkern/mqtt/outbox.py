"""The durable outbox table: rows written in the caller's transaction, leased to one sender.

A process sends a row only while it holds the row's lease (`claimed_by` = its MQTT client id,
`claimed_until` in the future). Claiming is one write transaction: on PostgreSQL the rows are
locked with FOR UPDATE SKIP LOCKED, so two processes claiming at once take disjoint rows; on
SQLite the database's single writer serialises the claims. A row whose lease has expired (its
process died) is taken over by the next claim of any process.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from stadtkern.core.models import MqttOutboxEntry
from stadtkern.db.database import Database


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One outbox row, detached from its session."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Outlook:
    """What a read-only look at the outbox found."""

    claimable: bool
    depth: int | None  # None when the rows were not counted


@dataclass(frozen=True, slots=True)
class Claimed:
    """The rows a claim took, and the depth when it counted."""

    messages: list[OutboxMessage]
    depth: int | None


def add_entry(session: Session, *, topic: str, payload: bytes, qos: int, retain: bool) -> None:
    """Add an outbox row inside the caller's transaction."""
    session.add(MqttOutboxEntry(topic=topic, payload=payload, qos=qos, retain=retain, attempts=0))


def add_entries(
    session: Session, messages: Sequence[tuple[str, bytes]], *, qos: int, retain: bool
) -> None:
    """Add many outbox rows in one statement inside the caller's transaction (in order)."""
    if messages:
        session.execute(
            insert(MqttOutboxEntry),
            [
                {"topic": topic, "payload": payload, "qos": qos, "retain": retain, "attempts": 0}
                for topic, payload in messages
            ],
        )


def claimable(owner: str, *, exclude: Collection[int], now: datetime) -> ColumnElement[bool]:
    """Rows `owner` may take: unclaimed, its own (a previous run's) or with an expired lease."""
    condition = or_(
        MqttOutboxEntry.claimed_by.is_(None),
        MqttOutboxEntry.claimed_by == owner,
        MqttOutboxEntry.claimed_until < now,
    )
    if exclude:
        condition = and_(condition, MqttOutboxEntry.id.not_in(exclude))
    return condition


def look(
    database: Database, *, owner: str, exclude: Collection[int], now: datetime, count: bool
) -> Outlook:
    """Read whether any row waits for `owner` (and count the rows when asked); never writes."""
    with database.read() as session:
        first = session.scalar(
            select(MqttOutboxEntry.id)
            .where(claimable(owner, exclude=exclude, now=now))
            .order_by(MqttOutboxEntry.id)
            .limit(1)
        )
        return Outlook(claimable=first is not None, depth=_count(session) if count else None)


def claim(
    database: Database,
    *,
    owner: str,
    lease: timedelta,
    delivered: Collection[int],
    renew: Collection[int],
    exclude: Collection[int],
    limit: int,
    now: datetime,
    count: bool,
) -> Claimed:
    """Delete delivered rows, renew the leases of `renew` and lease up to `limit` further rows."""
    until = now + lease
    with database.write() as session:
        if delivered:
            session.execute(delete(MqttOutboxEntry).where(MqttOutboxEntry.id.in_(delivered)))
        if renew:
            # A row another process has taken over in the meantime stays with that process.
            session.execute(
                update(MqttOutboxEntry)
                .where(MqttOutboxEntry.id.in_(renew), MqttOutboxEntry.claimed_by == owner)
                .values(claimed_until=until)
            )
        messages: list[OutboxMessage] = []
        if limit > 0:
            query = (
                select(MqttOutboxEntry)
                .where(claimable(owner, exclude=exclude, now=now))
                .order_by(MqttOutboxEntry.id)
                .limit(limit)
                .with_for_update(skip_locked=True)  # SQLite renders nothing: its writer is alone
            )
            messages = [
                OutboxMessage(row.id, row.topic, row.payload, row.qos, row.retain)
                for row in session.scalars(query)
            ]
        if messages:
            session.execute(
                update(MqttOutboxEntry)
                .where(MqttOutboxEntry.id.in_([message.id for message in messages]))
                .values(
                    claimed_by=owner,
                    claimed_until=until,
                    attempts=MqttOutboxEntry.attempts + 1,
                )
            )
        return Claimed(messages=messages, depth=_count(session) if count else None)


def release(database: Database, *, owner: str, delivered: Collection[int]) -> None:
    """Delete delivered rows and give up `owner`'s leases, so another process may send at once."""
    with database.write() as session:
        if delivered:
            session.execute(delete(MqttOutboxEntry).where(MqttOutboxEntry.id.in_(delivered)))
        session.execute(
            update(MqttOutboxEntry)
            .where(MqttOutboxEntry.claimed_by == owner)
            .values(claimed_by=None, claimed_until=None)
        )


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MqttOutboxEntry)) or 0
