"""The signed envelope both directions share, and the strict codecs it is built from.

An envelope is a UTF-8 JSON object {"v", "kid", "body", "sig"}. The signature covers
domain-separated raw body bytes, so a device verifies before it parses and never needs to
canonicalise JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

PROTOCOL_VERSION = 1
Channel = Literal["live", "exercise"]
CHANNELS: tuple[Channel, Channel] = ("live", "exercise")
# Larger envelopes are refused as malformed; the platform must stay below this.
MAX_ENVELOPE_BYTES = 32_768
COMMAND_DOMAIN = b"stadtkern-lantern-command-v1\x00"
REPORT_DOMAIN = b"stadtkern-lantern-report-v1\x00"
REASONS = (
    "malformed",
    "unsupported_version",
    "unknown_key",
    "bad_signature",
    "wrong_channel",
    "not_for_me",
    "expired",
    "replayed",
    "busy_live",
)

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


class ProtocolError(ValueError):
    """A message the protocol refuses; `reason` is the code reported back on the wire."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def b64url_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; ProtocolError("malformed") otherwise."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ProtocolError("malformed", "not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the pattern excludes it
        raise ProtocolError("malformed", "not base64url") from exc
    if b64url_encode(data) != text:
        # Two texts for the same bytes (stray low bits) would let copies differ unnoticed.
        raise ProtocolError("malformed", "non-canonical base64url")
    return data


def format_time(dt: datetime) -> str:
    """RFC 3339 in UTC with 'Z'; a fraction only when there are microseconds."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("a wire time must be timezone-aware")
    utc = dt.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_time(text: str) -> datetime:
    """An aware UTC datetime from RFC 3339 ('Z' or a numeric offset; fraction cut to µs)."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ProtocolError("malformed", f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(6, "0")[:6]
    try:
        moment = datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=UTC)
    except ValueError as exc:
        raise ProtocolError("malformed", f"not a valid time: {text!r}") from exc
    if match.group(9):
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        moment -= offset if match.group(9) == "+" else -offset
    return moment


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            # Parsers disagree on which duplicate wins; a signed message must mean one thing.
            raise ProtocolError("malformed", f"duplicate member {name!r}")
        members[name] = value
    return members


def _no_constants(name: str) -> Any:
    raise ProtocolError("malformed", f"{name} is not JSON")


def load_object(data: bytes) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, refusing duplicates, NaN/Infinity and other types."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise ProtocolError("malformed", "too large")
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_unique_members,
            parse_constant=_no_constants,
        )
    except ProtocolError:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError also covers integers beyond Python's digit limit, not only bad JSON.
        raise ProtocolError("malformed", "not UTF-8 JSON") from exc
    if not isinstance(value, dict):
        raise ProtocolError("malformed", "not a JSON object")
    return value


def dump_object(members: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(members, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class Envelope:
    """A parsed envelope: the key id, the raw body bytes and the 64-byte signature."""

    kid: str
    body: bytes
    sig: bytes


def pack_envelope(kid: str, body: bytes, sig: bytes) -> bytes:
    """The envelope bytes for a body and its signature."""
    members = {"v": PROTOCOL_VERSION, "kid": kid, "body": b64url_encode(body)}
    members["sig"] = b64url_encode(sig)
    return dump_object(members)


def unpack_envelope(data: bytes) -> Envelope:
    """Parse an envelope: [malformed] first, then the version [unsupported_version]."""
    members = load_object(data)
    version = members.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ProtocolError("malformed", "v is not an integer")
    if version != PROTOCOL_VERSION:
        raise ProtocolError("unsupported_version", f"v={version}")
    kid, body, sig = members.get("kid"), members.get("body"), members.get("sig")
    if not isinstance(kid, str) or not isinstance(body, str) or not isinstance(sig, str):
        raise ProtocolError("malformed", "kid, body and sig must be strings")
    signature = b64url_decode(sig)
    if len(signature) != 64:
        raise ProtocolError("malformed", "sig is not 64 bytes")
    return Envelope(kid=kid, body=b64url_decode(body), sig=signature)


def command_signed_bytes(channel: str, body: bytes) -> bytes:
    """The exact bytes a command signature covers: domain, channel, body."""
    return COMMAND_DOMAIN + channel.encode("ascii") + b"\x00" + body


def report_signed_bytes(body: bytes) -> bytes:
    """The exact bytes a report signature covers: domain, body."""
    return REPORT_DOMAIN + body
