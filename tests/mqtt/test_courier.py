"""The courier's rounds against the database: idle rounds only read, leases are renewed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from stadtkern.core.models import MqttOutboxEntry
from stadtkern.db import Database
from stadtkern.mqtt.courier import OutboxCourier
from stadtkern.mqtt.metrics import MqttMetrics
from stadtkern.mqtt.outbox import OutboxMessage, add_entry
from tests.mqtt.wire import eventually

pytestmark = pytest.mark.anyio


class CountingDatabase(Database):
    """A database that counts its write transactions, read sessions and COUNT(*) queries."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.writes = self.reads = self.counts = 0
        for engine in {self.write_engine, self.read_engine}:
            event.listen(engine, "before_cursor_execute", self._statement)

    def _statement(self, *args: Any) -> None:
        statement: str = args[2]
        if "count(" in statement.lower():
            self.counts += 1

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A counted write transaction."""
        self.writes += 1
        with super().write() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A counted read session."""
        self.reads += 1
        with super().read() as session:
            yield session


class FakeBroker:
    """Takes every publish and acknowledges only when told."""

    def __init__(self) -> None:
        self.sent: dict[int, OutboxMessage] = {}

    def send(self, message: OutboxMessage) -> int:
        mid = len(self.sent) + 1
        self.sent[mid] = message
        return mid


@pytest.fixture
def counting(fresh_database: Database) -> Iterator[CountingDatabase]:
    """A second handle on the test's database that counts what the courier does."""
    database = CountingDatabase(fresh_database.url.render_as_string(hide_password=False))
    yield database
    database.dispose()


def make_courier(
    database: Database, broker: FakeBroker, registry: CollectorRegistry, **options: Any
) -> OutboxCourier:
    return OutboxCourier(
        database=database,
        send=broker.send,
        owner="courier-test",
        batch=10,
        inflight=10,
        metrics=MqttMetrics(registry),
        poll_seconds=0.01,
        **options,
    )


@asynccontextmanager
async def running(courier: OutboxCourier) -> AsyncIterator[None]:
    task = asyncio.create_task(courier.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_rows(database: Database, count: int) -> None:
    with database.write() as session:
        for number in range(count):
            add_entry(session, topic=f"kl/{number}", payload=b"", qos=1, retain=False)


def rows(database: Database) -> list[MqttOutboxEntry]:
    with database.read() as session:
        return list(session.scalars(select(MqttOutboxEntry).order_by(MqttOutboxEntry.id)))


def lease_end(database: Database) -> datetime:
    [row] = rows(database)
    assert row.claimed_until is not None
    return row.claimed_until


def depth(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("stadtkern_mqtt_outbox_depth")


async def test_idle_rounds_only_read_and_count_once_per_interval(
    counting: CountingDatabase,
) -> None:
    courier = make_courier(counting, FakeBroker(), CollectorRegistry(), depth_seconds=3600)
    courier.set_connected(True)
    async with running(courier):
        await eventually(lambda: counting.reads >= 20)
    assert counting.writes == 0
    assert counting.counts == 1


async def test_a_burst_writes_and_leaves_the_gauge_at_zero(
    fresh_database: Database, counting: CountingDatabase
) -> None:
    broker, registry = FakeBroker(), CollectorRegistry()
    courier = make_courier(counting, broker, registry, depth_seconds=3600)
    courier.set_connected(True)
    async with running(courier):
        # The gauge starts at 0 before any count: wait for the first count of the empty outbox
        # (the gauge is set just after the count's query returns, hence both conditions).
        await eventually(lambda: counting.counts == 1 and depth(registry) == 0)
        add_rows(fresh_database, 3)  # another process's commit: no wake-up, the poll finds it
        await eventually(lambda: len(broker.sent) == 3)
        for mid in broker.sent:
            courier.acknowledged(mid)
        # Counted again at the end of the burst, not after an hour (depth_seconds).
        await eventually(lambda: counting.counts == 2 and depth(registry) == 0)
        assert rows(fresh_database) == []
        writes, reads = counting.writes, counting.reads
        await eventually(lambda: counting.reads >= reads + 20)
    assert counting.writes == writes
    assert counting.counts == 2


async def test_a_disconnected_courier_only_reads_and_still_reports_the_depth(
    fresh_database: Database, counting: CountingDatabase
) -> None:
    registry = CollectorRegistry()
    courier = make_courier(counting, FakeBroker(), registry, depth_seconds=0)
    async with running(courier):
        add_rows(fresh_database, 3)
        await eventually(lambda: depth(registry) == 3)
    assert counting.writes == 0


async def test_leases_in_flight_are_renewed_and_released_at_the_end(
    fresh_database: Database, counting: CountingDatabase
) -> None:
    broker, lease = FakeBroker(), timedelta(milliseconds=300)
    courier = make_courier(counting, broker, CollectorRegistry(), lease=lease)
    courier.set_connected(True)
    add_rows(fresh_database, 1)
    async with running(courier):
        await eventually(lambda: len(broker.sent) == 1)
        assert rows(fresh_database)[0].claimed_by == "courier-test"
        first_end = lease_end(fresh_database)
        # Never acknowledged: the lease is renewed beyond its first expiry.
        await eventually(lambda: lease_end(fresh_database) > first_end + lease)
    await courier.release()
    [row] = rows(fresh_database)
    assert (row.claimed_by, row.claimed_until, row.attempts) == (None, None, 1)
    assert len(broker.sent) == 1
