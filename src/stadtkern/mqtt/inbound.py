"""Inbound messages: from a broker topic to the handlers of the tenant's enabled modules."""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from stadtkern.core.refs import TenantRef
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt.metrics import MqttMetrics
from stadtkern.mqtt.topics import (
    PLATFORM_PREFIX,
    filter_covers,
    split_tenant,
    tenant_filter,
    topic_matches,
)

logger = logging.getLogger(__name__)

ResolveTenant = Callable[[str], Awaitable[TenantRef | None]]


@dataclass(frozen=True, slots=True)
class Received:
    """A PUBLISH as paho delivered it; `topic` is None when it was not valid UTF-8."""

    topic: str | None
    payload: bytes
    qos: int
    retain: bool
    mid: int
    connection: int  # which connection it arrived on; a PUBACK only makes sense on that one


class Arrivals:
    """Messages handed from paho's network thread to the event loop, many per wake-up.

    Waking the event loop costs a write to its self-pipe; under load one wake-up carries
    every message that arrived in the meantime instead of one each.
    """

    def __init__(self, call_in_loop: Callable[..., None]) -> None:
        self.queue: asyncio.Queue[Received] = asyncio.Queue()
        self._call_in_loop = call_in_loop
        self._waiting: collections.deque[Received] = collections.deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def arrive(self, message: Received) -> None:
        """Called in paho's thread for every message."""
        with self._lock:
            self._waiting.append(message)
            if self._scheduled:
                return
            self._scheduled = True
        self._call_in_loop(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, collections.deque()
            self._scheduled = False
        for message in waiting:
            self.queue.put_nowait(message)


@dataclass(frozen=True, slots=True)
class Route:
    """A module's handler with its broker-level subscription filter."""

    module: str
    handler: TopicHandler
    topic_filter: str


class InboundRouter:
    """Resolves the tenant of a message once and passes it to every matching, enabled handler."""

    def __init__(
        self,
        *,
        handlers: Sequence[tuple[str, TopicHandler]],
        resolve_tenant: ResolveTenant,
        metrics: MqttMetrics,
    ) -> None:
        self._routes = [
            Route(module, handler, tenant_filter(handler.pattern)) for module, handler in handlers
        ]
        self._resolve_tenant = resolve_tenant
        self._metrics = metrics

    def subscriptions(self) -> list[tuple[str, int]]:
        """Broker filters with their QoS; a filter covered by a broader one is left out."""
        qos_by_filter: dict[str, int] = {}
        for route in self._routes:
            # At most QoS 1: with QoS 2 the broker forgets the message at PUBREC, before the
            # handler ran, so a failed handler could not get it again.
            qos = min(max(route.handler.qos, 0), 1)
            qos_by_filter[route.topic_filter] = max(qos, qos_by_filter.get(route.topic_filter, 0))
        # Brokers may deliver one copy per matching subscription (amqtt does), and every copy
        # would run every matching handler: a filter covered by a broader one is left out.
        kept = [
            topic_filter
            for topic_filter in qos_by_filter
            if not any(_broader(other, topic_filter) for other in qos_by_filter)
        ]
        return sorted(
            (
                topic_filter,
                max(
                    qos
                    for other, qos in qos_by_filter.items()
                    if filter_covers(topic_filter, other)
                ),
            )
            for topic_filter in kept
        )

    async def route(self, message: Received) -> bool:
        """Handle one message; True when it may be acknowledged (handled or dropped on purpose)."""
        self._metrics.received.inc()
        if message.topic is None:
            return self._drop("invalid_topic", "<not UTF-8>")
        topic = message.topic
        parts = split_tenant(topic)
        if parts is None:
            return self._drop("no_tenant_prefix", topic)
        slug, relative = parts
        if slug == PLATFORM_PREFIX or slug.startswith("_"):
            return self._drop("platform_topic", topic)
        routes = [route for route in self._routes if topic_matches(route.topic_filter, topic)]
        if not routes:
            # A persistent session keeps subscriptions of handlers that no longer exist.
            return self._drop("no_handler", topic)
        try:
            tenant = await self._resolve_tenant(slug)
        except Exception:
            logger.exception("Resolving tenant %r for MQTT topic %r failed", slug, topic)
            self._metrics.handler_failures.labels(module="core").inc()
            return False
        if tenant is None:
            return self._drop("unknown_tenant", topic)
        routes = [route for route in routes if tenant.has_module(route.module)]
        if not routes:
            return self._drop("module_disabled", topic)
        inbound = InboundMessage(tenant, relative, message.payload, message.qos, message.retain)
        handled = True
        for route in routes:
            try:
                await route.handler.handle(inbound)
            except Exception:
                logger.exception(
                    "MQTT handler of module %r failed on %r; the message stays unacknowledged",
                    route.module,
                    topic,
                )
                self._metrics.handler_failures.labels(module=route.module).inc()
                handled = False
        return handled

    def _drop(self, reason: str, topic: str) -> bool:
        logger.info("Dropping MQTT message on %r: %s", topic, reason)
        self._metrics.dropped.labels(reason=reason).inc()
        return True


def _broader(general: str, specific: str) -> bool:
    if general == specific or not filter_covers(general, specific):
        return False
    # Two different filters covering each other: keep one of them, the first in sort order.
    return not filter_covers(specific, general) or general < specific
