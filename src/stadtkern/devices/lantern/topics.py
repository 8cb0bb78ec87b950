"""MQTT topics of a lantern, relative to the tenant prefix `{slug}/`."""

from __future__ import annotations

import re
from typing import TypeGuard

from stadtkern.devices.lantern.envelope import CHANNELS, Channel, ProtocolError

CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
TENANT = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_ROOT = "warning/lanterns"


def valid_code(code: object) -> TypeGuard[str]:
    """Whether a lantern code is 1-64 letters, digits, '_' or '-'."""
    return isinstance(code, str) and CODE.fullmatch(code) is not None


def valid_tenant(tenant: object) -> TypeGuard[str]:
    """Whether a tenant slug can stand in a topic and a command (lower-case, digits, '-')."""
    return isinstance(tenant, str) and TENANT.fullmatch(tenant) is not None


def _checked(code: str) -> str:
    if not valid_code(code):
        raise ProtocolError("malformed", f"invalid lantern code {code!r}")
    return code


def command_topic(code: str, channel: Channel) -> str:
    """Where the platform sends a lantern's commands of one channel."""
    if channel not in CHANNELS:
        raise ProtocolError("malformed", f"invalid channel {channel!r}")
    return f"{_ROOT}/{_checked(code)}/cmd/{channel}"


def ack_topic(code: str) -> str:
    """Where a lantern publishes its acknowledgements."""
    return f"{_ROOT}/{_checked(code)}/ack"


def health_topic(code: str) -> str:
    """Where a lantern publishes its heartbeats."""
    return f"{_ROOT}/{_checked(code)}/health"


def parse_topic(topic: str) -> tuple[str, str, Channel | None]:
    """(code, kind, channel) of a relative lantern topic; kind is 'cmd', 'ack' or 'health'."""
    parts = topic.split("/") if isinstance(topic, str) else []
    if len(parts) < 4 or "/".join(parts[:2]) != _ROOT or not valid_code(parts[2]):
        raise ProtocolError("malformed", f"not a lantern topic: {topic!r}")
    code, rest = parts[2], parts[3:]
    if rest in (["ack"], ["health"]):
        return code, rest[0], None
    if len(rest) == 2 and rest[0] == "cmd" and rest[1] in CHANNELS:
        return code, "cmd", rest[1]
    raise ProtocolError("malformed", f"not a lantern topic: {topic!r}")
