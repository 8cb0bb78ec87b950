"""Reports from a lantern to the platform: acknowledgements and heartbeats, device-signed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stadtkern.devices.lantern.envelope import (
    CHANNELS,
    Channel,
    ProtocolError,
    dump_object,
    format_time,
    load_object,
    pack_envelope,
    parse_time,
    report_signed_bytes,
    unpack_envelope,
)
from stadtkern.devices.lantern.topics import valid_code

AckState = Literal["received", "started", "finished", "failed", "rejected"]
ACK_STATES: tuple[AckState, ...] = ("received", "started", "finished", "failed", "rejected")
MAX_SEQ = 2**53 - 1


def _bad(detail: str) -> ProtocolError:
    return ProtocolError("malformed", detail)


def _int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(value: object, kind: type) -> bool:
    # bool is an int in Python, but true is not a counter on the wire.
    return value is None or (isinstance(value, kind) and (kind is bool or type(value) is not bool))


@dataclass(frozen=True)
class Ack:
    """What happened to one command (or to an unreadable message: command is None)."""

    lantern: str
    seq: int
    at: datetime
    command: str | None
    alert: str | None
    counter: int | None
    channel: Channel
    state: AckState
    reason: str | None


@dataclass(frozen=True)
class Health:
    """A heartbeat: power, tamper, speaker, counters and keys, and when the next one comes."""

    lantern: str
    seq: int
    at: datetime
    battery: float | None
    mains: bool
    tamper: bool
    speaker: Literal["ok", "fault"]
    heard: bool | None
    firmware: str
    counters: dict[str, int]
    keys: dict[str, tuple[str, ...]]
    interval: int


Report = Ack | Health


def report_body(report: Report) -> bytes:
    """The body bytes of a report (compact UTF-8 JSON)."""
    members: dict[str, Any] = {"lantern": report.lantern, "seq": report.seq}
    members["at"] = format_time(report.at)
    if isinstance(report, Ack):
        members["type"] = "ack"
        members.update(command=report.command, alert=report.alert, counter=report.counter)
        members.update(channel=report.channel, state=report.state, reason=report.reason)
    else:
        members["type"] = "health"
        members.update(battery=report.battery, mains=report.mains, tamper=report.tamper)
        members.update(speaker=report.speaker, heard=report.heard, firmware=report.firmware)
        members["counters"] = dict(report.counters)
        members["keys"] = {channel: list(kids) for channel, kids in report.keys.items()}
        members["interval"] = report.interval
    return dump_object(members)


def _ack(body: dict[str, Any], lantern: str, seq: int, at: datetime) -> Ack:
    command, alert, counter = body.get("command"), body.get("alert"), body.get("counter")
    channel, state, reason = body.get("channel"), body.get("state"), body.get("reason")
    if not (_optional(command, str) and _optional(alert, str) and _optional(counter, int)):
        raise _bad("command, alert and counter are strings/integer or null")
    if channel not in CHANNELS or state not in ACK_STATES or not _optional(reason, str):
        raise _bad("invalid channel, state or reason")
    return Ack(lantern, seq, at, command, alert, counter, channel, state, reason)


def _channel_map(value: object, check: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != set(CHANNELS):
        raise _bad(f"{name} must have the members live and exercise")
    if not all(check(item) for item in value.values()):
        raise _bad(f"invalid {name}")
    return value


def _health(body: dict[str, Any], lantern: str, seq: int, at: datetime) -> Health:
    battery = body.get("battery")
    if battery is not None and not (_int(battery) or isinstance(battery, float)):
        raise _bad("battery must be a number or null")
    if battery is not None and not 0 <= battery <= 100:
        raise _bad("battery is 0..100")
    mains, tamper, heard = body.get("mains"), body.get("tamper"), body.get("heard")
    if not isinstance(mains, bool) or not isinstance(tamper, bool) or not _optional(heard, bool):
        raise _bad("mains, tamper must be booleans, heard boolean or null")
    speaker, firmware, interval = body.get("speaker"), body.get("firmware"), body.get("interval")
    if speaker not in ("ok", "fault") or not isinstance(firmware, str):
        raise _bad("invalid speaker or firmware")
    if not _int(interval) or interval < 1:
        raise _bad("interval must be a positive integer")
    counters = _channel_map(body.get("counters"), lambda c: _int(c) and c >= 0, "counters")
    keys = _channel_map(
        body.get("keys"),
        lambda kids: isinstance(kids, list) and all(isinstance(k, str) for k in kids),
        "keys",
    )
    return Health(
        lantern=lantern,
        seq=seq,
        at=at,
        battery=None if battery is None else float(battery),
        mains=mains,
        tamper=tamper,
        speaker=speaker,
        heard=heard,
        firmware=firmware,
        counters=dict(counters),
        keys={channel: tuple(kids) for channel, kids in keys.items()},
        interval=interval,
    )


def report_from_body(data: bytes) -> Report:
    """Parse and validate report body bytes; ProtocolError("malformed") otherwise."""
    body = load_object(data)
    lantern, seq, at = body.get("lantern"), body.get("seq"), body.get("at")
    if not valid_code(lantern) or not _int(seq) or not 1 <= seq <= MAX_SEQ:
        raise _bad("invalid lantern or seq")
    if not isinstance(at, str):
        raise _bad("at must be a string")
    kind = body.get("type")
    if kind == "ack":
        return _ack(body, lantern, seq, parse_time(at))
    if kind == "health":
        return _health(body, lantern, seq, parse_time(at))
    raise _bad("type must be 'ack' or 'health'")


def sign_report(report: Report, *, private_key: Ed25519PrivateKey, kid: str = "device") -> bytes:
    """The envelope bytes of a report signed with the device key."""
    body = report_body(report)
    return pack_envelope(kid, body, private_key.sign(report_signed_bytes(body)))


def open_report(envelope: bytes, *, public_key: Ed25519PublicKey) -> Report:
    """Verify a report with the lantern's public key, then parse it; ProtocolError otherwise."""
    opened = unpack_envelope(envelope)
    try:
        public_key.verify(opened.sig, report_signed_bytes(opened.body))
    except InvalidSignature as exc:
        raise ProtocolError("bad_signature") from exc
    return report_from_body(opened.body)
