"""Mosquitto's log lines on `$SYS/broker/log/...` turned into the subscription registry.

Mosquitto configured with `log_dest topic` and `log_type subscribe`, `unsubscribe` and
`notice` publishes lines such as (Mosquitto 2.0.11, default `log_timestamp`):

    $SYS/broker/log/M/subscribe    1796129570: unsub 0 kl/v1.1/Things
    $SYS/broker/log/M/unsubscribe  1796129571: unsub kl/v1.1/Things
    $SYS/broker/log/N              1796129570: New client connected from 127.0.0.1:47993 as
                                   unsub (p2, c1, k60).
    $SYS/broker/log/N              1796129571: Client unsub disconnected.

A clean session's subscriptions end with its connection; a persistent session (`c0`) keeps
them, so only the former are forgotten on a disconnect. Lines that cannot be read (client ids
with spaces in an ambiguous place, or a session that connected before the platform listened)
leave an entry behind: a stale entry only costs a publish nobody receives.
"""

from __future__ import annotations

import logging
import re

from stadtkern.mqtt.subscriptions import SubscriptionRegistry, tenant_of_filter

SUBSCRIBE_TOPIC = "$SYS/broker/log/M/subscribe"
UNSUBSCRIBE_TOPIC = "$SYS/broker/log/M/unsubscribe"
NOTICE_TOPIC = "$SYS/broker/log/N"
LOG_TOPICS = (SUBSCRIBE_TOPIC, UNSUBSCRIBE_TOPIC, NOTICE_TOPIC)

_TIMESTAMP = re.compile(r"^\d+: ")
_QOS = re.compile(r" [0-2] ")
_CONNECTED = re.compile(
    r"^New client connected from \S+ as (?P<client>.+) \(p\d+, c(?P<clean>[01]), k\d+"
)
_GONE = re.compile(
    r"^(?:Client (?P<client>.+?) (?:disconnected|closed its connection|has exceeded timeout)"
    r"|Socket error on client (?P<socket>.+), disconnecting)"
)
logger = logging.getLogger(__name__)


class MosquittoLogFeed:
    """Feeds a SubscriptionRegistry from Mosquitto's `$SYS/broker/log` messages."""

    def __init__(self, registry: SubscriptionRegistry) -> None:
        self.registry = registry
        self._clean: dict[str, bool] = {}  # client id -> clean session, while connected

    def handle(self, topic: str, payload: bytes) -> None:
        """Take one message of LOG_TOPICS (any thread; other topics are ignored)."""
        line = _TIMESTAMP.sub("", payload.decode("utf-8", "replace").strip(), count=1)
        if topic == SUBSCRIBE_TOPIC:
            self._subscribed(line)
        elif topic == UNSUBSCRIBE_TOPIC:
            self._unsubscribed(line)
        elif topic == NOTICE_TOPIC:
            self._notice(line)

    def _subscribed(self, line: str) -> None:
        # "<client id> <qos> <filter>"; ids and filters may hold spaces, slugs never do.
        for match in _QOS.finditer(line):
            client, topic_filter = line[: match.start()], line[match.end() :]
            if " " not in topic_filter.partition("/")[0] and tenant_of_filter(topic_filter):
                self.registry.add(client, topic_filter)
                return

    def _unsubscribed(self, line: str) -> None:
        # "<client id> <filter>": the split is the one naming a subscription we know.
        for index, character in enumerate(line):
            if character == " " and self.registry.remove(line[:index], line[index + 1 :]):
                return

    def _notice(self, line: str) -> None:
        connected = _CONNECTED.match(line)
        if connected is not None:
            client = connected["client"]
            clean = connected["clean"] == "1"
            self._clean[client] = clean
            if clean:  # a clean start discards a persistent session left behind
                self.registry.forget_client(client)
            return
        gone = _GONE.match(line)
        if gone is not None:
            client = gone["client"] or gone["socket"]
            if self._clean.pop(client, False):
                self.registry.forget_client(client)
