"""The embedded broker: amqtt running in the platform's process, for laptops and small towns."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from stadtkern.mqtt.access import MqttAccess
from stadtkern.mqtt.connection import split_bind
from stadtkern.mqtt.credentials import Login
from stadtkern.mqtt.subscriptions import SubscriptionRegistry

logger = logging.getLogger(__name__)

SHUTDOWN_CHECK_SECONDS = 1.0


class EmbeddedBroker:
    """An amqtt broker listening on `bind` (host:port), started and stopped with the platform.

    Without `login` it accepts every client with full access (tests, tools). With `login`
    (`mqtt/credentials.py`: the platform's service login, tenant API keys, anonymous) every
    publish, subscription and delivery is checked by `access` (`mqtt/access.py`; the default
    lets anonymous clients read no tenant). `subscriptions`, when given, is kept in step with
    the subscriptions the broker grants. amqtt keeps no session of an anonymous client once
    it disconnects, so a persistent session (and redelivery of unacknowledged messages after a
    reconnect) needs a logged-in client, or an external broker such as Mosquitto.
    """

    def __init__(
        self,
        bind: str = "127.0.0.1:1884",
        *,
        login: Login | None = None,
        access: MqttAccess | None = None,
        subscriptions: SubscriptionRegistry | None = None,
    ) -> None:
        self._host, self._port = split_bind(bind)
        self._bind = bind
        self._login = login
        self._access = access or MqttAccess()
        self._subscriptions = subscriptions
        self._broker: Any = None

    @property
    def url(self) -> str:
        """The mqtt:// URL clients connect to."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"mqtt://{host}:{self._port}"

    async def start(self) -> None:
        """Open the listener."""
        if self._broker is not None:
            raise RuntimeError("embedded MQTT broker is already running")
        _quiet_amqtt_logging()
        with warnings.catch_warnings():
            # amqtt imports libraries that still emit deprecation warnings on import.
            warnings.simplefilter("ignore", DeprecationWarning)
            from stadtkern.mqtt.broker_auth import BrokerGate, BrokerPlugins, GuardedBroker

        gate = None
        if self._login is not None:
            gate = BrokerGate(login=self._login, access=self._access)
        plugins = BrokerPlugins(gate=gate, registry=self._subscriptions)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": self._bind}},
            "plugins": plugins.config(),
        }
        broker = GuardedBroker(config)
        await broker.start()
        self._broker = broker
        logger.info("Embedded MQTT broker listening on %s", self._bind)

    async def stop(self) -> None:
        """Disconnect every client and close the listener."""
        broker, self._broker = self._broker, None
        if broker is None:
            return
        shutdown = asyncio.ensure_future(broker.shutdown())
        while not (await asyncio.wait({shutdown}, timeout=SHUTDOWN_CHECK_SECONDS))[0]:
            _cancel_swallowed_readers()
        shutdown.result()


def _cancel_swallowed_readers() -> None:
    # On Python 3.11, asyncio.wait_for loses a cancellation that arrives together with the
    # awaited result. amqtt's connection readers wait that way, so one may keep running after
    # shutdown cancelled it while the broker waits for it to end; cancel it again.
    for task in asyncio.all_tasks():
        if task.done() or not task.cancelling():
            continue
        if task.get_coro().__qualname__ == "ProtocolHandler._reader_loop":  # type: ignore[union-attr]
            logger.debug("Cancelling amqtt connection reader %s again", task.get_name())
            task.cancel()


def _quiet_amqtt_logging() -> None:
    # amqtt logs every connection, and its state machine library every transition, at INFO;
    # keep that chatter out of the platform's log unless an operator configured those loggers.
    for name in ("amqtt", "transitions"):
        library_logger = logging.getLogger(name)
        if library_logger.level == logging.NOTSET:
            library_logger.setLevel(logging.WARNING)
