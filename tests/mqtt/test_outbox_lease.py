"""Several processes on one outbox: leases, take-over of a dead process's rows, no duplicates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import anyio
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from stadtkern.core.models import MqttOutboxEntry
from stadtkern.db import Database
from stadtkern.db.base import utcnow
from stadtkern.mqtt import MqttService
from stadtkern.mqtt.outbox import add_entry, claim
from tests.mqtt.wire import (
    TIMEOUT,
    Subscriber,
    eventually,
    outbox_topics,
    send_on_wire,
    settings_for,
    tenant_ref,
    unique,
)

pytestmark = pytest.mark.anyio

MINUTE = timedelta(minutes=1)


async def no_tenant(_slug: str) -> None:
    return None


def add_rows(database: Database, prefix: str, count: int) -> list[int]:
    with database.write() as session:
        for number in range(count):
            add_entry(
                session, topic=f"{prefix}/{number}", payload=b"%d" % number, qos=1, retain=False
            )
    with database.read() as session:
        query = select(MqttOutboxEntry.id).where(MqttOutboxEntry.topic.startswith(f"{prefix}/"))
        return sorted(session.scalars(query))


def leases(database: Database) -> dict[int, tuple[str | None, int]]:
    """Holder and attempts of every row."""
    with database.read() as session:
        rows = session.scalars(select(MqttOutboxEntry))
        return {row.id: (row.claimed_by, row.attempts) for row in rows}


def take(
    database: Database,
    owner: str,
    *,
    at: timedelta,
    limit: int = 10,
    delivered: Sequence[int] = (),
    renew: Sequence[int] = (),
    exclude: Sequence[int] = (),
) -> list[int]:
    """Claim as `owner` with a lease of a minute at a time relative to T0; the ids it got."""
    claimed = claim(
        database,
        owner=owner,
        lease=MINUTE,
        delivered=delivered,
        renew=renew,
        exclude=exclude,
        limit=limit,
        now=T0 + at,
        count=False,
    )
    return [message.id for message in claimed.messages]


T0 = utcnow()


def test_a_lease_keeps_rows_from_others_until_it_expires(fresh_database: Database) -> None:
    ids = add_rows(fresh_database, "kl", 3)
    assert take(fresh_database, "a", at=timedelta(0)) == ids
    assert take(fresh_database, "b", at=timedelta(seconds=59)) == []
    assert take(fresh_database, "b", at=timedelta(seconds=61)) == ids
    assert leases(fresh_database) == {row: ("b", 2) for row in ids}
    assert take(fresh_database, "a", at=timedelta(seconds=62)) == []


def test_a_process_takes_its_own_rows_again_but_not_those_in_flight(
    fresh_database: Database,
) -> None:
    ids = add_rows(fresh_database, "kl", 3)
    assert take(fresh_database, "a", at=timedelta(0), limit=2) == ids[:2]
    assert take(fresh_database, "a", at=timedelta(seconds=1), exclude=ids[:1]) == ids[1:]
    # A restart under the same client id has nothing in flight: it sends its rows again.
    assert take(fresh_database, "a", at=timedelta(seconds=2)) == ids


def test_renewing_keeps_the_lease_but_not_a_row_taken_over(fresh_database: Database) -> None:
    ids = add_rows(fresh_database, "kl", 2)
    take(fresh_database, "a", at=timedelta(0))
    take(fresh_database, "a", at=timedelta(seconds=50), renew=ids, limit=0)
    assert take(fresh_database, "b", at=timedelta(seconds=100)) == []
    assert take(fresh_database, "b", at=timedelta(seconds=111)) == ids
    take(fresh_database, "a", at=timedelta(seconds=112), renew=ids, limit=0)
    assert take(fresh_database, "c", at=timedelta(seconds=150)) == []
    assert {holder for holder, _attempts in leases(fresh_database).values()} == {"b"}


def test_delivered_rows_are_deleted_whoever_holds_them(fresh_database: Database) -> None:
    ids = add_rows(fresh_database, "kl", 2)
    take(fresh_database, "a", at=timedelta(0))
    take(fresh_database, "b", at=timedelta(seconds=1), delivered=ids[:1], limit=0)
    assert sorted(leases(fresh_database)) == ids[1:]


# On SQLite there is nothing to skip: the single writer makes a second claim wait for the first.
@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
def test_a_claim_skips_rows_locked_by_a_concurrent_claim(fresh_database: Database) -> None:
    ids = add_rows(fresh_database, "kl", 4)
    with fresh_database.write() as session:
        # Another process is in the middle of its claim and holds the first two rows.
        locked = select(MqttOutboxEntry).where(MqttOutboxEntry.id.in_(ids[:2]))
        session.scalars(locked.with_for_update()).all()
        assert take(fresh_database, "b", at=timedelta(0)) == ids[2:]


def make_service(
    url: str, database: Database, registry: CollectorRegistry | None = None, **settings: object
) -> MqttService:
    return MqttService(
        settings=settings_for(url, **settings),
        database=database,
        resolve_tenant=no_tenant,
        handlers=(),
        registry=registry,
    )


async def received_until_the_end(subscriber: Subscriber, url: str, end: str) -> list[bytes]:
    """Everything the subscriber got before a last message we send now.

    Mosquitto hands a publish to its subscribers' queues before it sends the PUBACK, and sends
    each queue in order: once every publish is acknowledged, our last message comes last.
    """
    await send_on_wire(url, [(end, b"")])
    payloads = []
    while (message := await subscriber.next()).topic != end:
        payloads.append(message.payload)
    return payloads


async def test_two_processes_send_every_row_once(
    fresh_database: Database, mosquitto_url: str
) -> None:
    slug, count = unique("kl"), 200
    # A Database of its own: on SQLite another writer lock, as another process would have.
    other = Database(fresh_database.url.render_as_string(hide_password=False))
    registries = [CollectorRegistry(), CollectorRegistry()]
    services = [
        make_service(mosquitto_url, database, registry, outbox_batch=7, inflight=5)
        for database, registry in zip([fresh_database, other], registries, strict=True)
    ]

    def published() -> int:
        return sum(
            int(r.get_sample_value("stadtkern_mqtt_published_total") or 0) for r in registries
        )

    def enqueue_all() -> None:
        # Enqueued through both services, so that one commit wakes both couriers at once.
        with fresh_database.write() as session:
            for number in range(count):
                services[number % 2].enqueue(
                    session, tenant=tenant_ref(slug), topic=f"n/{number}", payload=b"%d" % number
                )

    async with Subscriber(mosquitto_url, [f"{slug}/#"]) as subscriber:
        try:
            for service in services:
                await service.start()
            with anyio.fail_after(TIMEOUT):
                for service in services:
                    await service.wait_connected()
            await anyio.to_thread.run_sync(enqueue_all)
            await eventually(lambda: published() >= count)
        finally:
            for service in services:
                await service.stop(timeout=10)
            other.dispose()
        payloads = await received_until_the_end(subscriber, mosquitto_url, f"{slug}/end")
    assert sorted(payloads) == sorted(b"%d" % number for number in range(count))
    assert published() == count  # no row was acknowledged to both processes
    assert outbox_topics(fresh_database, f"{slug}/") == []


async def test_rows_of_a_dead_process_are_sent_once_its_lease_expires(
    fresh_database: Database, mosquitto_url: str
) -> None:
    slug = unique("kl")
    add_rows(fresh_database, f"{slug}/n", 3)
    # The dead process leased the rows and vanished before sending them.
    claimed = claim(
        fresh_database,
        owner="dead",
        lease=timedelta(milliseconds=300),
        delivered=(),
        renew=(),
        exclude=(),
        limit=10,
        now=utcnow(),
        count=False,
    )
    assert len(claimed.messages) == 3
    service = make_service(mosquitto_url, fresh_database)
    async with Subscriber(mosquitto_url, [f"{slug}/#"]) as subscriber:
        await service.start()
        try:
            received = [(await subscriber.next()).topic for _ in range(3)]
        finally:
            await service.stop(timeout=10)
        assert await received_until_the_end(subscriber, mosquitto_url, f"{slug}/end") == []
    assert received == [f"{slug}/n/{number}" for number in range(3)]
    assert outbox_topics(fresh_database, f"{slug}/") == []
