"""MQTT for the platform: the client service with its outbox, topics and the embedded broker."""

from stadtkern.mqtt.broker import EmbeddedBroker
from stadtkern.mqtt.service import MqttService
from stadtkern.mqtt.topics import PLATFORM_PREFIX, full_topic, topic_matches

__all__ = ["PLATFORM_PREFIX", "EmbeddedBroker", "MqttService", "full_topic", "topic_matches"]
