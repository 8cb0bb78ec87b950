"""Every way a command can be forged, replayed or misrouted is refused, with the right reason."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from stadtkern.devices.lantern.firmware import Lantern
from stadtkern.devices.lantern.protocol import (
    command_signed_bytes,
    open_command,
    pack_envelope,
    unpack_envelope,
)
from tests.devices.conftest import (
    CODE,
    T0,
    Keys,
    MakeCommand,
    acks,
    boot,
    play_through,
    seq_of,
    signed,
    states,
    steps,
)


def _rejected(lantern: Lantern, channel: str, payload: bytes, keys: Keys, reason: str) -> None:
    before = dict(lantern.state.counters)
    out = lantern.handle_command(channel, payload, T0)  # type: ignore[arg-type]
    assert states(out, keys) == [("rejected", reason)]
    assert not steps(out), "a rejected command must not start anything"
    assert lantern.state.counters == before
    assert not lantern.executions


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def test_an_old_counter_is_replayed(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    old = signed(make_command(counter=4), keys)
    play_through(lantern, lantern.handle_command("live", old, T0))
    play_through(lantern, lantern.handle_command("live", signed(make_command(counter=5), keys), T0))
    executed = len(lantern.executions)
    out = lantern.handle_command("live", old, T0 + timedelta(minutes=3))
    assert states(out, keys) == [("rejected", "replayed")]
    assert acks(out, keys)[0].counter == 4, "an authenticated rejection names the command"
    out = lantern.handle_command(
        "live", signed(make_command(counter=3), keys), T0 + timedelta(minutes=4)
    )
    assert states(out, keys) == [("rejected", "replayed")]
    assert len(lantern.executions) == executed


def test_one_flipped_bit_of_the_body_breaks_the_signature(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    envelope = unpack_envelope(signed(make_command(), keys))
    public = {"live-1": keys.live.public_key()}
    for bit in range(len(envelope.body) * 8):
        forged = pack_envelope("live-1", _flip(envelope.body, bit), envelope.sig)
        with pytest.raises(ValueError, match="bad_signature"):
            open_command(forged, channel="live", keys=public)
    forged = pack_envelope("live-1", _flip(envelope.body, 77), envelope.sig)
    _rejected(lantern, "live", forged, keys, "bad_signature")


def test_one_flipped_bit_of_the_signature_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    envelope = unpack_envelope(signed(make_command(), keys))
    public = {"live-1": keys.live.public_key()}
    for bit in range(512):
        forged = pack_envelope("live-1", envelope.body, _flip(envelope.sig, bit))
        with pytest.raises(ValueError, match="bad_signature"):
            open_command(forged, channel="live", keys=public)
    forged = pack_envelope("live-1", envelope.body, _flip(envelope.sig, 300))
    _rejected(lantern, "live", forged, keys, "bad_signature")


def test_an_expired_command_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    command = make_command(issued=T0 - timedelta(minutes=10), expires=T0 - timedelta(seconds=1))
    _rejected(lantern, "live", signed(command, keys), keys, "expired")


def test_a_command_issued_far_in_the_future_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    future = make_command(issued=T0 + timedelta(seconds=31), expires=T0 + timedelta(hours=1))
    _rejected(lantern, "live", signed(future, keys), keys, "expired")
    skewed = make_command(issued=T0 + timedelta(seconds=29), expires=T0 + timedelta(hours=1))
    assert states(lantern.handle_command("live", signed(skewed, keys), T0), keys) == [
        ("received", None)
    ]


def test_a_stranger_signing_with_a_known_kid_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    keys.live = keys.stranger
    _rejected(lantern, "live", signed(make_command(), keys), keys, "bad_signature")


def test_an_unknown_kid_is_refused(lantern: Lantern, keys: Keys, make_command: MakeCommand) -> None:
    _rejected(lantern, "live", signed(make_command(), keys, kid="live-9"), keys, "unknown_key")


def test_a_live_command_signed_with_the_exercise_key_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    command = make_command(channel="live")
    by_exercise_kid = pack_envelope(
        "exercise-1",
        command.to_body(),
        keys.exercise.sign(command_signed_bytes("live", command.to_body())),
    )
    _rejected(lantern, "live", by_exercise_kid, keys, "unknown_key")
    keys.live = keys.exercise  # the exercise key under the live kid
    later = T0 + timedelta(seconds=2)  # past the rate limit of rejections
    out = lantern.handle_command("live", signed(command, keys), later)
    assert states(out, keys) == [("rejected", "bad_signature")]
    assert not lantern.executions


def test_an_exercise_envelope_on_the_live_topic_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    exercise = signed(make_command(channel="exercise", signal="test_tone"), keys)
    _rejected(lantern, "live", exercise, keys, "unknown_key")


def test_an_exercise_body_signed_for_the_live_topic_is_the_wrong_channel(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    body = make_command(channel="exercise", signal="test_tone").to_body()
    forged = pack_envelope("live-1", body, keys.live.sign(command_signed_bytes("live", body)))
    _rejected(lantern, "live", forged, keys, "wrong_channel")


@pytest.mark.parametrize(
    ("tenant", "code"), [("nachbarstadt", CODE), ("musterstadt", "L-0002")], ids=["tenant", "code"]
)
def test_a_command_for_someone_else_is_not_for_me(
    lantern: Lantern, keys: Keys, make_command: MakeCommand, tenant: str, code: str
) -> None:
    command = make_command(tenant=tenant, lantern=code)
    _rejected(lantern, "live", signed(command, keys), keys, "not_for_me")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "malformed"),
        (b"[1, 2]", "malformed"),
        (b'{"kid": "live-1"}', "malformed"),
        (b'{"v": true, "kid": "live-1", "body": "", "sig": ""}', "malformed"),
        (b'{"v": 1, "v": 1, "kid": "live-1", "body": "", "sig": ""}', "malformed"),
        (b'{"v": 2, "kid": "live-1", "body": "e30", "sig": ""}', "unsupported_version"),
        (b'{"v": 1, "kid": "live-1", "body": "e30=", "sig": ""}', "malformed"),
        (b'{"v": ' + b"9" * 5000 + b"}", "malformed"),
        (b"[" * 30_000, "malformed"),
    ],
)
def test_broken_envelopes_are_refused(
    lantern: Lantern, keys: Keys, payload: bytes, reason: str
) -> None:
    _rejected(lantern, "live", payload, keys, reason)


def test_a_signed_but_unreadable_body_is_malformed(lantern: Lantern, keys: Keys) -> None:
    body = json.dumps({"id": "x", "counter": 1}).encode()
    forged = pack_envelope("live-1", body, keys.live.sign(command_signed_bytes("live", body)))
    _rejected(lantern, "live", forged, keys, "malformed")


def test_a_duplicate_delivery_is_acknowledged_again_but_not_executed_again(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    envelope = signed(make_command(), keys)
    first = play_through(lantern, lantern.handle_command("live", envelope, T0))
    assert states(first, keys)[-1] == ("finished", None)
    again = lantern.handle_command("live", envelope, T0 + timedelta(minutes=2))
    assert states(again, keys) == [("finished", None)]
    assert not steps(again)
    assert acks(again, keys)[0].seq > acks(first, keys)[-1].seq
    assert len(lantern.executions) == 1


def test_the_counter_is_written_before_acting(
    state_file: Path, lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    envelope = signed(make_command(counter=7), keys)
    out = lantern.handle_command("live", envelope, T0)
    assert steps(out), "accepted, about to start"
    # Power cut before the signal starts: boot again from what is on the flash.
    rebooted = boot(state_file, keys)
    assert rebooted.state.counters["live"] == 7
    again = rebooted.handle_command("live", envelope, T0 + timedelta(seconds=5))
    assert states(again, keys) == [("failed", "interrupted")]
    assert not steps(again)
    assert not rebooted.executions
    later = rebooted.handle_command("live", signed(make_command(counter=6), keys), T0)
    assert states(later, keys) == [("rejected", "replayed")]


def test_a_lantern_that_cannot_write_does_not_act(
    state_file: Path, lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    # The temporary file's name taken by a directory: every write fails like broken flash.
    (state_file.parent / (state_file.name + ".tmp")).mkdir()
    out = lantern.handle_command("live", signed(make_command(), keys), T0)
    assert states(out, keys) == [("failed", "storage_error")]
    assert not steps(out)
    assert lantern.state.counters["live"] == 0


def test_report_seq_never_repeats_across_reboots(
    state_file: Path, lantern: Lantern, keys: Keys
) -> None:
    before = [seq_of(lantern.health(T0, 60)) for _ in range(3)]
    rebooted = boot(state_file, keys)
    assert seq_of(rebooted.health(T0, 60)) > max(before)
