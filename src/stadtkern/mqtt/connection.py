"""Where the broker is and how the platform's paho client is built: URL, TLS, reconnect delays."""

from __future__ import annotations

import logging
import random
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from stadtkern.mqtt.paho_ import PAHO_LOGGER, PlatformClient
from stadtkern.settings import MqttSettings

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
EMBEDDED = "embedded"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Host, port, TLS and credentials of the broker, parsed from the settings."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None


def broker_address(settings: MqttSettings) -> BrokerAddress:
    """Parse `settings.url`; 'embedded' means the in-process broker at `embedded_bind`."""
    if settings.url == EMBEDDED:
        host, port = split_bind(settings.embedded_bind)
        return BrokerAddress(host=host, port=port)
    parts = urlsplit(settings.url)
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(
            f"MQTT URL must be 'embedded', mqtt://host[:port] or mqtts://host[:port]; "
            f"got scheme {parts.scheme!r}"
        )
    if not parts.hostname:
        raise ValueError("MQTT URL has no host")
    if parts.scheme != "mqtts" and (settings.ca_file or settings.cert_file or settings.key_file):
        # Otherwise a forgotten 's' would send the password in clear text without a word.
        raise ValueError("MQTT TLS files are set but the URL is not mqtts://")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise ValueError(f"MQTT URL has an invalid port: {exc}") from exc
    return BrokerAddress(
        host=parts.hostname,
        port=port,
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def split_bind(bind: str) -> tuple[str, int]:
    """Host to connect to and port of a listener address such as '127.0.0.1:1884' or '[::]:1884'."""
    host, separator, port_text = bind.rpartition(":")
    if not separator or not port_text.isdigit() or not 0 < int(port_text) < 65_536:
        raise ValueError(f"listener address {bind!r} must look like host:port")
    host = host.strip("[]")
    # A wildcard listener is reached through loopback.
    wildcard = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104
    return wildcard.get(host, host), int(port_text)


class _ClosingSSLSocket(ssl.SSLSocket):
    """A TLS socket that closes itself when its handshake fails.

    paho 2.2 does not close the socket when the handshake raises (an unknown CA, a refused
    client certificate): every failed reconnect would leak a file descriptor until the garbage
    collector found it.
    """

    def do_handshake(self, block: bool = False) -> None:
        """Shake hands; on failure close the socket before raising."""
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """The TLS client context: verify the broker against `ca_file` (or the system's CAs)."""
    if settings.key_file is not None and settings.cert_file is None:
        raise ValueError("MQTT key_file is set without cert_file")
    try:
        context = ssl.create_default_context(cafile=settings.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.cert_file is not None:
            context.load_cert_chain(settings.cert_file, settings.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"MQTT TLS files cannot be loaded: {exc}") from exc
    # The chain is still verified; only the broker's name is not compared with the URL's host.
    context.check_hostname = not settings.tls_insecure
    context.sslsocket_class = _ClosingSSLSocket
    return context


def new_client(
    settings: MqttSettings, address: BrokerAddress, tls: ssl.SSLContext | None = None
) -> PlatformClient:
    """A paho client with a persistent session (MQTT 3.1.1, clean_session=False, manual acks)
    that reads in large pieces and acknowledges in bulk (`mqtt/paho_.py`)."""
    client = PlatformClient(
        CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        clean_session=False,
        protocol=paho.MQTTv311,
        manual_ack=True,
    )
    client.on_log = _log_paho
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        # paho reads check_hostname from the context: tls_insecure needs no call of its own.
        client.tls_set_context(tls if tls is not None else tls_context(settings))
    # The outbox keeps its own in-flight window; paho must never refuse or hold back a publish.
    client.max_inflight_messages_set(settings.inflight)
    client.max_queued_messages_set(0)
    return client


_paho_logger = PAHO_LOGGER
_PAHO_LEVELS: dict[int, int] = {
    paho.MQTT_LOG_ERR: logging.ERROR,
    paho.MQTT_LOG_WARNING: logging.WARNING,
    paho.MQTT_LOG_NOTICE: logging.INFO,
    paho.MQTT_LOG_INFO: logging.INFO,
}


def _log_paho(_client: paho.Client, _userdata: object, level: int, text: str) -> None:
    # paho 2.2 reports its idle network loop ("Client is not connected") as an error on every
    # reconnect attempt and after every clean disconnect; it is part of normal operation.
    if text.startswith("Client is not connected"):
        _paho_logger.debug("%s", text)
    else:
        _paho_logger.log(_PAHO_LEVELS.get(level, logging.DEBUG), "%s", text)


class Backoff:
    """Exponential reconnect delays with jitter, never below the floor nor above the ceiling."""

    def __init__(self, minimum: float, maximum: float, rng: random.Random | None = None) -> None:
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
        self._failures = 0
        # Jitter only spreads reconnects of many clients; it needs no cryptographic randomness.
        self._rng = rng or random.Random()  # noqa: S311

    def next_delay(self) -> float:
        """The delay before the next attempt; grows with every failure since the last reset."""
        ceiling = min(self.maximum, self.minimum * 2 ** min(self._failures, 32))
        self._failures += 1
        return self._rng.uniform(self.minimum, ceiling)

    def reset(self) -> None:
        """Start again from the floor after a successful connection."""
        self._failures = 0
