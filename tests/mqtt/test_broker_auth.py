"""The embedded broker with logins: real API keys on the wire, confined to their tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from stadtkern.core.authn import Authenticator
from stadtkern.core.ratelimit import FailureLimiter
from stadtkern.db import Database
from stadtkern.mqtt import EmbeddedBroker, MqttService
from stadtkern.mqtt.access import MqttAccess
from stadtkern.mqtt.credentials import ApiKeyLogin, ServiceLogin
from stadtkern.mqtt.subscriptions import SubscriptionRegistry
from tests.conftest import TEST_PEPPER, TenantFixture, free_port, issue_token
from tests.mqtt.peers import (
    Town,
    check_anonymous,
    check_refusals,
    check_tenant_confinement,
    check_viewer_reads_only,
    connected,
)
from tests.mqtt.wire import settings_for

pytestmark = pytest.mark.anyio


@dataclass
class Broker:
    """The running embedded broker and what the tests need to reach it."""

    url: str
    service: ServiceLogin
    registry: SubscriptionRegistry
    open_town: Town
    closed_town: Town
    platform_token: str


@pytest.fixture
async def broker(
    database: Database, make_tenant: Callable[..., TenantFixture]
) -> AsyncIterator[Broker]:
    """An embedded broker checking logins against the database; the first town is open data."""
    towns = []
    for _ in range(2):
        slug = make_tenant().slug
        towns.append(
            Town(
                slug=slug,
                operator=issue_token(database, tenant=slug, roles=["operator"]),
                viewer=issue_token(database, tenant=slug, roles=["viewer"]),
            )
        )
    authenticator = Authenticator(
        database=database,
        limiter=FailureLimiter(limit=1000, window=60),
        oidc=None,
        pepper=TEST_PEPPER,
    )
    service = ServiceLogin.generate()
    registry = SubscriptionRegistry()
    embedded = EmbeddedBroker(
        f"127.0.0.1:{free_port()}",
        login=ApiKeyLogin(authenticator=authenticator, service=service),
        access=MqttAccess(anonymous_read={towns[0].slug}.__contains__),
        subscriptions=registry,
    )
    await embedded.start()
    try:
        yield Broker(
            url=embedded.url,
            service=service,
            registry=registry,
            open_town=towns[0],
            closed_town=towns[1],
            platform_token=issue_token(database, tenant=None, roles=["platform_admin"]),
        )
    finally:
        await embedded.stop()


async def test_keys_are_confined_to_their_tenant(broker: Broker) -> None:
    def run() -> None:
        with connected(broker.url, broker.service.password, broker.service.username) as service:
            assert service.subscribe("#") == 1
            check_tenant_confinement(broker.url, service, broker.open_town, broker.closed_town)
            check_viewer_reads_only(broker.url, service, broker.closed_town)
            check_anonymous(broker.url, service, broker.open_town, broker.closed_town)
        check_refusals(broker.url, broker.open_town, broker.platform_token)

    await asyncio.to_thread(run)


async def test_any_username_with_a_key_as_password(broker: Broker) -> None:
    def run() -> int:
        with connected(broker.url, broker.open_town.viewer, "any name") as peer:
            return peer.subscribe(f"{broker.open_town.slug}/v1.1/Things")

    assert await asyncio.to_thread(run) == 1


async def test_the_registry_follows_subscriptions(broker: Broker) -> None:
    slug = broker.closed_town.slug
    topic = f"{slug}/v1.1/Things?$select=name"

    async def eventually(expected: set[str]) -> None:
        for _ in range(200):
            if broker.registry.topics_for(slug) == expected:
                return
            await asyncio.sleep(0.02)
        assert broker.registry.topics_for(slug) == expected

    peer = await asyncio.to_thread(connected, broker.url, broker.closed_town.viewer)
    try:
        assert await asyncio.to_thread(peer.subscribe, topic) == 1
        assert await asyncio.to_thread(peer.subscribe, f"{slug}/v1.1/Datastreams") == 1
        await eventually({topic, f"{slug}/v1.1/Datastreams"})
        assert broker.registry.subscribed(topic)
        await asyncio.to_thread(peer.unsubscribe, topic)
        await eventually({f"{slug}/v1.1/Datastreams"})
    finally:
        await asyncio.to_thread(peer.close)
    await eventually(set())


async def test_retained_messages_stay_in_their_tenant(broker: Broker) -> None:
    a, b = broker.open_town, broker.closed_town

    def run() -> tuple[list[str], list[str]]:
        with connected(broker.url, broker.service.password, broker.service.username) as service:
            service.client.publish(f"{a.slug}/v1.1/Things", b"kept", qos=1, retain=True)
            with connected(broker.url, a.viewer) as reader:
                assert reader.subscribe(f"{a.slug}/v1.1/Things") == 1
                own = reader.received_until(f"{a.slug}/v1.1/Things")
                with connected(broker.url, b.viewer) as neighbour:
                    assert neighbour.subscribe(f"{b.slug}/v1.1/Sensors") == 1
                    service.publish(f"{b.slug}/v1.1/Sensors", b"marker")
                    foreign = neighbour.received_until(f"{b.slug}/v1.1/Sensors")
        return own, foreign

    own, foreign = await asyncio.to_thread(run)
    assert own == [f"{a.slug}/v1.1/Things"]
    assert foreign == [f"{b.slug}/v1.1/Sensors"]


async def test_the_platform_service_logs_in_with_its_credential(
    broker: Broker, sqlite_database: Database
) -> None:
    async def no_tenant(_slug: str) -> None:
        return None

    def service(credentials: tuple[str, str] | None) -> MqttService:
        return MqttService(
            settings=settings_for(broker.url),
            database=sqlite_database,
            resolve_tenant=no_tenant,
            handlers=[],
            registry=None,
            credentials=credentials,
        )

    platform = service((broker.service.username, broker.service.password))
    await platform.start()
    try:
        await asyncio.wait_for(platform.wait_connected(), 10)
    finally:
        await platform.stop(timeout=1)
    intruder = service((broker.service.username, "guessed"))
    await intruder.start()
    try:
        await asyncio.sleep(0.5)
        assert not intruder.connected
    finally:
        await intruder.stop(timeout=1)
