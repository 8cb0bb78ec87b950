"""Key rotation on a lantern: which keys a channel has after a verified rotate_key command."""

from __future__ import annotations

from collections.abc import Mapping

from stadtkern.devices.lantern.commands import Command
from stadtkern.devices.lantern.envelope import CHANNELS, Channel
from stadtkern.devices.lantern.state import MAX_KEYS_PER_CHANNEL


def rotated_keys(
    keys: Mapping[Channel, Mapping[str, str]], command: Command
) -> tuple[dict[str, str] | None, str | None]:
    """The channel's new {kid: key text}, or None and the reason the rotation is refused.

    The command was verified with a key of its own channel, so a channel can only ever change
    its own keys, and never to a key the other channel uses: the two must stay apart.
    """
    channel = command.channel
    new = dict(keys[channel])
    if command.key is not None:
        kid, text = command.key["kid"], command.key["publicKey"]
        other = next(c for c in CHANNELS if c != channel)
        if text in keys[other].values() or kid in keys[other]:
            return None, "key_of_other_channel"
        if new.get(kid, text) != text:
            return None, "kid_in_use"
        new[kid] = text
    for kid in command.retire:
        new.pop(kid, None)
    if not new:
        return None, "no_key_left"
    if len(new) > MAX_KEYS_PER_CHANNEL:
        return None, "too_many_keys"
    return new, None
