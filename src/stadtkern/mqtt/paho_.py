"""paho's client, reading what the broker sent in large pieces and acknowledging in bulk.

paho reads every packet with at least three `recv` calls (the command byte, the remaining
length byte by byte, then the rest) and goes once around its network loop (a `select`, the
keep-alive check, the write queue) per packet. Under a backlog of small PUBLISHes that is most
of the platform's MQTT cost. `PlatformClient` hands paho a socket that fills a buffer with
one `recv` of up to `READ_SIZE` bytes and serves paho's small reads from it, and reads every
packet already in that buffer in one round of the loop. paho knows such sockets: its TLS and
WebSocket sockets buffer too, and `pending()` tells its loop not to wait in `select` while
buffered bytes remain. `ack_many` queues the PUBACKs of a burst as one write (paho's `ack`
wakes its thread and writes once per message). Nothing else changes: paho still parses each
packet, and keep-alive, TLS and reconnects are paho's own.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

READ_SIZE = 256 * 1024
PAHO_LOGGER = logging.getLogger("stadtkern.mqtt.paho")
# Packets read from the buffer in one round of paho's loop, so that queued PUBACKs and the
# keep-alive check still get their turn under a steady stream.
PACKETS_PER_ROUND = 1000
PUBACK = 0x40
_PUBACK_FRAME = struct.Struct("!BBH")  # MQTT 3.1.1, 3.4: type, remaining length 2, packet id


class ReadAheadSocket:
    """A connected socket (plain or TLS) whose reads come from a buffer filled in large pieces."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""
        self._offset = 0

    def recv(self, size: int) -> bytes:
        """Up to `size` bytes; raises as the socket does when nothing is there (non-blocking)."""
        if self._offset >= len(self._buffer):
            data: bytes = self._sock.recv(READ_SIZE)
            if not data:
                return data  # the broker closed the connection
            self._buffer, self._offset = data, 0
        start = self._offset
        self._offset = min(start + size, len(self._buffer))
        return self._buffer[start : self._offset]

    def buffered(self) -> int:
        """Bytes read from the socket and not yet taken by paho."""
        return len(self._buffer) - self._offset

    def pending(self) -> int:
        """Bytes readable without waiting: the buffer's and those TLS has decrypted."""
        inner = getattr(self._sock, "pending", None)
        return self.buffered() + (inner() if inner is not None else 0)

    def send(self, data: bytes | bytearray) -> int:
        """Send as the socket does."""
        sent: int = self._sock.send(data)
        return sent

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

    def fileno(self) -> int:
        """The socket's descriptor, for `select`."""
        number: int = self._sock.fileno()
        return number

    def setblocking(self, flag: bool) -> None:
        """Set the socket's blocking mode."""
        self._sock.setblocking(flag)

    def __getattr__(self, name: str) -> Any:
        # Anything else paho may ask of a socket (getpeercert, settimeout, ...) is the socket's.
        return getattr(self._sock, name)


class PlatformClient(paho.Client):
    """A paho client whose connection reads through `ReadAheadSocket`, which acknowledges
    many messages with one write, and formats its debug lines (two for every message:
    received, acknowledged) only when they are shown."""

    def ack_many(self, mids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages (manual acks) in this order, with one write."""
        if not mids:
            return
        if PAHO_LOGGER.isEnabledFor(logging.DEBUG):
            PAHO_LOGGER.debug("Sending %d PUBACKs (Mids: %s)", len(mids), list(mids))
        frames = b"".join(_PUBACK_FRAME.pack(PUBACK, 2, mid) for mid in mids)
        # paho's own ack() queues one such packet per message; its writer only looks at the
        # command of PUBLISH and DISCONNECT packets, so many PUBACK frames go out as one.
        self._packet_queue(PUBACK, frames, 0, 0)

    def _easy_log(self, level: Any, fmt: str, *args: Any) -> None:
        if level == paho.MQTT_LOG_DEBUG and not PAHO_LOGGER.isEnabledFor(logging.DEBUG):
            return
        super()._easy_log(level, fmt, *args)

    _filtered = False  # whether per-topic callbacks were added (the platform adds none)

    def message_callback_add(self, sub: str, callback: Any) -> None:
        """Add a callback for messages matching `sub` (as paho does)."""
        self._filtered = True
        super().message_callback_add(sub, callback)

    def _handle_on_message(self, message: paho.MQTTMessage) -> None:
        # paho matches every message's topic against the per-topic callbacks, which the
        # platform never adds: without any, the message goes to on_message straight away.
        on_message = self.on_message
        if self._filtered or on_message is None:
            super()._handle_on_message(message)
            return
        with self._in_callback_mutex:
            try:
                on_message(self, self._userdata, message)
            except Exception:
                PAHO_LOGGER.exception("on_message failed; paho's network thread stops")
                raise

    def _create_socket(self) -> Any:
        return ReadAheadSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read the packets that are there: at least one round of paho's own reading, then
        more while whole packets may wait in the buffer."""
        sock: object = self._sock
        rc = super().loop_read(max_packets)
        if not isinstance(sock, ReadAheadSocket):
            return rc
        reader: ReadAheadSocket = sock
        rounds = 1
        while (
            rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            and self._sock is reader
            and reader.buffered()
            and rounds < PACKETS_PER_ROUND
        ):
            rc = super().loop_read(max_packets)
            rounds += 1
        return rc
