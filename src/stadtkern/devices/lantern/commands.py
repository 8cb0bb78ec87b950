"""Commands from the platform to a lantern: the body, signing and the envelope checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stadtkern.devices.lantern.envelope import (
    CHANNELS,
    Channel,
    ProtocolError,
    command_signed_bytes,
    dump_object,
    format_time,
    load_object,
    pack_envelope,
    parse_time,
    unpack_envelope,
)
from stadtkern.devices.lantern.keys import public_key_from_text, valid_kid
from stadtkern.devices.lantern.signals import SIGNALS
from stadtkern.devices.lantern.topics import valid_code, valid_tenant

Action = Literal["sound", "stop", "rotate_key"]
ACTIONS: tuple[Action, ...] = ("sound", "stop", "rotate_key")
ISSUED_SKEW = timedelta(seconds=30)
MAX_COUNTER = 2**53 - 1  # exact in every JSON parser, fits a uint64 on the device
MAX_REPEAT = 5
VOICE_LANGUAGES = ("de", "en")
_REQUIRED: tuple[str, ...] = ("id", "tenant", "lantern", "channel", "counter", "issued")
_REQUIRED += ("expires", "alert", "action", "signal", "repeat")
_ID = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _bad(detail: str) -> ProtocolError:
    return ProtocolError("malformed", detail)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_map(value: object, allowed: tuple[str, ...], name: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _bad(f"{name} must be null or an object of strings")
    return {k: v for k, v in value.items() if k in allowed}


@dataclass(frozen=True)
class Command:
    """One signed instruction to one lantern on one channel."""

    id: str
    tenant: str
    lantern: str
    channel: Channel
    counter: int
    issued: datetime
    expires: datetime
    alert: str
    action: Action
    signal: str
    voice: dict[str, str] | None
    audio: dict[str, str] | None
    repeat: int
    key: dict[str, str] | None
    retire: tuple[str, ...]

    def __post_init__(self) -> None:
        """Refuse a command that could not travel: every check raises ProtocolError."""
        if not isinstance(self.id, str) or not _ID.fullmatch(self.id):
            raise _bad("id must be 32 lower-case hex digits")
        if not valid_tenant(self.tenant) or not valid_code(self.lantern):
            raise _bad("invalid tenant or lantern")
        if self.channel not in CHANNELS or self.action not in ACTIONS:
            raise _bad("invalid channel or action")
        if not _is_int(self.counter) or not 1 <= self.counter <= MAX_COUNTER:
            raise _bad("counter must be an integer from 1 to 2^53-1")
        for moment in (self.issued, self.expires):
            if not isinstance(moment, datetime) or moment.utcoffset() is None:
                raise _bad("issued and expires must be aware datetimes")
        if self.expires <= self.issued:
            raise _bad("expires must be after issued")
        if not isinstance(self.alert, str) or not 1 <= len(self.alert) <= 512:
            raise _bad("alert must be a string of 1-512 characters")
        if self.signal not in SIGNALS:
            raise _bad(f"unknown signal {self.signal!r}")
        if not _is_int(self.repeat) or not 1 <= self.repeat <= MAX_REPEAT:
            raise _bad("repeat must be an integer from 1 to 5")
        _text_map(self.voice, VOICE_LANGUAGES, "voice")
        if self.voice is not None and set(self.voice) - set(VOICE_LANGUAGES):
            raise _bad("voice languages are 'de' and 'en'")
        self._check_audio()
        self._check_key()

    def _check_audio(self) -> None:
        if self.audio is None:
            return
        if set(self.audio) != {"url", "sha256"} or not isinstance(self.audio.get("url"), str):
            raise _bad("audio must be null or {url, sha256}")
        if not _SHA256.fullmatch(self.audio["sha256"]):
            raise _bad("audio.sha256 must be 64 lower-case hex digits")

    def _check_key(self) -> None:
        if not isinstance(self.retire, tuple) or not all(valid_kid(k) for k in self.retire):
            raise _bad("retire must be a list of key ids")
        if self.key is not None:
            if set(self.key) != {"kid", "publicKey"} or not valid_kid(self.key.get("kid")):
                raise _bad("key must be null or {kid, publicKey}")
            public_key_from_text(self.key["publicKey"])
        if self.action == "rotate_key" and self.key is None and not self.retire:
            raise _bad("rotate_key needs a key to add or kids to retire")

    def to_body(self) -> bytes:
        """The body bytes (compact UTF-8 JSON) that get signed."""
        return dump_object(
            {
                "id": self.id,
                "tenant": self.tenant,
                "lantern": self.lantern,
                "channel": self.channel,
                "counter": self.counter,
                "issued": format_time(self.issued),
                "expires": format_time(self.expires),
                "alert": self.alert,
                "action": self.action,
                "signal": self.signal,
                "voice": self.voice,
                "audio": self.audio,
                "repeat": self.repeat,
                "key": self.key,
                "retire": list(self.retire),
            }
        )

    @classmethod
    def from_body(cls, data: bytes) -> Command:
        """Parse and validate body bytes; unknown members are ignored; ProtocolError otherwise."""
        body = load_object(data)
        missing = [name for name in _REQUIRED if name not in body]
        if missing:
            raise _bad(f"missing {', '.join(missing)}")
        retire = body.get("retire", [])
        if not isinstance(retire, list):
            raise _bad("retire must be a list")
        for name in ("issued", "expires"):
            if not isinstance(body[name], str):
                raise _bad(f"{name} must be a string")
        try:
            return cls(
                id=body["id"],
                tenant=body["tenant"],
                lantern=body["lantern"],
                channel=body["channel"],
                counter=body["counter"],
                issued=parse_time(body["issued"]),
                expires=parse_time(body["expires"]),
                alert=body["alert"],
                action=body["action"],
                signal=body["signal"],
                voice=_text_map(body.get("voice"), VOICE_LANGUAGES, "voice"),
                audio=_text_map(body.get("audio"), ("url", "sha256"), "audio"),
                repeat=body["repeat"],
                key=_text_map(body.get("key"), ("kid", "publicKey"), "key"),
                retire=tuple(retire),
            )
        except TypeError as exc:  # an unhashable value where a set member was expected
            raise _bad(str(exc)) from exc


def sign_command(command: Command, *, kid: str, private_key: Ed25519PrivateKey) -> bytes:
    """The envelope bytes of a command signed with a channel key."""
    body = command.to_body()
    return pack_envelope(kid, body, private_key.sign(command_signed_bytes(command.channel, body)))


def open_command(
    envelope: bytes, *, channel: Channel, keys: Mapping[str, Ed25519PublicKey]
) -> Command:
    """Check an envelope received on a channel's topic; `keys` are that channel's keys only."""
    opened = unpack_envelope(envelope)
    public_key = keys.get(opened.kid)
    if public_key is None:
        raise ProtocolError("unknown_key", f"kid {opened.kid!r} is not a {channel} key")
    try:
        public_key.verify(opened.sig, command_signed_bytes(channel, opened.body))
    except InvalidSignature as exc:
        raise ProtocolError("bad_signature") from exc
    command = Command.from_body(opened.body)
    if command.channel != channel:
        raise ProtocolError("wrong_channel", f"{command.channel} command on the {channel} topic")
    return command


def check_fresh(command: Command, now: datetime) -> None:
    """Raise ProtocolError("expired") unless issued <= now + 30 s and now <= expires."""
    if command.issued > now + ISSUED_SKEW or now > command.expires:
        raise ProtocolError("expired", f"valid {command.issued} to {command.expires}")
