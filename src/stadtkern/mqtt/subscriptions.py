"""Which SensorThings topics MQTT clients subscribe to right now, per tenant and per client.

The SensorThings MQTT extension publishes an entity change only to topics somebody
subscribes to, and those topics may carry query options (`kl/v1.1/Things?$select=name`) that
the server cannot guess. The registry is fed by the embedded broker's events
(`mqtt/broker_auth.py`) or by Mosquitto's log messages (`mqtt/broker_log.py`).
"""

from __future__ import annotations

import threading
from collections import defaultdict

from stadtkern.mqtt.access import STA_LEVEL
from stadtkern.mqtt.topics import topic_matches


def tenant_of_filter(topic_filter: str) -> str | None:
    """The tenant slug of a filter that can match `{slug}/v1.1/...` topics, else None."""
    levels = topic_filter.split("/")
    slug = levels[0]
    if len(levels) < 2 or not slug or slug[0] in "$_+#":
        return None
    if levels[1] not in (STA_LEVEL, "+", "#"):
        return None
    return slug


class SubscriptionRegistry:
    """Thread-safe: the topic filters under tenant prefixes and the clients holding each.

    A filter stays registered while at least one client holds it; unsubscribing or
    forgetting the last client removes it. Filters outside `{slug}/v1.1/` (and those of the
    platform's own `+/...` subscriptions) are ignored.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[str, dict[str, set[str]]] = {}  # slug -> filter -> client ids
        self._of_client: dict[str, set[str]] = defaultdict(set)  # client id -> filters

    def add(self, client_id: str, topic_filter: str) -> bool:
        """Record that `client_id` subscribes to `topic_filter`; False when it is ignored."""
        slug = tenant_of_filter(topic_filter)
        if slug is None:
            return False
        with self._lock:
            self._holders.setdefault(slug, {}).setdefault(topic_filter, set()).add(client_id)
            self._of_client[client_id].add(topic_filter)
        return True

    def remove(self, client_id: str, topic_filter: str) -> bool:
        """Record an unsubscription; False when the client did not hold the filter."""
        with self._lock:
            return self._drop(client_id, topic_filter)

    def holds(self, client_id: str, topic_filter: str) -> bool:
        """True when `client_id` is known to subscribe to `topic_filter`."""
        with self._lock:
            return topic_filter in self._of_client.get(client_id, ())

    def forget_client(self, client_id: str) -> None:
        """Remove every subscription of a client whose session has ended."""
        with self._lock:
            for topic_filter in list(self._of_client.get(client_id, ())):
                self._drop(client_id, topic_filter)

    def topics_for(self, slug: str) -> set[str]:
        """The filters clients hold under the tenant's prefix."""
        with self._lock:
            return set(self._holders.get(slug, ()))

    def subscribed(self, topic: str) -> bool:
        """True when some client's filter matches the topic (so publishing it has a reader)."""
        slug = topic.partition("/")[0]
        with self._lock:
            filters = list(self._holders.get(slug, ()))
        return any(topic_matches(topic_filter, topic) for topic_filter in filters)

    def _drop(self, client_id: str, topic_filter: str) -> bool:
        held = self._of_client.get(client_id)
        if held is None or topic_filter not in held:
            return False
        held.discard(topic_filter)
        if not held:
            del self._of_client[client_id]
        slug = tenant_of_filter(topic_filter)
        filters = self._holders.get(slug or "", {})
        clients = filters.get(topic_filter, set())
        clients.discard(client_id)
        if not clients:
            filters.pop(topic_filter, None)
            if not filters:
                self._holders.pop(slug or "", None)
        return True
