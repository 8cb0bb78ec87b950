"""The platform's paho client on the wire: small reads served from one large read, and the
PUBACKs of a burst written at once."""

from __future__ import annotations

import socket

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from stadtkern.mqtt.paho_ import PlatformClient, ReadAheadSocket

PUBACK_1, PUBACK_2 = b"\x40\x02\x00\x01", b"\x40\x02\x00\x02"


def test_small_reads_come_from_one_large_read_until_the_socket_is_empty() -> None:
    ours, broker = socket.socketpair()
    with ours, broker:
        ours.setblocking(False)
        reader = ReadAheadSocket(ours)
        broker.sendall(PUBACK_1 + PUBACK_2)
        assert reader.recv(1) == b"\x40"  # paho reads the command byte by itself
        # The rest arrived with it: it is announced, and served without touching the socket.
        assert reader.buffered() == 7
        assert reader.pending() == 7
        assert reader.recv(1) == b"\x02"
        assert reader.recv(2) == b"\x00\x01"
        assert reader.recv(100) == PUBACK_2  # never more than the buffer holds
        assert reader.pending() == 0
        with pytest.raises(BlockingIOError):  # as paho expects of a non-blocking socket
            reader.recv(1)
        broker.sendall(PUBACK_1)
        assert reader.recv(4) == PUBACK_1
        broker.shutdown(socket.SHUT_WR)
        assert reader.recv(1) == b""  # the broker closed the connection


def test_writes_and_the_descriptor_are_the_sockets() -> None:
    ours, broker = socket.socketpair()
    with ours, broker:
        reader = ReadAheadSocket(ours)
        assert reader.fileno() == ours.fileno()
        assert reader.send(PUBACK_1) == 4
        assert broker.recv(4) == PUBACK_1
        assert reader.getsockname() == ours.getsockname()  # anything else is passed through
        reader.close()
        assert ours.fileno() == -1


def test_the_pubacks_of_a_burst_go_out_in_one_write_in_order() -> None:
    ours, broker = socket.socketpair()
    with ours, broker:
        client = PlatformClient(
            CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311, manual_ack=True
        )
        client._sock = ours  # a connected client without a network thread writes at once
        client.ack_many([1, 2, 513])
        client.ack_many([])  # nothing to send: no empty packet either
        broker.settimeout(5)
        assert broker.recv(100) == b"\x40\x02\x00\x01\x40\x02\x00\x02\x40\x02\x02\x01"


def test_messages_reach_on_message_and_per_topic_callbacks_still_work() -> None:
    client = PlatformClient(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    heard: list[tuple[str, str]] = []
    client.on_message = lambda _c, _u, m: heard.append(("all", m.topic))
    message = paho.MQTTMessage(mid=1, topic=b"kl/v1.1/Observations")
    client._handle_on_message(message)
    assert heard == [("all", "kl/v1.1/Observations")]
    # With a per-topic callback, paho's own matching decides, as before.
    client.message_callback_add("kl/#", lambda _c, _u, m: heard.append(("kl", m.topic)))
    client._handle_on_message(message)
    client._handle_on_message(paho.MQTTMessage(mid=2, topic=b"other/x"))
    assert heard[1:] == [("kl", "kl/v1.1/Observations"), ("all", "other/x")]
