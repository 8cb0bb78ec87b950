"""amqtt plugins of the embedded broker: API-key logins, tenant topic access, subscriptions.

amqtt 0.12.1 loads plugins named by dotted path in the `plugins` section of its config and
fills each plugin's `Config` dataclass from that section, so the platform's objects (the
login, the access rules, the registry) reach the plugins through `BrokerGate` in the config.
Import this module only with amqtt's import-time deprecation warnings silenced (see
`EmbeddedBroker.start`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin, BasePlugin, BaseTopicPlugin

from stadtkern.mqtt.access import Action, MqttAccess, MqttPrincipal
from stadtkern.mqtt.credentials import Login
from stadtkern.mqtt.subscriptions import SubscriptionRegistry

logger = logging.getLogger(__name__)
PRINCIPAL_ATTRIBUTE = "stadtkern_principal"


class GuardedBroker(Broker):  # type: ignore[misc]  # amqtt is untyped
    """amqtt's broker, sending retained messages only for the client's own subscriptions.

    amqtt 0.12.1 sends a connecting client the retained messages of every topic filter that
    any client subscribes to, past the topic filtering plugins: another tenant's retained
    data would reach it. Its own subscriptions were checked when it subscribed.
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        holders = self._subscriptions.get(subscription[0], ())
        if any(holder.client_id == session.client_id for holder, _qos in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class BrokerGate:
    """Logs clients in and decides their topics; keeps each session's principal."""

    def __init__(self, *, login: Login, access: MqttAccess) -> None:
        self.login = login
        self.access = access

    async def authenticate(self, session: Any) -> bool:
        """Log the session in (in a worker thread: the login reads the database)."""
        # Kept on amqtt's Session object: a reconnect under the same client id may reuse the
        # session, and is then logged in again with the new credentials.
        setattr(session, PRINCIPAL_ATTRIBUTE, None)
        password = session.password
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        client = str(session.remote_address or "unknown")
        principal = await asyncio.to_thread(self.login, session.username, password, client)
        if principal is None:
            logger.info("MQTT login refused for client %r from %s", session.client_id, client)
            return False
        setattr(session, PRINCIPAL_ATTRIBUTE, principal)
        # amqtt keeps no session of an anonymous client after it disconnects.
        session.is_anonymous = principal.anonymous
        return True

    def allowed(self, session: Any, action: Action, topic: str | None) -> bool:
        """True when the session's principal may do `action` on `topic`."""
        principal: MqttPrincipal | None = getattr(session, PRINCIPAL_ATTRIBUTE, None)
        return topic is not None and self.access.allowed(principal, action, topic)


@dataclass
class _GateConfig:
    gate: Any = None


@dataclass
class _RegistryConfig:
    registry: Any = None


class ApiKeyAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]  # amqtt is untyped
    """Accepts the platform's service login, live tenant API keys and anonymous clients."""

    Config = _GateConfig

    async def authenticate(self, *, session: Any) -> bool:
        """True when the login is accepted."""
        gate: BrokerGate = self.config.gate
        return await gate.authenticate(session)


class TenantTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]  # amqtt is untyped
    """Confines publishes, subscriptions and deliveries to what `MqttAccess` allows."""

    Config = _GateConfig

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        """True when the session may do `action` on `topic`."""
        gate: BrokerGate = self.config.gate
        return gate.allowed(session, Action(str(action)), topic)


class SubscriptionFeedPlugin(BasePlugin):  # type: ignore[misc]  # amqtt is untyped
    """Keeps a SubscriptionRegistry in step with the broker's granted subscriptions."""

    Config = _RegistryConfig

    async def on_broker_client_connected(self, *, client_id: str, client_session: Any) -> None:
        """A clean start discards what a previous session of this client id held."""
        if client_session.clean_session:
            self._registry.forget_client(client_id)

    async def on_broker_client_subscribed(self, *, client_id: str, topic: str, qos: int) -> None:
        """Record a granted subscription."""
        self._registry.add(client_id, topic)

    async def on_broker_client_unsubscribed(self, *, client_id: str, topic: str) -> None:
        """Forget an unsubscribed filter."""
        self._registry.remove(client_id, topic)

    async def on_broker_client_disconnected(self, *, client_id: str, client_session: Any) -> None:
        """Forget the subscriptions of sessions that end with their connection."""
        if client_session.clean_session or client_session.is_anonymous:
            self._registry.forget_client(client_id)

    @property
    def _registry(self) -> SubscriptionRegistry:
        registry: SubscriptionRegistry = self.config.registry
        return registry


@dataclass(frozen=True)
class BrokerPlugins:
    """The plugin section of the embedded broker's amqtt config."""

    gate: BrokerGate | None = None
    registry: SubscriptionRegistry | None = None

    def config(self) -> dict[str, Any]:
        """amqtt's `plugins` mapping: dotted class path -> plugin config."""
        plugins: dict[str, Any] = {}
        if self.gate is None:
            plugins["amqtt.plugins.authentication.AnonymousAuthPlugin"] = {"allow_anonymous": True}
        else:
            plugins[f"{__name__}.ApiKeyAuthPlugin"] = {"gate": self.gate}
            plugins[f"{__name__}.TenantTopicPlugin"] = {"gate": self.gate}
        if self.registry is not None:
            plugins[f"{__name__}.SubscriptionFeedPlugin"] = {"registry": self.registry}
        return plugins
