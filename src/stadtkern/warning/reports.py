"""What lanterns report: acknowledgements of commands and heartbeats with their health.

Reports arrive over MQTT and are written in batches, one transaction each; the MQTT
acknowledgement of a report follows the commit, so an acknowledged report is never lost.
Ten thousand lanterns answering one alert make a few transactions, not thirty thousand.

A report counts only with a valid signature of the lantern's own device key: anyone who can
publish on the broker can not fake "signal started". Answers only move a delivery forward, so
a duplicate or an old report changes nothing; a heartbeat older than the last one is ignored.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import TenantRef
from stadtkern.devices.lantern.protocol import (
    Ack,
    Health,
    ProtocolError,
    open_report,
    parse_topic,
    public_key_from_text,
)
from stadtkern.warning.models import Delivery, Lantern
from stadtkern.warning.states import (
    FAILED,
    FINISHED,
    PROGRESS,
    RECEIVED,
    REFUSED,
    STARTED,
    TERMINAL,
)

log = logging.getLogger(__name__)
# observations(session, [(tenant, datastream id, result, phenomenon time)], now)
StatusSink = Callable[[Session, list[tuple[TenantRef, int, object, datetime]], datetime], None]
# Which timestamp column an answer sets.
STAMPS = {
    RECEIVED: "received_at",
    STARTED: "started_at",
    FINISHED: "finished_at",
    FAILED: "failed_at",
}


@dataclass(frozen=True, slots=True)
class Arrived:
    """One report as it came off the broker."""

    tenant: TenantRef
    topic: str  # relative to the tenant: warning/lanterns/{code}/ack|health
    payload: bytes


@dataclass
class Tally:
    """What a batch did (for metrics and tests)."""

    acks: int = 0
    heartbeats: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class Opened:
    """A report whose signature checked out, and whose lantern it is."""

    tenant: TenantRef
    lantern_id: int
    report: Ack | Health


@functools.lru_cache(maxsize=65_536)
def _device_key(text: str) -> Ed25519PublicKey:
    return public_key_from_text(text)


def open_reports(session: Session, reports: Sequence[Arrived]) -> tuple[list[Opened], int]:
    """Check every report's signature with its lantern's device key (a read session is
    enough: the checks run before the write transaction). Returns the good ones and how many
    were dropped."""
    keys = _device_keys(session, reports)
    opened: list[Opened] = []
    dropped = 0
    for arrived in reports:
        try:
            code, kind, _channel = parse_topic(arrived.topic)
        except ProtocolError:
            dropped += 1
            continue
        found = keys.get((arrived.tenant.id, code))
        if found is None or kind == "cmd":
            dropped += 1
            continue
        lantern_id, key_text = found
        try:
            report = open_report(arrived.payload, public_key=_device_key(key_text))
        except ProtocolError as error:
            log.warning("dropped a report of lantern %s: %s", code, error.reason)
            dropped += 1
            continue
        if report.lantern != code or (kind == "ack") != isinstance(report, Ack):
            dropped += 1
            continue
        opened.append(Opened(arrived.tenant, lantern_id, report))
    return opened, dropped


def apply_reports(
    session: Session,
    opened: Sequence[Opened],
    now: datetime,
    observations: StatusSink | None = None,
) -> Tally:
    """Apply checked reports in the caller's transaction; heartbeats also become
    Observations of the lanterns' status Datastreams through `observations`."""
    tally = Tally()
    ids = sorted({item.lantern_id for item in opened})
    lanterns = (
        {
            lantern.id: lantern
            for lantern in session.scalars(select(Lantern).where(Lantern.id.in_(ids)))
        }
        if ids
        else {}
    )
    present = [item for item in opened if item.lantern_id in lanterns]  # not deleted meanwhile
    acks = [
        (item.tenant, lanterns[item.lantern_id], item.report)
        for item in present
        if isinstance(item.report, Ack)
    ]
    tally.acks = _apply_acks(session, acks, now)
    status: list[tuple[TenantRef, int, object, datetime]] = []
    for item in present:
        report, lantern = item.report, lanterns[item.lantern_id]
        if isinstance(report, Health) and _apply_health(session, item.tenant, lantern, report, now):
            tally.heartbeats += 1
            status += [
                (item.tenant, stream, value, report.at)
                for stream, value in _status(lantern, report)
            ]
    if observations is not None and status:
        observations(session, status, now)
    tally.dropped = len(opened) - len(present)
    return tally


