"""Subscriptions derived from the modules' handlers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from stadtkern.core.refs import TenantRef
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt.inbound import InboundRouter
from stadtkern.mqtt.metrics import MqttMetrics


async def handle(_message: InboundMessage) -> None:
    return None


async def resolve(_slug: str) -> TenantRef | None:
    return None


def subscriptions(*patterns: tuple[str, int]) -> list[tuple[str, int]]:
    router = InboundRouter(
        handlers=[("m", TopicHandler(pattern, handle, qos)) for pattern, qos in patterns],
        resolve_tenant=resolve,
        metrics=MqttMetrics(CollectorRegistry()),
    )
    return router.subscriptions()


def test_each_filter_is_subscribed_once_with_the_highest_qos() -> None:
    assert subscriptions(("a/b", 0), ("a/b", 1), ("c", 0)) == [("+/a/b", 1), ("+/c", 0)]


def test_a_filter_covered_by_a_broader_one_is_left_out() -> None:
    # Otherwise brokers that send one copy per subscription would run the handlers twice.
    assert subscriptions(("v1.1/#", 0), ("v1.1/Things", 1), ("parking/+/free", 1)) == [
        ("+/parking/+/free", 1),
        ("+/v1.1/#", 1),
    ]


def test_qos_2_is_subscribed_as_qos_1() -> None:
    # The broker forgets a QoS 2 message at PUBREC, before a failed handler could get it again.
    assert subscriptions(("alarms/#", 2)) == [("+/alarms/#", 1)]


def test_no_handlers_no_subscriptions() -> None:
    assert subscriptions() == []
