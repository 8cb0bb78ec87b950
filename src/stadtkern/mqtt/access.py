"""Who may publish, subscribe and receive which MQTT topics: the one place of these rules.

Both the embedded broker's plugins (`mqtt/broker_auth.py`) and the Mosquitto password and ACL
files (`mqtt/mosquitto.py`) are derived from the grants below, so that the two brokers enforce
the same rules:

- the platform's own service connection reads and writes everything, and reads `$SYS`;
- a tenant's API key with the role `viewer` reads `{slug}/#` (its tenant's topics: the
  SensorThings MQTT topics and those of every other module), with `operator` (or `admin`)
  it also writes there;
- an anonymous client reads `{slug}/v1.1/#` of tenants that publish their SensorThings data
  as open data;
- nobody else gets anything: no other tenant's topics, no `#` at the root, no `$SYS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from stadtkern.core.roles import OPERATOR, VIEWER
from stadtkern.mqtt.topics import filter_covers, topic_matches

STA_LEVEL = "v1.1"
ANONYMOUS = "anonymous"


class Action(StrEnum):
    """What a client does with a topic (the same names as amqtt's actions)."""

    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    RECEIVE = "receive"


@dataclass(frozen=True, slots=True)
class MqttPrincipal:
    """Who an MQTT connection is: the platform itself, a tenant's API key, or anonymous."""

    name: str
    tenant_slug: str | None = None
    roles: frozenset[str] = frozenset()
    platform: bool = False

    @property
    def anonymous(self) -> bool:
        """True for a client that presented no credentials."""
        return not self.platform and self.tenant_slug is None


ANONYMOUS_PRINCIPAL = MqttPrincipal(name=ANONYMOUS)


@dataclass(frozen=True, slots=True)
class TopicGrant:
    """A topic filter a principal may read (subscribe to, receive) and perhaps write."""

    pattern: str
    write: bool = False


PLATFORM_GRANTS = (TopicGrant("#", write=True), TopicGrant("$SYS/#"))


def sta_filter(slug: str) -> str:
    """The filter of a tenant's SensorThings MQTT topics: `{slug}/v1.1/#`."""
    return f"{slug}/{STA_LEVEL}/#"


def tenant_filter(slug: str) -> str:
    """The filter of all of a tenant's topics: `{slug}/#`."""
    return f"{slug}/#"


def grants_of(principal: MqttPrincipal) -> tuple[TopicGrant, ...]:
    """The grants of the platform or of a tenant key (anonymous grants depend on the tenant)."""
    if principal.platform:
        return PLATFORM_GRANTS
    if principal.tenant_slug is None:
        return ()
    if OPERATOR in principal.roles:
        return (TopicGrant(tenant_filter(principal.tenant_slug), write=True),)
    if VIEWER in principal.roles:
        return (TopicGrant(tenant_filter(principal.tenant_slug)),)
    return ()


def anonymous_grants(slugs: Iterable[str]) -> tuple[TopicGrant, ...]:
    """Read grants of anonymous clients for the tenants whose data is open."""
    return tuple(TopicGrant(sta_filter(slug)) for slug in sorted(set(slugs)))


def permits(grants: Iterable[TopicGrant], action: Action, topic: str) -> bool:
    """True when one of the grants allows `action` on `topic` (a filter for SUBSCRIBE)."""
    if not topic:
        return False
    for grant in grants:
        if action is Action.SUBSCRIBE and filter_covers(grant.pattern, topic):
            return True
        if action is Action.RECEIVE and topic_matches(grant.pattern, topic):
            return True
        if action is Action.PUBLISH and grant.write and topic_matches(grant.pattern, topic):
            return True
    return False


class MqttAccess:
    """Decides each publish, subscription and delivery of the embedded broker.

    `anonymous_read(slug)` says whether a tenant publishes its SensorThings data as open data;
    it is called on the broker's event loop for every subscription and delivered message of
    anonymous clients, so it must answer from memory (no database query).
    """

    def __init__(self, anonymous_read: Callable[[str], bool] | None = None) -> None:
        self._anonymous_read = anonymous_read or _nobody

    def allowed(self, principal: MqttPrincipal | None, action: Action, topic: str) -> bool:
        """True when `principal` (None: not authenticated) may do `action` on `topic`."""
        if principal is None:
            return False
        if principal.anonymous:
            slug = topic.partition("/")[0]
            if not slug or slug[0] in "$_+#" or not self._anonymous_read(slug):
                return False
            return permits(anonymous_grants([slug]), action, topic)
        return permits(grants_of(principal), action, topic)


def _nobody(_slug: str) -> bool:
    return False