def _status(lantern: Lantern, report: Health) -> list[tuple[int, object]]:
    """(Datastream id, result) of a heartbeat for the lantern's status Datastreams."""
    values: dict[str, object] = {
        "battery": report.battery,
        "mains": report.mains,
        "selftest": report.speaker == "ok" and report.heard is not False,
    }
    streams = lantern.streams or {}
    return [
        (streams[name], value)
        for name, value in values.items()
        if value is not None and name in streams
    ]


def _device_keys(
    session: Session, reports: Sequence[Arrived]
) -> dict[tuple[int, str], tuple[int, str]]:
    """(tenant id, code) -> (lantern id, device key text) of the lanterns reporting."""
    wanted: set[tuple[int, str]] = set()
    for arrived in reports:
        parts = arrived.topic.split("/")
        if len(parts) == 4:
            wanted.add((arrived.tenant.id, parts[2]))
    if not wanted:
        return {}
    found = session.execute(
        select(Lantern.tenant_id, Lantern.code, Lantern.id, Lantern.device_key).where(
            tuple_(Lantern.tenant_id, Lantern.code).in_(sorted(wanted))
        )
    )
    return {(tenant_id, code): (id_, key) for tenant_id, code, id_, key in found}


def _apply_acks(session: Session, acks: list[tuple[TenantRef, Lantern, Ack]], now: datetime) -> int:
    commands = {ack.command for _t, _l, ack in acks if ack.command}
    deliveries: dict[tuple[int, str], Delivery] = {}
    if commands:
        for delivery in session.scalars(
            select(Delivery).where(Delivery.command_id.in_(sorted(commands)))
        ):
            deliveries[(delivery.lantern_id, delivery.command_id)] = delivery
    applied = 0
    refused: dict[tuple[TenantRef, str], list[str]] = defaultdict(list)
    for tenant, lantern, ack in acks:
        if ack.state == REFUSED:
            refused[(tenant, lantern.code)].append(ack.reason or "unknown")
        found = deliveries.get((lantern.id, ack.command or ""))
        if found is None:
            continue
        delivery = found
        at = min(ack.at, now)
        column = STAMPS.get(ack.state)
        if column is not None and getattr(delivery, column) is None:
            setattr(delivery, column, at)
        if PROGRESS[ack.state] > PROGRESS[delivery.state]:
            delivery.state = ack.state
            delivery.reason = ack.reason
            if ack.state in TERMINAL:
                # Until the end is reported, resends go on: a lantern answers a resent
                # command with its last report, so a lost "finished" is asked for again.
                delivery.next_attempt_at = None
        applied += 1
    for (tenant, code), reasons in refused.items():
        # A lantern refused a command: a forged, replayed or stale command reached it.
        audit.record(
            session,
            actor=f"lantern:{code}",
            action="warning.lantern.refused",
            target=f"lantern:{code}",
            tenant_slug=tenant.slug,
            payload={"reasons": sorted(set(reasons))},
        )
    return applied


def _apply_health(
    session: Session, tenant: TenantRef, lantern: Lantern, report: Health, now: datetime
) -> bool:
    if report.seq <= lantern.report_seq:
        return False  # older than what we have: a replay or a late duplicate
    was_tampered = lantern.tamper
    lantern.report_seq = report.seq
    lantern.last_heartbeat = min(report.at, now)
    lantern.heartbeat_s = report.interval
    lantern.battery = report.battery
    lantern.mains = report.mains
    lantern.tamper = report.tamper
    lantern.speaker_ok = report.speaker == "ok"
    lantern.heard = report.heard
    lantern.firmware = report.firmware
    lantern.keys = {channel: list(kids) for channel, kids in report.keys.items()}
    if report.tamper and not was_tampered:
        audit.record(
            session,
            actor=f"lantern:{lantern.code}",
            action="warning.lantern.tamper",
            target=f"lantern:{lantern.code}",
            tenant_slug=tenant.slug,
            payload={"at": report.at.isoformat()},
        )
    return True
