"""The MQTT access rules, decided without a broker."""

from __future__ import annotations

import pytest

from stadtkern.mqtt.access import (
    ANONYMOUS_PRINCIPAL,
    Action,
    MqttAccess,
    MqttPrincipal,
    anonymous_grants,
    grants_of,
)

PUB, SUB, RECV = Action.PUBLISH, Action.SUBSCRIBE, Action.RECEIVE
OPERATOR = MqttPrincipal(name="k1", tenant_slug="kl", roles=frozenset({"operator", "viewer"}))
VIEWER = MqttPrincipal(name="k2", tenant_slug="kl", roles=frozenset({"viewer"}))
GREETER = MqttPrincipal(name="k3", tenant_slug="kl", roles=frozenset({"greeter"}))
PLATFORM = MqttPrincipal(name="stadtkern-platform", platform=True)
ACCESS = MqttAccess(anonymous_read={"kusel"}.__contains__)


@pytest.mark.parametrize(
    ("principal", "action", "topic"),
    [
        (OPERATOR, SUB, "kl/v1.1/#"),
        (OPERATOR, SUB, "kl/v1.1/Things?$select=name"),
        (OPERATOR, PUB, "kl/v1.1/Things"),
        (OPERATOR, RECV, "kl/v1.1/Datastreams(1)/Observations"),
        (OPERATOR, SUB, "kl/#"),
        (OPERATOR, PUB, "kl/example/ping"),
        (VIEWER, SUB, "kl/example/pong"),
        (VIEWER, SUB, "kl/v1.1/+/Observations"),
        (VIEWER, RECV, "kl/v1.1/Things"),
        (ANONYMOUS_PRINCIPAL, SUB, "kusel/v1.1/Things"),
        (ANONYMOUS_PRINCIPAL, RECV, "kusel/v1.1/Things"),
        (PLATFORM, SUB, "+/sensorthings/#"),
        (PLATFORM, PUB, "kl/v1.1/Things"),
        (PLATFORM, SUB, "$SYS/broker/log/M/subscribe"),
        (PLATFORM, RECV, "$SYS/broker/log/N"),
    ],
)
def test_allowed(principal: MqttPrincipal, action: Action, topic: str) -> None:
    assert ACCESS.allowed(principal, action, topic)


@pytest.mark.parametrize(
    ("principal", "action", "topic"),
    [
        (OPERATOR, SUB, "#"),
        (OPERATOR, SUB, "+/v1.1/#"),
        (OPERATOR, SUB, "kusel/v1.1/#"),
        (OPERATOR, PUB, "kusel/v1.1/Things"),
        (OPERATOR, RECV, "kusel/v1.1/Things"),
        (OPERATOR, SUB, "$SYS/#"),
        (OPERATOR, PUB, ""),
        (VIEWER, PUB, "kl/v1.1/Things"),
        (VIEWER, PUB, "kl/example/ping"),
        (ANONYMOUS_PRINCIPAL, SUB, "kusel/example/pong"),
        (GREETER, SUB, "kl/v1.1/Things"),
        (ANONYMOUS_PRINCIPAL, SUB, "kl/v1.1/Things"),
        (ANONYMOUS_PRINCIPAL, PUB, "kusel/v1.1/Things"),
        (ANONYMOUS_PRINCIPAL, SUB, "+/v1.1/#"),
        (ANONYMOUS_PRINCIPAL, SUB, "$SYS/#"),
        (ANONYMOUS_PRINCIPAL, SUB, "#"),
        (None, RECV, "kusel/v1.1/Things"),
        (MqttPrincipal(name="admin", roles=frozenset({"admin"})), SUB, "kl/v1.1/#"),
    ],
)
def test_refused(principal: MqttPrincipal | None, action: Action, topic: str) -> None:
    assert not ACCESS.allowed(principal, action, topic)


def test_without_anonymous_read_anonymous_clients_read_nothing() -> None:
    assert not MqttAccess().allowed(ANONYMOUS_PRINCIPAL, SUB, "kusel/v1.1/Things")


def test_grants_are_what_the_acl_file_says() -> None:
    assert [(g.pattern, g.write) for g in grants_of(OPERATOR)] == [("kl/#", True)]
    assert [(g.pattern, g.write) for g in grants_of(VIEWER)] == [("kl/#", False)]
    assert grants_of(GREETER) == ()
    assert grants_of(ANONYMOUS_PRINCIPAL) == ()
    assert [g.pattern for g in anonymous_grants(["b", "a", "a"])] == ["a/v1.1/#", "b/v1.1/#"]
