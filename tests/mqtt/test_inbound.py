"""Inbound messages: tenant resolution, dispatch to handlers, dropping and redelivery."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest
from prometheus_client import CollectorRegistry

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt import MqttService
from tests.mqtt.wire import TIMEOUT, eventually, send_on_wire, settings_for, tenant_ref, unique

pytestmark = pytest.mark.anyio


def dropped(registry: CollectorRegistry, reason: str) -> float:
    return registry.get_sample_value("stadtkern_mqtt_dropped_total", {"reason": reason}) or 0.0


async def test_messages_reach_the_handlers_of_the_tenants_modules(
    broker_url: str, sqlite_database: Database
) -> None:
    town, other, stranger = unique("kl"), unique("pirmasens"), unique("nowhere")
    tenants = {town: tenant_ref(town, "sensors", "parking"), other: tenant_ref(other, "parking")}
    resolved: Counter[str] = Counter()
    sensor_messages: list[InboundMessage] = []
    parking_messages: list[InboundMessage] = []

    async def resolve(slug: str) -> TenantRef | None:
        resolved[slug] += 1
        return tenants.get(slug)

    async def on_sensor(message: InboundMessage) -> None:
        sensor_messages.append(message)

    async def on_parking(message: InboundMessage) -> None:
        parking_messages.append(message)

    registry = CollectorRegistry()
    service = MqttService(
        settings=settings_for(broker_url),
        database=sqlite_database,
        resolve_tenant=resolve,
        handlers=[
            ("sensors", TopicHandler("v1.1/#", on_sensor)),
            ("parking", TopicHandler("parking/+/free", on_parking)),
            ("parking", TopicHandler("v1.1/Things", on_parking)),
        ],
        registry=registry,
    )
    await service.start()
    try:
        with anyio.fail_after(TIMEOUT):
            await service.wait_connected()
        await send_on_wire(
            broker_url,
            [
                (f"{stranger}/v1.1/Things", b"unknown tenant"),
                (f"{other}/v1.1/Observations", b"sensors not enabled"),
                ("_platform/v1.1/Things", b"not a tenant"),
                (f"{town}/v1.1/Things", b"both modules"),
                (f"{town}/parking/p7/free", b"12"),
                (f"{town}/parking/p7/occupied", b"not subscribed"),
            ],
        )
        await eventually(lambda: len(sensor_messages) == 1 and len(parking_messages) == 2)
        await eventually(lambda: dropped(registry, "module_disabled") >= 1)
        await eventually(lambda: dropped(registry, "unknown_tenant") >= 1)
        await eventually(lambda: dropped(registry, "platform_topic") >= 1)
    finally:
        await service.stop(timeout=1)

    assert sensor_messages == [
        InboundMessage(tenants[town], "v1.1/Things", b"both modules", qos=1, retain=False)
    ]
    assert sorted(message.topic for message in parking_messages) == [
        "parking/p7/free",
        "v1.1/Things",
    ]
    # Once per message, however many handlers match; never for platform topics.
    assert resolved == {town: 2, other: 1, stranger: 1}
    assert registry.get_sample_value("stadtkern_mqtt_received_total") == 5
    assert dropped(registry, "module_disabled") == 1
    assert dropped(registry, "unknown_tenant") == 1
    assert dropped(registry, "platform_topic") == 1


async def test_a_failed_handler_gets_the_message_again_after_reconnecting(
    mosquitto_url: str, sqlite_database: Database
) -> None:
    """Mosquitto keeps the persistent session and re-sends what was not acknowledged.

    The embedded amqtt broker discards sessions of anonymous clients, so this runs on
    Mosquitto only.
    """
    slug = unique("kl")
    settings = settings_for(mosquitto_url)
    attempts: list[InboundMessage] = []
    failed = anyio.Event()

    async def resolve(name: str) -> TenantRef | None:
        return tenant_ref(name, "sensors") if name == slug else None

    async def flaky(message: InboundMessage) -> None:
        attempts.append(message)
        if len(attempts) == 1:
            failed.set()
            raise RuntimeError("database briefly unavailable")

    def service(registry: CollectorRegistry) -> MqttService:
        return MqttService(
            settings=settings,  # same client id: the same persistent session
            database=sqlite_database,
            resolve_tenant=resolve,
            handlers=[("sensors", TopicHandler("v1.1/#", flaky))],
            registry=registry,
        )

    first_registry = CollectorRegistry()
    first = service(first_registry)
    await first.start()
    try:
        with anyio.fail_after(TIMEOUT):
            await first.wait_connected()
        await send_on_wire(mosquitto_url, [(f"{slug}/v1.1/Things", b"reading")])
        with anyio.fail_after(TIMEOUT):
            await failed.wait()
    finally:
        await first.stop(timeout=1)
    assert (
        first_registry.get_sample_value(
            "stadtkern_mqtt_handler_failures_total", {"module": "sensors"}
        )
        == 1
    )

    second = service(CollectorRegistry())
    await second.start()
    try:
        await eventually(lambda: len(attempts) == 2)
    finally:
        await second.stop(timeout=1)
    assert attempts[1].payload == b"reading"
    assert attempts[1].topic == "v1.1/Things"


async def test_invalid_handler_patterns_are_refused(sqlite_database: Database) -> None:
    async def handle(_message: InboundMessage) -> None:
        return None

    async def resolve(_slug: str) -> TenantRef | None:
        return None

    with pytest.raises(ValueError, match="'#' must be a whole level"):
        MqttService(
            settings=settings_for("mqtt://127.0.0.1:1"),
            database=sqlite_database,
            resolve_tenant=resolve,
            handlers=[("sensors", TopicHandler("v1.1/#/x", handle))],
            registry=None,
        )
    with pytest.raises(ValueError, match="scheme 'amqp'"):
        MqttService(
            settings=settings_for("amqp://broker"),
            database=sqlite_database,
            resolve_tenant=resolve,
            handlers=[],
            registry=None,
        )
