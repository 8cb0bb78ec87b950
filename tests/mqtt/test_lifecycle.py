"""Starting without a broker, connecting once it appears, and the embedded broker itself."""

from __future__ import annotations

import anyio
import pytest
from prometheus_client import CollectorRegistry

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt import EmbeddedBroker, MqttService
from tests.conftest import free_port
from tests.mqtt.conftest import StartBroker
from tests.mqtt.wire import (
    TIMEOUT,
    Subscriber,
    eventually,
    send_on_wire,
    settings_for,
    tenant_ref,
    unique,
)

pytestmark = pytest.mark.anyio


async def no_tenant(_slug: str) -> None:
    return None


async def test_start_returns_while_the_broker_is_down_and_connects_later(
    start_broker: StartBroker, outbox_database: Database
) -> None:
    port, slug = free_port(), unique("kl")
    registry = CollectorRegistry()
    service = MqttService(
        settings=settings_for(f"mqtt://127.0.0.1:{port}"),
        database=outbox_database,
        resolve_tenant=no_tenant,
        handlers=(),
        registry=registry,
    )
    await service.start()
    try:
        assert not service.connected
        assert registry.get_sample_value("stadtkern_mqtt_connected") == 0
        await service.publish(tenant=tenant_ref(slug), topic="queued", payload=b"early")
        async with start_broker(port) as url, Subscriber(url, [f"{slug}/#"]) as subscriber:
            with anyio.fail_after(TIMEOUT):
                await service.wait_connected()
            assert service.connected
            assert registry.get_sample_value("stadtkern_mqtt_connected") == 1
            assert (await subscriber.next()).payload == b"early"
            await service.publish(tenant=tenant_ref(slug), topic="live", payload=b"late")
            assert (await subscriber.next()).payload == b"late"
    finally:
        await service.stop(timeout=0.2)
    assert not service.connected


async def test_the_service_reconnects_and_resubscribes_after_the_broker_restarts(
    start_broker: StartBroker, sqlite_database: Database
) -> None:
    port, slug = free_port(), unique("kl")
    seen: list[bytes] = []

    async def resolve(name: str) -> TenantRef | None:
        return tenant_ref(name, "sensors") if name == slug else None

    async def handle(message: InboundMessage) -> None:
        seen.append(message.payload)

    service = MqttService(
        settings=settings_for(f"mqtt://127.0.0.1:{port}"),
        database=sqlite_database,
        resolve_tenant=resolve,
        handlers=[("sensors", TopicHandler("v1.1/#", handle))],
        registry=None,
    )
    await service.start()
    try:
        # A fresh broker each round knows nothing of the session: only a resubscription
        # on reconnect brings the messages.
        for round_number in range(2):
            async with start_broker(port) as url:
                with anyio.fail_after(TIMEOUT):
                    await service.wait_connected()
                payload = b"round %d" % round_number
                await send_on_wire(url, [(f"{slug}/v1.1/Things", payload)])
                await eventually(lambda payload=payload: payload in seen)
            await eventually(lambda: not service.connected)
    finally:
        await service.stop(timeout=0.2)


async def test_embedded_broker_relays_messages() -> None:
    broker = EmbeddedBroker(f"127.0.0.1:{free_port()}")
    await broker.start()
    try:
        async with Subscriber(broker.url, ["a/#"]) as subscriber:
            await send_on_wire(broker.url, [("a/b", b"x")])
            message = await subscriber.next()
            assert (message.topic, message.payload) == ("a/b", b"x")
    finally:
        await broker.stop()


def test_embedded_broker_url_follows_its_listener() -> None:
    assert EmbeddedBroker("0.0.0.0:1999").url == "mqtt://127.0.0.1:1999"
    assert EmbeddedBroker("[::1]:1999").url == "mqtt://[::1]:1999"
