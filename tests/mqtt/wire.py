"""Plain paho clients for the tests: what another device on the broker sees and sends."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from stadtkern.core.models import MqttOutboxEntry
from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.settings import MqttSettings

TIMEOUT = 15.0


@dataclass(frozen=True)
class WireMessage:
    """A message as a subscriber received it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


def settings_for(url: str, **overrides: Any) -> MqttSettings:
    """Service settings with a client id of its own and short reconnect delays."""
    values: dict[str, Any] = {
        "url": url,
        "client_id": f"stadtkern-test-{secrets.token_hex(4)}",
        "reconnect_min_delay": 0.05,
        "reconnect_max_delay": 0.5,
    }
    values.update(overrides)
    return MqttSettings(**values)


def tenant_ref(slug: str, *modules: str) -> TenantRef:
    """A tenant with the given modules switched on."""
    return TenantRef(
        id=1,
        slug=slug,
        name=slug.title(),
        timezone="Europe/Berlin",
        locale="de",
        modules=frozenset(modules),
    )


def unique(prefix: str = "t") -> str:
    """A tenant slug or topic level no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


def outbox_topics(database: Database, prefix: str) -> list[str]:
    """Topics of the outbox rows below `prefix`, in id order."""
    with database.read() as session:
        query = (
            select(MqttOutboxEntry.topic)
            .where(MqttOutboxEntry.topic.startswith(prefix))
            .order_by(MqttOutboxEntry.id)
        )
        return list(session.scalars(query))


async def eventually(predicate: Callable[[], bool]) -> None:
    """Wait until `predicate` holds; fail the test after TIMEOUT seconds."""
    with anyio.fail_after(TIMEOUT):
        # The conditions are metrics and lists filled by other tasks; there is no event to await.
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.01)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def _device(url: str, ca_file: Path | None) -> paho.Client:
    """A clean-session client with the URL's credentials, and TLS for mqtts:// URLs."""
    parts = urlsplit(url)
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=unique("dev"))
    if parts.username is not None:
        password = unquote(parts.password) if parts.password is not None else None
        client.username_pw_set(unquote(parts.username), password)
    if parts.scheme == "mqtts":
        client.tls_set_context(ssl.create_default_context(cafile=ca_file))
    return client


class Subscriber:
    """A clean-session client subscribed to some filters, collecting what arrives."""

    def __init__(self, url: str, filters: Iterable[str], *, ca_file: Path | None = None) -> None:
        self._host, self._port = _address(url)
        self._filters = list(filters)
        self._client = _device(url, ca_file)
        self._messages: asyncio.Queue[WireMessage] = asyncio.Queue()

    async def __aenter__(self) -> Subscriber:
        loop = asyncio.get_running_loop()
        subscribed: asyncio.Future[None] = loop.create_future()

        def on_message(_client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
            received = WireMessage(
                message.topic, bytes(message.payload), message.qos, bool(message.retain)
            )
            loop.call_soon_threadsafe(self._messages.put_nowait, received)

        def on_subscribe(*_args: object) -> None:
            loop.call_soon_threadsafe(subscribed.set_result, None)

        self._client.on_message = on_message
        self._client.on_subscribe = on_subscribe
        await anyio.to_thread.run_sync(self._client.connect, self._host, self._port)
        self._client.loop_start()
        self._client.subscribe([(topic_filter, 1) for topic_filter in self._filters])
        with anyio.fail_after(TIMEOUT):
            await subscribed
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._client.disconnect()
        await anyio.to_thread.run_sync(self._client.loop_stop)

    async def next(self) -> WireMessage:
        """The next message; fails the test when none arrives in time."""
        with anyio.fail_after(TIMEOUT):
            return await self._messages.get()


async def send_on_wire(
    url: str, messages: Iterable[tuple[str, bytes]], qos: int = 1, ca_file: Path | None = None
) -> None:
    """Publish messages from a device of our own and wait until the broker has them."""
    host, port = _address(url)
    batch = list(messages)

    def send() -> None:
        client = _device(url, ca_file)
        client.connect(host, port)
        client.loop_start()
        try:
            for topic, payload in batch:
                client.publish(topic, payload, qos=qos).wait_for_publish(TIMEOUT)
        finally:
            client.disconnect()
            client.loop_stop()

    await anyio.to_thread.run_sync(send)
