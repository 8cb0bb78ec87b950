"""Prometheus metrics of the MQTT service."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class MqttMetrics:
    """Counters and gauges of the broker connection, the outbox and inbound dispatch."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        # Without a registry the metrics are kept in a private one that nobody scrapes, so the
        # service records them unconditionally instead of checking for None everywhere.
        target = registry if registry is not None else CollectorRegistry(auto_describe=False)
        self.published = Counter(
            "stadtkern_mqtt_published",
            "Outbox messages acknowledged by the broker",
            registry=target,
        )
        self.received = Counter(
            "stadtkern_mqtt_received", "Messages received from the broker", registry=target
        )
        self.dropped = Counter(
            "stadtkern_mqtt_dropped",
            "Messages acknowledged without being handled",
            ["reason"],
            registry=target,
        )
        self.handler_failures = Counter(
            "stadtkern_mqtt_handler_failures",
            "Inbound messages left unacknowledged because handling raised",
            ["module"],
            registry=target,
        )
        self.outbox_depth = Gauge(
            "stadtkern_mqtt_outbox_depth", "Rows in the MQTT outbox", registry=target
        )
        self.connected = Gauge(
            "stadtkern_mqtt_connected", "1 while connected to the broker", registry=target
        )
