"""The lantern's state machine: pure, with the clock and randomness handed in.

A command goes idle -> received -> playing -> finished, or ends failed/rejected. Every call
returns what the lantern wants done next: reports to publish after a spread delay, and steps
to come back to at a given time. The runner (or a test) carries them out.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from stadtkern.devices.lantern.commands import Command, check_fresh, open_command
from stadtkern.devices.lantern.envelope import CHANNELS, Channel, ProtocolError
from stadtkern.devices.lantern.hardware import Faults, LanternIdentity
from stadtkern.devices.lantern.keys import public_key_from_text
from stadtkern.devices.lantern.outgoing import Execution, Outgoing, Publish, Step
from stadtkern.devices.lantern.reports import Ack, AckState, Health, Report, sign_report
from stadtkern.devices.lantern.rotation import rotated_keys
from stadtkern.devices.lantern.signals import total_seconds
from stadtkern.devices.lantern.state import LanternState, StateStore
from stadtkern.devices.lantern.topics import ack_topic, health_topic

FIRMWARE_VERSION = "1.0.0"
# Seq values reserved per state write, so heartbeats do not wear out the flash.
SEQ_BLOCK = 64
REJECTION_INTERVAL = timedelta(seconds=1)
# Reasons of acknowledgements beyond the rejection codes of the protocol (see REASONS).
OUTCOME_REASONS = (
    "preempted",
    "stopped",
    "not_playing",
    "already_played",
    "busy_live",
    "speaker_fault",
    "storage_error",
    "interrupted",
    "kid_in_use",
    "key_of_other_channel",
    "no_key_left",
    "too_many_keys",
)
__all__ = [
    "FIRMWARE_VERSION",
    "OUTCOME_REASONS",
    "Execution",
    "Faults",
    "Lantern",
    "LanternIdentity",
    "LanternState",
    "Outgoing",
    "Publish",
    "StateStore",
    "Step",
]


@dataclass
class _Playback:
    command: Command
    ends: datetime | None = None


class Lantern:
    """One lantern's firmware: verifies commands, plays signals, acknowledges, reports health.

    Booting loads the state from `store` (provision it first) and reserves a fresh block of
    report sequence numbers. `rng` spreads the reports over [0, ack_spread_s); `time_scale`
    divides signal durations; `faults` is the simulated hardware's trouble.
    """

    def __init__(
        self,
        identity: LanternIdentity,
        store: StateStore,
        *,
        rng: random.Random | None = None,
        ack_spread_s: float = 0.0,
        time_scale: float = 1.0,
        faults: Faults | None = None,
    ) -> None:
        self.identity = identity
        self.store = store
        # The spread only shares out broker load; it needs no cryptographic randomness.
        self.rng = rng or random.Random()  # noqa: S311
        self.ack_spread_s = ack_spread_s
        self.time_scale = time_scale
        self.faults = faults or Faults()
        self.executions: list[Execution] = []
        # Whether the microphone heard the last own signal (None: nothing played yet).
        self.heard: bool | None = None
        loaded = self.store.load()
        if loaded is None:
            raise ValueError("the lantern has no state: provision it first")
        self._state = loaded
        self._next_seq = loaded.seq_reserved + 1
        self._playing: _Playback | None = None
        self._last_ack: dict[Channel, Ack] = {}
        self._last_rejection: dict[str, datetime] = {}
        self._keys = self._public_keys()
        self._reserve_seq()

    @property
    def state(self) -> LanternState:
        """The state as last written (do not change it in place)."""
        return self._state

    @property
    def playing(self) -> Command | None:
        """The command whose signal plays (or is about to start)."""
        return self._playing.command if self._playing else None

    def handle_command(self, channel: Channel, payload: bytes, now: datetime) -> list[Outgoing]:
        """Check a message from a command topic in the order of the protocol, then act on it."""
        if self.faults.offline:
            return []
        out = self._settle(now)
        try:
            command = open_command(payload, channel=channel, keys=self._keys[channel])
        except ProtocolError as exc:
            return out + self._reject(channel, exc.reason, None, now)
        try:
            if (command.tenant, command.lantern) != (self.identity.tenant, self.identity.code):
                raise ProtocolError("not_for_me")
            check_fresh(command, now)
        except ProtocolError as exc:
            return out + self._reject(channel, exc.reason, command, now)
        last = self._state.counters[channel]
        if command.counter == last and command.id == self._state.last_ids[channel]:
            return out + self._resend(command, now)
        if command.counter <= last:
            return out + self._reject(channel, "replayed", command, now)
        return out + self._accept(command, now)

    def run_step(self, step: Step, now: datetime) -> list[Outgoing]:
        """Start or finish a signal when its time has come; stale steps do nothing."""
        playback = self._playing
        if playback is None or playback.command.id != step.command:
            return []
        command = playback.command
        if step.kind == "started" and playback.ends is None:
            seconds = total_seconds(command.signal, command.voice, command.repeat)
            playback.ends = now + timedelta(seconds=seconds / self.time_scale)
            self.executions.append(
                Execution(self.identity.code, command.alert, command.action, command.signal, now)
            )
            finish = Step(playback.ends, "finished", step.command)
            return [self._ack(command, "started", None, now), finish]
        if step.kind == "finished" and playback.ends is not None:
            return self._settle(max(now, playback.ends))
        return []

    def health(self, now: datetime, interval: float) -> list[Outgoing]:
        """A heartbeat report; `interval` is the time to the next one."""
        if self.faults.offline:
            return []
        report = Health(
            lantern=self.identity.code,
            seq=self._take_seq(),
            at=now,
            battery=self.faults.battery,
            mains=self.faults.mains,
            tamper=self.faults.tamper,
            speaker="fault" if self.faults.speaker_fault else "ok",
            heard=self.heard,
            firmware=FIRMWARE_VERSION,
            counters={channel: self._state.counters[channel] for channel in CHANNELS},
            keys={channel: tuple(sorted(self._state.keys[channel])) for channel in CHANNELS},
            interval=max(1, math.ceil(interval)),
        )
        return [self._publish(health_topic(self.identity.code), report)]

    # --- acting on an accepted command ------------------------------------------------

    def _accept(self, command: Command, now: datetime) -> list[Outgoing]:
        channel, action = command.channel, command.action
        playing_live = self._playing is not None and self._playing.command.channel == "live"
        keys = None
        if (command.alert, action) in self._state.played:
            outcome: tuple[AckState, str | None] = ("finished", "already_played")
        elif channel == "exercise" and playing_live:
            outcome = ("failed", "busy_live")
        elif action == "sound" and self.faults.speaker_fault:
            outcome = ("failed", "speaker_fault")
        elif action == "rotate_key":
            keys, reason = rotated_keys(self._state.keys, command)
            outcome = ("finished", None) if keys is not None else ("failed", reason)
        else:
            outcome = ("received", None)
        remember = outcome[0] != "failed" and outcome[1] != "already_played"
        new = self._state.copy()
        new.counters[channel], new.last_ids[channel] = command.counter, command.id
        if remember:
            new.remember(command.alert, action)
        if keys is not None:
            new.keys[channel] = keys
        try:
            # Written before acting: after a power cut the command is never carried out twice.
            self._write(new)
        except OSError:
            return [self._ack(command, "failed", "storage_error", now)]
        if keys is not None:
            self._keys = self._public_keys()
        if outcome[1] == "speaker_fault":
            self.heard = False
        if outcome[0] != "received":
            return [self._ack(command, *outcome, now)]
        if action == "stop":
            return self._stop(command, now)
        out = self._end_playback("preempted", now)
        self._playing = _Playback(command)
        return [*out, self._ack(command, "received", None, now), Step(now, "started", command.id)]

    def _stop(self, command: Command, now: datetime) -> list[Outgoing]:
        current = self._playing.command if self._playing else None
        if current is None or (current.alert, current.channel) != (command.alert, command.channel):
            return [self._ack(command, "finished", "not_playing", now)]
        return [*self._end_playback("stopped", now), self._ack(command, "finished", None, now)]

    def _end_playback(self, reason: str | None, now: datetime) -> list[Outgoing]:
        playback, self._playing = self._playing, None
        if playback is None:
            return []
        if reason is None:
            self.heard = not self.faults.speaker_fault
        return [self._ack(playback.command, "finished", reason, now)]

    def _settle(self, now: datetime) -> list[Outgoing]:
        """Finish a signal whose time is up (at its end time), before anything else happens."""
        playback = self._playing
        if playback is None or playback.ends is None or playback.ends > now:
            return []
        return self._end_playback(None, playback.ends)

    # --- reports ----------------------------------------------------------------------

    def _reject(
        self, channel: Channel, reason: str, command: Command | None, now: datetime
    ) -> list[Outgoing]:
        last = self._last_rejection.get(reason)
        if last is not None and now - last < REJECTION_INTERVAL:
            # Someone may flood a topic; the lantern must not amplify it onto the ack topic.
            return []
        self._last_rejection[reason] = now
        report = Ack(
            lantern=self.identity.code,
            seq=self._take_seq(),
            at=now,
            command=command.id if command else None,
            alert=command.alert if command else None,
            counter=command.counter if command else None,
            channel=channel,
            state="rejected",
            reason=reason,
        )
        return [self._publish(ack_topic(self.identity.code), report)]

    def _resend(self, command: Command, now: datetime) -> list[Outgoing]:
        last = self._last_ack.get(command.channel)
        if last is None or last.command != command.id:
            # Accepted before a power cut, outcome unknown: it will not be carried out again.
            return [self._ack(command, "failed", "interrupted", now)]
        again = replace(last, seq=self._take_seq())
        return [self._publish(ack_topic(self.identity.code), again)]

    def _ack(self, command: Command, state: AckState, reason: str | None, at: datetime) -> Publish:
        report = Ack(
            lantern=self.identity.code,
            seq=self._take_seq(),
            at=at,
            command=command.id,
            alert=command.alert,
            counter=command.counter,
            channel=command.channel,
            state=state,
            reason=reason,
        )
        if self._state.last_ids[command.channel] == command.id:
            self._last_ack[command.channel] = report
        return self._publish(ack_topic(self.identity.code), report)

    def _publish(self, topic: str, report: Report) -> Publish:
        envelope = sign_report(report, private_key=self.identity.device_key)
        delay = self.rng.random() * self.ack_spread_s
        return Publish(topic=topic, report=report, envelope=envelope, delay=delay)

    # --- persistence ------------------------------------------------------------------

    def _take_seq(self) -> int:
        if self._next_seq > self._state.seq_reserved:
            self._reserve_seq()
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        return seq

    def _reserve_seq(self) -> None:
        new = self._state.copy()
        new.seq_reserved = self._next_seq - 1 + SEQ_BLOCK
        self._write(new)

    def _write(self, new: LanternState) -> None:
        self.store.save(new)
        self._state = new

    def _public_keys(self) -> dict[Channel, dict[str, Ed25519PublicKey]]:
        return {
            channel: {kid: public_key_from_text(text) for kid, text in kids.items()}
            for channel, kids in self._state.keys.items()
        }
