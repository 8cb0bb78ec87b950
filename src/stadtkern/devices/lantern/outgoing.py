"""What the firmware hands to its runner: reports to publish, steps to come back to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

from stadtkern.devices.lantern.reports import Report


@dataclass(frozen=True)
class Publish:
    """A signed report to publish on `topic` (relative to the tenant) after `delay` seconds."""

    topic: str
    report: Report
    envelope: bytes
    delay: float


@dataclass(frozen=True)
class Step:
    """Come back at `at` to start or finish the signal of command `command`."""

    at: datetime
    kind: Literal["started", "finished"]
    command: str


Outgoing = Publish | Step


class Execution(NamedTuple):
    """A signal the lantern really started."""

    code: str
    alert: str
    action: str
    signal: str
    started_at: datetime
