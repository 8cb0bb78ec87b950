"""The wire format: topics, times, keys, command and report bodies, envelopes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from stadtkern.devices.lantern.protocol import (
    Ack,
    Command,
    Health,
    ProtocolError,
    ack_topic,
    check_fresh,
    command_topic,
    device_key_from_seed,
    format_time,
    health_topic,
    open_command,
    open_report,
    pack_envelope,
    parse_time,
    parse_topic,
    private_key_from_text,
    private_key_text,
    public_key_from_text,
    public_key_text,
    sign_report,
    unpack_envelope,
    valid_code,
)
from tests.devices.conftest import T0, Keys, MakeCommand, signed


def test_topics_round_trip() -> None:
    assert command_topic("L-7", "live") == "warning/lanterns/L-7/cmd/live"
    assert parse_topic(command_topic("L-7", "exercise")) == ("L-7", "cmd", "exercise")
    assert parse_topic(ack_topic("L_7")) == ("L_7", "ack", None)
    assert parse_topic(health_topic("x")) == ("x", "health", None)


@pytest.mark.parametrize(
    "topic",
    [
        "warning/lanterns/L-7/cmd/drill",
        "warning/lanterns/L-7/cmd",
        "warning/lanterns/L+7/ack",
        "warning/lanterns/L-7/ack/extra",
        "stadt/warning/lanterns/L-7/ack",
        "warning/sirens/L-7/ack",
    ],
)
def test_other_topics_are_refused(topic: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_topic(topic)
    assert caught.value.reason == "malformed"


def test_lantern_codes() -> None:
    assert valid_code("A" * 64)
    assert valid_code("l_1-B")
    assert not any(valid_code(c) for c in ("", "A" * 65, "a/b", "a+", "#", "ä", "a\n", None))
    with pytest.raises(ProtocolError):
        command_topic("a/b", "live")


def test_times_are_rfc3339_utc() -> None:
    assert format_time(T0) == "2025-03-01T12:00:00Z"
    assert format_time(T0 + timedelta(microseconds=250_000)) == "2025-03-01T12:00:00.25Z"
    berlin = timezone(timedelta(hours=1))
    assert format_time(datetime(2025, 3, 1, 13, tzinfo=berlin)) == "2025-03-01T12:00:00Z"
    assert parse_time("2025-03-01T13:00:00+01:00") == T0
    assert parse_time("2025-03-01T12:00:00.123456789Z") == T0 + timedelta(microseconds=123456)
    assert parse_time("2025-03-01T12:00:00Z").tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        format_time(datetime(2025, 3, 1))  # noqa: DTZ001 - the naive time under test
    for text in ("2025-03-01 12:00:00Z", "2025-03-01T12:00:00", "2025-02-30T12:00:00Z", "x"):
        with pytest.raises(ProtocolError):
            parse_time(text)


def test_keys_as_text() -> None:
    key = device_key_from_seed(b"a")
    assert device_key_from_seed(b"a") != device_key_from_seed(b"b")
    assert private_key_text(device_key_from_seed(b"a")) == private_key_text(key)
    assert private_key_text(private_key_from_text(private_key_text(key))) == private_key_text(key)
    text = public_key_text(key.public_key())
    assert len(text) == 43
    assert "=" not in text
    assert public_key_text(public_key_from_text(text)) == text
    for bad in ("", text + "=", text[:-1], text + "AAAA", "!" * 43):
        with pytest.raises(ProtocolError):
            public_key_from_text(bad)


def test_a_command_body_round_trips(make_command: MakeCommand) -> None:
    command = make_command(issued=T0 + timedelta(microseconds=5), retire=("a", "b"))
    assert Command.from_body(command.to_body()) == command


def test_unknown_members_are_ignored(make_command: MakeCommand) -> None:
    command = make_command()
    members = json.loads(command.to_body())
    members["priority"] = "high"
    members["voice"]["fr"] = "Attention"
    del members["audio"], members["key"], members["retire"]
    assert Command.from_body(json.dumps(members).encode()) == command


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("id", "A" * 32),
        ("counter", 0),
        ("counter", 1.0),
        ("counter", True),
        ("counter", 2**53),
        ("repeat", 6),
        ("channel", "drill"),
        ("action", "explode"),
        ("signal", "siren"),
        ("issued", 1740830400),
        ("expires", "2025-03-01T11:00:00Z"),
        ("voice", {"de": 5}),
        ("voice", ["Achtung"]),
        ("audio", {"url": "https://x", "sha256": "no"}),
        ("key", {"kid": "k", "publicKey": "short"}),
        ("retire", "live-1"),
        ("retire", [["live-1"]]),
        ("tenant", "Muster Stadt"),
        ("alert", ""),
    ],
)
def test_malformed_bodies_are_refused(
    make_command: MakeCommand, member: str, value: object
) -> None:
    members = json.loads(make_command().to_body())
    members[member] = value
    with pytest.raises(ProtocolError) as caught:
        Command.from_body(json.dumps(members).encode())
    assert caught.value.reason == "malformed"


def test_rotation_needs_something_to_rotate(make_command: MakeCommand) -> None:
    with pytest.raises(ProtocolError, match="rotate_key"):
        make_command(action="rotate_key")


def test_open_command_checks_in_order(keys: Keys, make_command: MakeCommand) -> None:
    command = make_command()
    envelope = signed(command, keys)
    live = {"live-1": keys.live.public_key()}
    assert open_command(envelope, channel="live", keys=live) == command
    versioned = json.loads(envelope)
    versioned["v"], versioned["kid"] = 2, 7  # the version is checked before anything else
    with pytest.raises(ProtocolError) as caught:
        open_command(json.dumps(versioned).encode(), channel="live", keys=live)
    assert caught.value.reason == "unsupported_version"
    with pytest.raises(ProtocolError) as caught:
        open_command(envelope, channel="exercise", keys=live)
    assert caught.value.reason == "bad_signature", "the channel is part of the signed bytes"


def test_freshness_allows_thirty_seconds_of_skew(make_command: MakeCommand) -> None:
    command = make_command(issued=T0, expires=T0 + timedelta(minutes=1))
    check_fresh(command, T0 - timedelta(seconds=30))
    check_fresh(command, T0 + timedelta(minutes=1))
    for now in (T0 - timedelta(seconds=31), T0 + timedelta(minutes=1, microseconds=1)):
        with pytest.raises(ProtocolError) as caught:
            check_fresh(command, now)
        assert caught.value.reason == "expired"


def _reports() -> list[Ack | Health]:
    ack = Ack("L-1", 1, T0, None, None, None, "exercise", "rejected", "malformed")
    health = Health(
        "L-1", 2, T0, 87.5, True, False, "ok", None, "1.0.0",
        {"live": 3, "exercise": 9}, {"live": ("a",), "exercise": ("b", "c")}, 60,
    )  # fmt: skip
    return [ack, replace(ack, command="f" * 32, alert="cap", counter=4, state="finished"), health]


@pytest.mark.parametrize("report", _reports())
def test_reports_round_trip_and_detect_tampering(keys: Keys, report: Ack | Health) -> None:
    envelope = sign_report(report, private_key=keys.device)
    assert open_report(envelope, public_key=keys.device.public_key()) == report
    opened = unpack_envelope(envelope)
    for index in (0, len(opened.body) // 2, len(opened.body) - 1):
        tampered = bytearray(opened.body)
        tampered[index] ^= 0x01
        forged = pack_envelope("device", bytes(tampered), opened.sig)
        with pytest.raises(ProtocolError) as caught:
            open_report(forged, public_key=keys.device.public_key())
        assert caught.value.reason == "bad_signature"
    with pytest.raises(ProtocolError) as caught:
        open_report(envelope, public_key=keys.stranger.public_key())
    assert caught.value.reason == "bad_signature"


def test_a_command_signature_is_no_report_signature(keys: Keys, make_command: MakeCommand) -> None:
    envelope = signed(make_command(), keys)
    with pytest.raises(ProtocolError) as caught:
        open_report(envelope, public_key=keys.live.public_key())
    assert caught.value.reason == "bad_signature"
