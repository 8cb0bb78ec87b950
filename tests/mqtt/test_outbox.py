"""Publishing through the durable outbox, on both brokers and both storage backends."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from stadtkern.db import Database
from stadtkern.mqtt import MqttService
from tests.conftest import free_port
from tests.mqtt.conftest import StartBroker
from tests.mqtt.wire import Subscriber, outbox_topics, settings_for, tenant_ref, unique

pytestmark = pytest.mark.anyio


async def no_tenant(_slug: str) -> None:
    return None


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


async def test_publish_reaches_a_subscriber_with_the_tenant_prefix(
    broker_url: str, outbox_database: Database
) -> None:
    slug, level = unique("kl"), unique("health")
    registry = CollectorRegistry()
    service = make_service(broker_url, outbox_database, registry)
    async with Subscriber(broker_url, [f"{slug}/#", f"_platform/{level}/#"]) as subscriber:
        await service.start()
        try:
            await service.publish(
                tenant=tenant_ref(slug), topic="example/ping", payload=b"hello", retain=False
            )
            message = await subscriber.next()
            assert (message.topic, message.payload, message.qos) == (
                f"{slug}/example/ping",
                b"hello",
                1,
            )
            await service.publish(tenant=None, topic=f"{level}/broker", payload=b"up")
            assert (await subscriber.next()).topic == f"_platform/{level}/broker"
        finally:
            await service.stop(timeout=10)
    assert outbox_topics(outbox_database, f"{slug}/") == []
    assert outbox_topics(outbox_database, f"_platform/{level}/") == []
    assert registry.get_sample_value("stadtkern_mqtt_published_total") == 2
    assert registry.get_sample_value("stadtkern_mqtt_connected") == 0


async def test_enqueue_is_part_of_the_callers_transaction(
    broker_url: str, outbox_database: Database
) -> None:
    slug = unique("kl")
    service = make_service(broker_url, outbox_database)
    async with Subscriber(broker_url, [f"{slug}/#"]) as subscriber:
        await service.start()
        try:

            def enqueue_then_fail() -> None:
                with outbox_database.write() as session:
                    service.enqueue(session, tenant=tenant_ref(slug), topic="lost", payload=b"0")
                    raise RuntimeError("rolled back")

            with pytest.raises(RuntimeError, match="rolled back"):
                enqueue_then_fail()
            with outbox_database.write() as session:
                service.enqueue(session, tenant=tenant_ref(slug), topic="kept", payload=b"1")
            message = await subscriber.next()
            assert (message.topic, message.payload) == (f"{slug}/kept", b"1")
        finally:
            await service.stop(timeout=10)
    assert outbox_topics(outbox_database, f"{slug}/") == []


async def test_unacknowledged_publishes_survive_a_restart(
    broker_kind: str, start_broker: StartBroker, outbox_database: Database
) -> None:
    slug, port = unique("kl"), free_port()
    # Nothing listens on the port yet; for the embedded kind this also exercises url="embedded".
    url = "embedded" if broker_kind == "embedded" else f"mqtt://127.0.0.1:{port}"
    options = {"embedded_bind": f"127.0.0.1:{port}"}
    first = make_service(url, outbox_database, **options)
    await first.start()
    try:
        assert not first.connected
        for number in range(3):
            await first.publish(
                tenant=tenant_ref(slug), topic=f"n/{number}", payload=b"%d" % number
            )
    finally:
        await first.stop(timeout=0.2)
    expected = [f"{slug}/n/{number}" for number in range(3)]
    assert outbox_topics(outbox_database, f"{slug}/") == expected

    async with start_broker(port) as broker_url, Subscriber(broker_url, [f"{slug}/#"]) as sub:
        second = make_service(url, outbox_database, **options)
        await second.start()
        try:
            received = [(await sub.next()).topic for _ in expected]
        finally:
            await second.stop(timeout=10)
    if broker_kind == "mosquitto":
        assert received == expected  # Mosquitto keeps the order of one publisher's messages
    else:
        assert sorted(received) == expected  # amqtt forwards every message in a task of its own
    assert outbox_topics(outbox_database, f"{slug}/") == []


async def test_publish_refuses_invalid_topics_before_writing(
    sqlite_database: Database,
) -> None:
    service = make_service("mqtt://127.0.0.1:1", sqlite_database)
    slug = unique("kl")
    with pytest.raises(ValueError, match="wildcard"):
        await service.publish(tenant=tenant_ref(slug), topic="sensors/+/temp", payload=b"")
    with (
        pytest.raises(ValueError, match="QoS must be 0, 1 or 2"),
        sqlite_database.write() as session,
    ):
        service.enqueue(session, tenant=tenant_ref(slug), topic="a", payload=b"", qos=3)
    assert outbox_topics(sqlite_database, f"{slug}/") == []
