"""Wire protocol v1 between the platform and warning lanterns: one import for both sides.

The parts live in `envelope` (framing, time, errors), `keys`, `topics`, `commands` and
`reports`; docs/lantern-protocol.md is the specification for device makers.
"""

from __future__ import annotations

from stadtkern.devices.lantern.commands import (
    ACTIONS,
    ISSUED_SKEW,
    Action,
    Command,
    check_fresh,
    open_command,
    sign_command,
)
from stadtkern.devices.lantern.envelope import (
    CHANNELS,
    MAX_ENVELOPE_BYTES,
    PROTOCOL_VERSION,
    REASONS,
    Channel,
    ProtocolError,
    command_signed_bytes,
    format_time,
    pack_envelope,
    parse_time,
    report_signed_bytes,
    unpack_envelope,
)
from stadtkern.devices.lantern.keys import (
    device_key_from_seed,
    private_key_from_text,
    private_key_text,
    public_key_from_text,
    public_key_text,
    valid_kid,
)
from stadtkern.devices.lantern.reports import (
    ACK_STATES,
    Ack,
    AckState,
    Health,
    Report,
    open_report,
    report_body,
    sign_report,
)
from stadtkern.devices.lantern.topics import (
    ack_topic,
    command_topic,
    health_topic,
    parse_topic,
    valid_code,
    valid_tenant,
)

__all__ = [
    "ACK_STATES",
    "ACTIONS",
    "CHANNELS",
    "ISSUED_SKEW",
    "MAX_ENVELOPE_BYTES",
    "PROTOCOL_VERSION",
    "REASONS",
    "Ack",
    "AckState",
    "Action",
    "Channel",
    "Command",
    "Health",
    "ProtocolError",
    "Report",
    "ack_topic",
    "check_fresh",
    "command_signed_bytes",
    "command_topic",
    "device_key_from_seed",
    "format_time",
    "health_topic",
    "open_command",
    "open_report",
    "pack_envelope",
    "parse_time",
    "parse_topic",
    "private_key_from_text",
    "private_key_text",
    "public_key_from_text",
    "public_key_text",
    "report_body",
    "report_signed_bytes",
    "sign_command",
    "sign_report",
    "unpack_envelope",
    "valid_code",
    "valid_kid",
    "valid_tenant",
]
