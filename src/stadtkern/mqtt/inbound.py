"""Inbound messages: from a broker topic to the handlers of the tenant's enabled modules."""

from __future__ import annotations

import asyncio
import logging
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
MATCHES_KEPT = 10_000  # topics whose matching routes are remembered (then forgotten at once)


@dataclass(frozen=True, slots=True)
class Received:
    """A PUBLISH as paho delivered it; `topic` is None when it was not valid UTF-8."""

    topic: str | None
    payload: bytes
    qos: int
    retain: bool
    mid: int
    connection: int  # which connection it arrived on; a PUBACK only makes sense on that one


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
        # A device publishes to the same topic again and again: its matching routes are kept.
        self._matching: dict[str, list[Route]] = {}

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
        (verdict,) = await self.route_burst([message])
        return verdict

    async def route_burst(self, messages: Sequence[Received]) -> list[bool]:
        """Handle messages that arrived together; per message, True when it may be
        acknowledged. A handler with `handle_burst` gets all of its messages at once."""
        verdicts: list[bool] = [True] * len(messages)
        deliveries: list[tuple[int, InboundMessage, list[Route]]] = []
        for index, message in enumerate(messages):
            prepared = await self._prepare(message)
            if isinstance(prepared, bool):
                verdicts[index] = prepared
            else:
                deliveries.append((index, *prepared))
        if not deliveries:
            return verdicts
        batches: dict[int, tuple[Route, list[tuple[int, InboundMessage]]]] = {}
        single: list[tuple[int, InboundMessage, Route]] = []
        for index, inbound, routes in deliveries:
            for route in routes:
                if route.handler.handle_burst is not None:
                    batches.setdefault(id(route), (route, []))[1].append((index, inbound))
                else:
                    single.append((index, inbound, route))
        work = [self._handle_burst(route, items) for route, items in batches.values()]
        work += [self._handle_one(index, inbound, route) for index, inbound, route in single]
        for failed in await asyncio.gather(*work):
            for index in failed:
                verdicts[index] = False
        return verdicts

    async def _prepare(self, message: Received) -> bool | tuple[InboundMessage, list[Route]]:
        """The message for the matching handlers, or whether a message nobody handles may be
        acknowledged (dropped on purpose: True; the tenant could not be resolved: False)."""
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
        routes = self._matching.get(topic)
        if routes is None:
            routes = [route for route in self._routes if topic_matches(route.topic_filter, topic)]
            if len(self._matching) >= MATCHES_KEPT:
                self._matching.clear()
            self._matching[topic] = routes
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
        return inbound, routes

    async def _handle_one(self, index: int, inbound: InboundMessage, route: Route) -> list[int]:
        """Run a handler on one message; the message's index when it failed."""
        try:
            await route.handler.handle(inbound)
        except Exception as error:
            self._failed(route, [inbound], error)
            return [index]
        return []

    async def _handle_burst(
        self, route: Route, items: Sequence[tuple[int, InboundMessage]]
    ) -> list[int]:
        """Run a burst handler on its messages; the indices of those that failed."""
        handle_burst = route.handler.handle_burst
        assert handle_burst is not None  # noqa: S101 - only burst routes come here
        inbound = [message for _index, message in items]
        try:
            outcomes = await handle_burst(inbound)
            if len(outcomes) != len(inbound):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(inbound)} messages")
        except Exception as error:
            outcomes = [error] * len(inbound)
        # One error often fails many messages (the database is down): it is logged once.
        failures: dict[int, tuple[BaseException, list[InboundMessage]]] = {}
        failed = []
        for (index, message), outcome in zip(items, outcomes, strict=True):
            if outcome is not None:
                failures.setdefault(id(outcome), (outcome, []))[1].append(message)
                failed.append(index)
        for outcome, messages in failures.values():
            self._failed(route, messages, outcome)
        return failed

    def _failed(
        self, route: Route, messages: Sequence[InboundMessage], error: BaseException
    ) -> None:
        first = messages[0]
        logger.error(
            "MQTT handler of module %r failed on %r%s; left unacknowledged",
            route.module,
            f"{first.tenant.slug}/{first.topic}",
            f" and {len(messages) - 1} more messages" if len(messages) > 1 else "",
            exc_info=error,
        )
        self._metrics.handler_failures.labels(module=route.module).inc(len(messages))

    def _drop(self, reason: str, topic: str) -> bool:
        logger.info("Dropping MQTT message on %r: %s", topic, reason)
        self._metrics.dropped.labels(reason=reason).inc()
        return True


def _broader(general: str, specific: str) -> bool:
    if general == specific or not filter_covers(general, specific):
        return False
    # Two different filters covering each other: keep one of them, the first in sort order.
    return not filter_covers(specific, general) or general < specific
