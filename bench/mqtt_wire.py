"""A minimal MQTT 3.1.1 publisher on a raw socket: CONNECT, PUBLISH at QoS 1, PUBACK.

paho-mqtt costs about 70 µs of CPU per QoS 1 message in Python; on two cores that would make
the load generator compete with the server it measures. This client pre-encodes each packet
and keeps `window` messages in flight, as paho does (its default max_inflight_messages, 20).
"""

from __future__ import annotations

import contextlib
import socket
import struct


def _length(value: int) -> bytes:
    out = bytearray()
    while True:
        value, digit = divmod(value, 128)
        out.append(digit | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string(text: str | bytes) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id: str, username: str, password: str, keepalive: int = 60) -> bytes:
    """CONNECT with a clean session, username and password."""
    flags = 0x80 | 0x40 | 0x02
    variable = _string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive)
    payload = _string(client_id) + _string(username) + _string(password)
    body = variable + payload
    return b"\x10" + _length(len(body)) + body


def publish_packet(topic: bytes, mid: int, payload: bytes) -> bytes:
    """PUBLISH at QoS 1 (not retained, not a duplicate)."""
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + payload
    return b"\x32" + _length(len(body)) + body


class WirePublisher:
    """One client connection; `acks()` returns the packet ids the broker acknowledged."""

    def __init__(self, port: int, client_id: str, username: str, password: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id, username, password))
        self.buffer = b""
        while len(self.buffer) < 4:
            self._fill()
        packet, self.buffer = self.buffer[:4], self.buffer[4:]
        if packet[0] != 0x20 or packet[3] != 0:
            raise ConnectionError(f"CONNACK refused: {packet!r}")

    def _fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the broker closed the connection")
        self.buffer += data

    def send(self, packets: list[bytes]) -> None:
        """Write PUBLISH packets."""
        self.sock.sendall(b"".join(packets))

    def acks(self) -> list[int]:
        """Block until at least one packet arrives; the PUBACK packet ids read."""
        self._fill()
        mids = []
        buffer = self.buffer
        position = 0
        while len(buffer) - position >= 2:
            kind = buffer[position]
            size = buffer[position + 1]  # PUBACK and PINGRESP are short: one length byte
            if len(buffer) - position < 2 + size:
                break
            if kind == 0x40:
                mids.append(struct.unpack_from("!H", buffer, position + 2)[0])
            position += 2 + size
        self.buffer = buffer[position:]
        return mids

    def close(self) -> None:
        """DISCONNECT and close."""
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")
        self.sock.close()
