"""The lantern's behaviour: playing, preemption, stop, faults, rotation, rate limits, health."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from stadtkern.devices.lantern.firmware import Lantern, LanternIdentity, Publish
from stadtkern.devices.lantern.protocol import (
    Health,
    device_key_from_seed,
    open_report,
    public_key_text,
)
from stadtkern.devices.lantern.state import StateStore
from tests.devices.conftest import (
    CODE,
    T0,
    TENANT,
    Keys,
    MakeCommand,
    acks,
    boot,
    play_through,
    signed,
    states,
    steps,
)


def test_a_warning_plays_through_received_started_finished(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    command = make_command(repeat=2)
    out = play_through(lantern, lantern.handle_command("live", signed(command, keys), T0))
    assert states(out, keys) == [("received", None), ("started", None), ("finished", None)]
    finished = acks(out, keys)[-1]
    # Two cycles of 60 s signal + 2 s German + 2 s English voice.
    assert finished.at == T0 + timedelta(seconds=128)
    assert [a.seq for a in acks(out, keys)] == sorted({a.seq for a in acks(out, keys)})
    assert lantern.executions == [(CODE, command.alert, "sound", "warning", T0)]
    assert lantern.heard is True


def test_live_preempts_exercise(lantern: Lantern, keys: Keys, make_command: MakeCommand) -> None:
    exercise = make_command(channel="exercise", signal="test_tone")
    out = lantern.handle_command("exercise", signed(exercise, keys), T0)
    lantern.run_step(steps(out)[0], T0)
    live = make_command(channel="live")
    out = lantern.handle_command("live", signed(live, keys), T0 + timedelta(seconds=3))
    reports = acks(out, keys)
    assert [(a.command, a.state, a.reason) for a in reports] == [
        (exercise.id, "finished", "preempted"),
        (live.id, "received", None),
    ]
    assert lantern.playing == live


def test_exercise_during_live_is_busy(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    live = make_command(channel="live")
    lantern.run_step(steps(lantern.handle_command("live", signed(live, keys), T0))[0], T0)
    exercise = make_command(channel="exercise", signal="test_tone")
    out = lantern.handle_command("exercise", signed(exercise, keys), T0 + timedelta(seconds=5))
    assert states(out, keys) == [("failed", "busy_live")]
    assert lantern.playing == live
    assert lantern.state.counters["exercise"] == exercise.counter, "accepted, then refused"
    # Once the live signal is over, the exercise channel is free again.
    after = make_command(channel="exercise", signal="test_tone", alert=exercise.alert)
    out = lantern.handle_command("exercise", signed(after, keys), T0 + timedelta(minutes=2))
    assert states(out, keys) == [("finished", None), ("received", None)]


def test_stop_ends_the_named_alert(lantern: Lantern, keys: Keys, make_command: MakeCommand) -> None:
    sound = make_command()
    lantern.run_step(steps(lantern.handle_command("live", signed(sound, keys), T0))[0], T0)
    stop = make_command(action="stop", signal="none", voice=None, alert=sound.alert)
    out = lantern.handle_command("live", signed(stop, keys), T0 + timedelta(seconds=10))
    assert [(a.command, a.state, a.reason) for a in acks(out, keys)] == [
        (sound.id, "finished", "stopped"),
        (stop.id, "finished", None),
    ]
    assert lantern.playing is None
    other = make_command(action="stop", signal="none", alert="cap-other")
    out = lantern.handle_command("live", signed(other, keys), T0 + timedelta(seconds=11))
    assert states(out, keys) == [("finished", "not_playing")]


def test_an_alert_already_played_is_acknowledged_not_played_again(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    first = make_command(alert="cap-hochwasser")
    play_through(lantern, lantern.handle_command("live", signed(first, keys), T0))
    again = make_command(alert="cap-hochwasser")
    out = lantern.handle_command("live", signed(again, keys), T0 + timedelta(minutes=5))
    assert states(out, keys) == [("finished", "already_played")]
    assert not steps(out)
    assert len(lantern.executions) == 1


def test_a_speaker_fault_fails_the_command(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    lantern.faults.speaker_fault = True
    out = lantern.handle_command("live", signed(make_command(), keys), T0)
    assert states(out, keys) == [("failed", "speaker_fault")]
    assert not lantern.executions
    health = open_report(
        _only(lantern.health(T0, 60)).envelope, public_key=keys.device.public_key()
    )
    assert isinstance(health, Health)
    assert (health.speaker, health.heard) == ("fault", False)


def test_rejections_are_rate_limited_per_reason(lantern: Lantern, keys: Keys) -> None:
    answered = [
        lantern.handle_command("live", b"junk", T0 + timedelta(milliseconds=100 * i))
        for i in range(25)
    ]
    assert [len(out) for out in answered].count(1) == 3, "one per second over 2.4 s"
    out = lantern.handle_command("live", b'{"v": 9}', T0 + timedelta(seconds=2, milliseconds=500))
    assert states(out, keys) == [("rejected", "unsupported_version")], "other reasons still pass"


def test_rotation_adds_and_retires_keys(
    lantern: Lantern, state_file: Path, keys: Keys, make_command: MakeCommand
) -> None:
    new_live = device_key_from_seed(b"live-2")
    rotate = make_command(
        action="rotate_key",
        signal="none",
        voice=None,
        key={"kid": "live-2", "publicKey": public_key_text(new_live.public_key())},
        retire=("live-1",),
    )
    out = lantern.handle_command("live", signed(rotate, keys), T0)
    assert states(out, keys) == [("finished", None)]
    assert set(boot(state_file, keys).state.keys["live"]) == {"live-2"}, "written to flash"
    old = make_command()
    out = lantern.handle_command("live", signed(old, keys), T0 + timedelta(seconds=1))
    assert states(out, keys) == [("rejected", "unknown_key")]
    keys.live = new_live
    out = lantern.handle_command("live", signed(old, keys, kid="live-2"), T0 + timedelta(seconds=2))
    assert states(out, keys) == [("received", None)]


def test_rotation_signed_by_the_other_channel_is_refused(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    attacker = device_key_from_seed(b"attacker")
    rotate = make_command(
        channel="exercise",
        action="rotate_key",
        signal="none",
        key={"kid": "live-x", "publicKey": public_key_text(attacker.public_key())},
    )
    # Signed with the exercise key, sent to the live topic: not a live key.
    out = lantern.handle_command("live", signed(rotate, keys), T0)
    assert states(out, keys) == [("rejected", "unknown_key")]
    # On its own topic it only ever changes the exercise keys.
    out = lantern.handle_command("exercise", signed(rotate, keys), T0 + timedelta(seconds=1))
    assert states(out, keys) == [("finished", None)]
    assert set(lantern.state.keys["live"]) == {"live-1"}
    assert set(lantern.state.keys["exercise"]) == {"exercise-1", "live-x"}


def test_rotation_refuses_to_share_a_key_or_lock_itself_out(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    live_text = public_key_text(keys.live.public_key())
    share = make_command(
        channel="exercise",
        action="rotate_key",
        signal="none",
        key={"kid": "exercise-2", "publicKey": live_text},
    )
    out = lantern.handle_command("exercise", signed(share, keys), T0)
    assert states(out, keys) == [("failed", "key_of_other_channel")]
    empty = make_command(action="rotate_key", signal="none", retire=("live-1",))
    out = lantern.handle_command("live", signed(empty, keys), T0)
    assert states(out, keys) == [("failed", "no_key_left")]
    assert set(lantern.state.keys["live"]) == {"live-1"}


def test_health_reports_faults_counters_and_keys(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    play_through(lantern, lantern.handle_command("live", signed(make_command(counter=3), keys), T0))
    lantern.faults.battery, lantern.faults.mains, lantern.faults.tamper = 41.5, False, True
    health = open_report(
        _only(lantern.health(T0, 59.2)).envelope, public_key=keys.device.public_key()
    )
    assert isinstance(health, Health)
    assert (health.battery, health.mains, health.tamper, health.heard) == (41.5, False, True, True)
    assert health.counters == {"live": 3, "exercise": 0}
    assert health.keys == {"live": ("live-1",), "exercise": ("exercise-1",)}
    assert (health.firmware, health.interval, health.speaker) == ("1.0.0", 60, "ok")


def test_an_offline_lantern_says_nothing(
    lantern: Lantern, keys: Keys, make_command: MakeCommand
) -> None:
    lantern.faults.offline = True
    assert lantern.handle_command("live", signed(make_command(), keys), T0) == []
    assert lantern.health(T0, 60) == []
    assert lantern.state.counters["live"] == 0


def test_acks_are_spread_and_time_is_scaled(
    state_file: Path, keys: Keys, make_command: MakeCommand
) -> None:
    identity = LanternIdentity(TENANT, CODE, keys.device)
    spread = random.Random(1)  # noqa: S311 - ack spread, not a secret
    lantern = Lantern(identity, StateStore(state_file), rng=spread, ack_spread_s=4, time_scale=1000)
    out = play_through(lantern, lantern.handle_command("live", signed(make_command(), keys), T0))
    delays = [item.delay for item in out if isinstance(item, Publish)]
    assert len(set(delays)) == 3
    assert all(0 <= delay < 4 for delay in delays)
    assert acks(out, keys)[-1].at == T0 + timedelta(seconds=64 / 1000)


def _only(outgoing: Sequence[object]) -> Publish:
    (item,) = outgoing
    assert isinstance(item, Publish)
    return item
