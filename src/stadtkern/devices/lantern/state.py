"""What a lantern must remember across power loss, and how it is written without tearing."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stadtkern.devices.lantern.envelope import CHANNELS, Channel
from stadtkern.devices.lantern.keys import public_key_from_text, valid_kid

STATE_VERSION = 1
# Enough to recognise every alert of a long incident; the oldest are forgotten first.
MAX_PLAYED = 256
MAX_KEYS_PER_CHANNEL = 4


class StateError(ValueError):
    """A state file that cannot be read as a lantern's state."""


def _empty_per_channel() -> dict[Channel, Any]:
    return {channel: None for channel in CHANNELS}


@dataclass
class LanternState:
    """Keys per channel, accepted counters, the report sequence reserve and played alerts."""

    keys: dict[Channel, dict[str, str]]
    counters: dict[Channel, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    last_ids: dict[Channel, str | None] = field(default_factory=_empty_per_channel)
    # Reports up to this seq may be sent without writing first (see Lantern.next_seq).
    seq_reserved: int = 0
    played: list[tuple[str, str]] = field(default_factory=list)
    device_key: str | None = None

    @classmethod
    def provisioned(
        cls,
        live: Mapping[str, str],
        exercise: Mapping[str, str],
        device_key: str | None = None,
    ) -> LanternState:
        """A factory-fresh state with the platform's public keys {kid: key text} per channel."""
        state = cls(keys={"live": dict(live), "exercise": dict(exercise)}, device_key=device_key)
        state.check()
        return state

    def check(self) -> None:
        """Raise StateError unless every member is well-formed."""
        if set(self.keys) != set(CHANNELS) or set(self.counters) != set(CHANNELS):
            raise StateError("keys and counters need exactly the channels live and exercise")
        for channel in CHANNELS:
            kids = self.keys[channel]
            if not kids or len(kids) > MAX_KEYS_PER_CHANNEL or not all(map(valid_kid, kids)):
                raise StateError(f"{channel} needs 1-{MAX_KEYS_PER_CHANNEL} keys with valid ids")
            for text in kids.values():
                try:
                    public_key_from_text(text)
                except ValueError as exc:
                    raise StateError(f"{channel} key is not a public key: {exc}") from exc
            last_id = self.last_ids.get(channel)
            if last_id is not None and not isinstance(last_id, str):
                raise StateError("last command ids are strings or null")
            if not isinstance(self.counters[channel], int) or self.counters[channel] < 0:
                raise StateError("counters are non-negative integers")
        if not isinstance(self.seq_reserved, int) or self.seq_reserved < 0:
            raise StateError("seq_reserved is a non-negative integer")

    def remember(self, alert: str, action: str) -> None:
        """Note an alert's action as done, forgetting the oldest beyond MAX_PLAYED."""
        self.played.append((alert, action))
        del self.played[:-MAX_PLAYED]

    def to_json(self) -> str:
        """The state as JSON text."""
        return json.dumps(
            {
                "version": STATE_VERSION,
                "keys": self.keys,
                "counters": self.counters,
                "lastIds": self.last_ids,
                "seqReserved": self.seq_reserved,
                "played": [list(entry) for entry in self.played],
                "deviceKey": self.device_key,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> LanternState:
        """A state from JSON text; StateError when it is not one."""
        try:
            data = json.loads(text)
            if data.get("version") != STATE_VERSION:
                raise StateError(f"state version {data.get('version')!r} is not supported")
            state = cls(
                keys={channel: dict(data["keys"][channel]) for channel in CHANNELS},
                counters={channel: data["counters"][channel] for channel in CHANNELS},
                last_ids={channel: data["lastIds"][channel] for channel in CHANNELS},
                seq_reserved=data["seqReserved"],
                played=[(str(alert), str(action)) for alert, action in data["played"]],
                device_key=data.get("deviceKey"),
            )
            state.check()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StateError(f"not a lantern state: {exc}") from exc
        return state

    def copy(self) -> LanternState:
        """An independent copy to change before it is written."""
        return LanternState(
            keys={channel: dict(kids) for channel, kids in self.keys.items()},
            counters=dict(self.counters),
            last_ids=dict(self.last_ids),
            seq_reserved=self.seq_reserved,
            played=list(self.played),
            device_key=self.device_key,
        )


class StateStore:
    """The state's home: a file written atomically, or memory when `path` is None."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self._memory: str | None = None
        self.writes = 0

    def load(self) -> LanternState | None:
        """The last state written, or None when there is none yet."""
        if self.path is None:
            return LanternState.from_json(self._memory) if self._memory is not None else None
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return LanternState.from_json(text)

    def save(self, state: LanternState) -> None:
        """Write the whole state so that a power cut leaves either the old or the new one."""
        text = state.to_json()
        self.writes += 1
        if self.path is None:
            self._memory = text
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        # The rename itself only survives a power cut once the directory is on disk.
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
