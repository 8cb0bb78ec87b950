"""TLS, passwords, client certificates and an ACL on a real Mosquitto."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from prometheus_client import CollectorRegistry

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt import MqttService
from tests.mqtt.secure import SecureBroker, running_secure_mosquitto
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


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """One secured Mosquitto for the module."""
    with running_secure_mosquitto(tmp_path_factory.mktemp("secure-mosquitto")) as broker:
        yield broker


@pytest.fixture
def service_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The MQTT log, which paho's thread writes on every attempt."""
    caplog.set_level(logging.INFO, logger="stadtkern.mqtt")
    return caplog


def logged(log: pytest.LogCaptureFixture, text: str) -> int:
    return sum(
        1
        for record in log.records
        if record.name.startswith("stadtkern.mqtt") and text in record.getMessage()
    )


async def talk_to_the_broker(
    broker: SecureBroker, database: Database, url: str, **tls: Path
) -> None:
    """Connect, receive a device's message, publish through the outbox and meet the ACL."""
    slug = unique("kl")
    seen: list[bytes] = []

    async def resolve(name: str) -> TenantRef | None:
        return tenant_ref(name, "sensors") if name == slug else None

    async def handle(message: InboundMessage) -> None:
        seen.append(message.payload)

    service = MqttService(
        settings=settings_for(url, ca_file=broker.pki.ca, **tls),
        database=database,
        resolve_tenant=resolve,
        handlers=[("sensors", TopicHandler("v1.1/#", handle))],
        registry=None,
    )
    ca = broker.pki.ca
    async with Subscriber(broker.observer_url, [f"{slug}/#"], ca_file=ca) as observer:
        await service.start()
        try:
            with anyio.fail_after(TIMEOUT):
                await service.wait_connected()
            # Mosquitto acknowledges a publish the ACL refuses and drops it. It keeps the order
            # of one client's messages, so the refused one would arrive before the allowed one.
            await service.publish(tenant=tenant_ref(slug), topic="forbidden/x", payload=b"no")
            await service.publish(tenant=tenant_ref(slug), topic="example/ping", payload=b"yes")
            message = await observer.next()
            assert (message.topic, message.payload) == (f"{slug}/example/ping", b"yes")
            await send_on_wire(broker.observer_url, [(f"{slug}/v1.1/Things", b"dev")], ca_file=ca)
            await eventually(lambda: seen == [b"dev"])
        finally:
            await service.stop(timeout=10)
    assert outbox_topics(database, f"{slug}/") == []


async def test_the_platform_connects_over_tls_with_its_password(
    secure_broker: SecureBroker, sqlite_database: Database
) -> None:
    await talk_to_the_broker(secure_broker, sqlite_database, secure_broker.platform_url())


async def test_the_platform_connects_with_its_client_certificate(
    secure_broker: SecureBroker, sqlite_database: Database
) -> None:
    await talk_to_the_broker(
        secure_broker,
        sqlite_database,
        f"mqtts://127.0.0.1:{secure_broker.certificate_port}",
        cert_file=secure_broker.pki.client.cert,
        key_file=secure_broker.pki.client.key,
    )


async def no_tenant(_slug: str) -> None:
    return None


async def keeps_failing(
    url: str, database: Database, log: pytest.LogCaptureFixture, reason: str, **tls: Path
) -> None:
    """The service retries with `reason` three times, never connects and raises nothing."""
    registry = CollectorRegistry()
    service = MqttService(
        settings=settings_for(url, **tls),
        database=database,
        resolve_tenant=no_tenant,
        handlers=(),
        registry=registry,
    )
    await service.start()
    try:
        await eventually(lambda: logged(log, reason) >= 3)
        assert not service.connected
        assert registry.get_sample_value("stadtkern_mqtt_connected") == 0
        assert logged(log, "MQTT connected") == 0
    finally:
        await service.stop(timeout=0.2)


async def test_a_wrong_password_never_connects(
    secure_broker: SecureBroker, sqlite_database: Database, service_log: pytest.LogCaptureFixture
) -> None:
    await keeps_failing(
        secure_broker.platform_url("wrong"),
        sqlite_database,
        service_log,
        "refused the connection: Not authorized",
        ca_file=secure_broker.pki.ca,
    )


async def test_a_broker_certificate_from_another_ca_fails_the_handshake(
    secure_broker: SecureBroker, sqlite_database: Database, service_log: pytest.LogCaptureFixture
) -> None:
    await keeps_failing(
        secure_broker.platform_url(),
        sqlite_database,
        service_log,
        "CERTIFICATE_VERIFY_FAILED",
        ca_file=secure_broker.pki.other_ca,
    )


async def test_the_certificate_listener_refuses_a_client_without_certificate(
    secure_broker: SecureBroker, sqlite_database: Database, service_log: pytest.LogCaptureFixture
) -> None:
    # With TLS 1.3 the broker checks the client certificate after the client's handshake has
    # finished: the client learns of the refusal on its first read, as a lost connection.
    await keeps_failing(
        f"mqtts://127.0.0.1:{secure_broker.certificate_port}",
        sqlite_database,
        service_log,
        "CERTIFICATE_REQUIRED",
        ca_file=secure_broker.pki.ca,
    )
