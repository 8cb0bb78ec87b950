"""The subscription registry, Mosquitto's log lines, and a real Mosquitto feeding both."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.mqtt import MqttService
from stadtkern.mqtt.broker_log import (
    NOTICE_TOPIC,
    SUBSCRIBE_TOPIC,
    UNSUBSCRIBE_TOPIC,
    MosquittoLogFeed,
)
from stadtkern.mqtt.subscriptions import SubscriptionRegistry
from tests.conftest import free_port, unavailable
from tests.mqtt.peers import Peer, connected
from tests.mqtt.test_mosquitto_auth import wait_listening
from tests.mqtt.wire import settings_for


def test_a_filter_lives_while_a_client_holds_it() -> None:
    registry = SubscriptionRegistry()
    assert registry.add("a", "kl/v1.1/Things?$select=name")
    assert registry.add("b", "kl/v1.1/Things?$select=name")
    assert registry.add("b", "kl/v1.1/+/Observations")
    assert not registry.add("p", "+/v1.1/#")
    assert not registry.add("p", "$SYS/broker/log/#")
    assert not registry.add("p", "kl/sensorthings/ingest")
    assert registry.subscribed("kl/v1.1/Things?$select=name")
    assert registry.subscribed("kl/v1.1/Datastreams(1)/Observations")
    assert not registry.subscribed("kl/v1.1/Things")
    assert not registry.subscribed("kusel/v1.1/Things?$select=name")
    registry.remove("a", "kl/v1.1/Things?$select=name")
    assert registry.topics_for("kl") == {"kl/v1.1/Things?$select=name", "kl/v1.1/+/Observations"}
    registry.forget_client("b")
    assert registry.topics_for("kl") == set()
    assert not registry.remove("b", "kl/v1.1/+/Observations")


def _feed(lines: list[tuple[str, str]]) -> SubscriptionRegistry:
    feed = MosquittoLogFeed(SubscriptionRegistry())
    for topic, line in lines:
        feed.handle(topic, f"1796129570: {line}".encode())
    return feed.registry


def test_log_lines_of_mosquitto_2_0() -> None:
    registry = _feed(
        [
            (NOTICE_TOPIC, "New client connected from 127.0.0.1:4799 as my dev (p2, c1, k60)."),
            (SUBSCRIBE_TOPIC, "my dev 0 kl/v1.1/Things?$select=id,name"),
            (SUBSCRIBE_TOPIC, "my dev 1 kl/v1.1/Datastreams"),
            (SUBSCRIBE_TOPIC, "persist 1 kusel/v1.1/Things"),
            (SUBSCRIBE_TOPIC, "platform 1 +/sensorthings/#"),
            (UNSUBSCRIBE_TOPIC, "my dev kl/v1.1/Datastreams"),
        ]
    )
    assert registry.topics_for("kl") == {"kl/v1.1/Things?$select=id,name"}
    assert registry.topics_for("kusel") == {"kusel/v1.1/Things"}


def test_a_clean_session_ends_with_its_connection_a_persistent_one_does_not() -> None:
    registry = _feed(
        [
            (NOTICE_TOPIC, "New client connected from 127.0.0.1:1 as clean (p2, c1, k60, u'x')."),
            (NOTICE_TOPIC, "New client connected from 127.0.0.1:2 as kept (p2, c0, k60)."),
            (SUBSCRIBE_TOPIC, "clean 0 kl/v1.1/Things"),
            (SUBSCRIBE_TOPIC, "kept 1 kl/v1.1/Sensors"),
            (NOTICE_TOPIC, "Client clean disconnected."),
            (NOTICE_TOPIC, "Socket error on client kept, disconnecting."),
        ]
    )
    assert registry.topics_for("kl") == {"kl/v1.1/Sensors"}


@pytest.fixture
def mosquitto_with_log(tmp_path: Path) -> Iterator[str]:
    """A Mosquitto publishing its log lines on $SYS/broker/log (anonymous, no ACL)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        unavailable("mosquitto is not installed")
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "log_dest topic\nlog_type notice\nlog_type subscribe\nlog_type unsubscribe\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)])
    try:
        wait_listening(port, process)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _eventually(check: Callable[[], bool]) -> None:
    for _ in range(250):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


@pytest.mark.anyio
async def test_the_service_feeds_the_registry_from_mosquitto(
    mosquitto_with_log: str, sqlite_database: Database
) -> None:
    registry = SubscriptionRegistry()

    async def no_tenant(_slug: str) -> TenantRef | None:
        return None

    service = MqttService(
        settings=settings_for(mosquitto_with_log),
        database=sqlite_database,
        resolve_tenant=no_tenant,
        handlers=[],
        registry=None,
        broker_log=MosquittoLogFeed(registry).handle,
    )
    await service.start()
    try:
        await asyncio.wait_for(service.wait_connected(), 10)
        await asyncio.sleep(0.2)  # the log subscription is confirmed separately
        topic = "kl/v1.1/Things?$select=name"
        peer: Peer = await asyncio.to_thread(connected, mosquitto_with_log, None)
        try:
            assert await asyncio.to_thread(peer.subscribe, topic) == 1
            assert await asyncio.to_thread(peer.subscribe, "kl/v1.1/Sensors") == 1
            await _eventually(lambda: registry.topics_for("kl") == {topic, "kl/v1.1/Sensors"})
            assert registry.subscribed(topic)
            await asyncio.to_thread(peer.unsubscribe, topic)
            await _eventually(lambda: registry.topics_for("kl") == {"kl/v1.1/Sensors"})
        finally:
            await asyncio.to_thread(peer.close)
        await _eventually(lambda: registry.topics_for("kl") == set())
    finally:
        await service.stop(timeout=2)
