"""Whether the lanterns would sound now: one status per lantern, counts per zone and town.

A lantern's status comes from its last heartbeat and health report, checked in this order
(the first that applies wins):

- `never_seen`: no heartbeat yet;
- `offline`: `offline_after_missed` heartbeat intervals passed without one (what it last
  reported may no longer be true, so nothing else is judged);
- `tamper`: its housing was opened;
- `fault`: the speaker self-test failed, or the microphone did not hear its last signal;
- `low_battery`: off mains with a battery below `min_battery_percent`;
- `ready`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db import spatial
from stadtkern.warning.models import Lantern, Zone
from stadtkern.warning.settings import WarningSettings

Status = Literal["ready", "offline", "fault", "low_battery", "tamper", "never_seen"]
STATUSES: tuple[Status, ...] = get_args(Status)
# Statuses that mean the platform cannot reach the lantern, and those of a reachable one
# that would not warn properly.
UNREACHABLE: frozenset[Status] = frozenset({"offline", "never_seen"})
FAULTY: frozenset[Status] = frozenset({"fault", "tamper", "low_battery"})


def lantern_status(lantern: Lantern, now: datetime, settings: WarningSettings) -> Status:
    """The lantern's status at `now` (timezone-aware), by the rules in the module docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if lantern.last_heartbeat is None:
        return "never_seen"
    silence = timedelta(seconds=lantern.heartbeat_s * settings.offline_after_missed)
    if now - lantern.last_heartbeat > silence:
        return "offline"
    if lantern.tamper:
        return "tamper"
    if lantern.speaker_ok is False or lantern.heard is False:
        return "fault"
    if (
        lantern.mains is False
        and lantern.battery is not None
        and lantern.battery < settings.min_battery_percent
    ):
        return "low_battery"
    return "ready"


def summary(statuses: list[Status]) -> dict[str, Any]:
    """Counts of a group of lanterns: ready, unreachable, faulty, each status, and the ratio."""
    counts = Counter(statuses)
    total = len(statuses)
    return {
        "lanterns": total,
        "ready": counts["ready"],
        "offline": sum(counts[s] for s in UNREACHABLE),
        "faults": sum(counts[s] for s in FAULTY),
        "statuses": {status: counts[status] for status in STATUSES},
        "readiness": round(counts["ready"] / total, 4) if total else None,
    }


def zone_readiness(
    session: Session, tenant: TenantRef, now: datetime, settings: WarningSettings
) -> list[dict[str, Any]]:
    """Per zone, by key: how many of its lanterns are ready, unreachable or faulty.

    A lantern on a zone's border counts for the zone, as it is warned with it.
    """
    return _zones(session, tenant, _statuses(session, tenant, now, settings))


def readiness_report(
    session: Session, tenant: TenantRef, now: datetime, settings: WarningSettings
) -> dict[str, Any]:
    """The town's readiness at `now`: totals over every lantern, and per zone."""
    statuses = _statuses(session, tenant, now, settings)
    return {
        "at": now,
        "total": summary(list(statuses.values())),
        "zones": _zones(session, tenant, statuses),
    }


def _statuses(
    session: Session, tenant: TenantRef, now: datetime, settings: WarningSettings
) -> dict[int, Status]:
    lanterns = session.scalars(select(Lantern).where(Lantern.tenant_id == tenant.id))
    return {lantern.id: lantern_status(lantern, now, settings) for lantern in lanterns}


def _zones(
    session: Session, tenant: TenantRef, statuses: dict[int, Status]
) -> list[dict[str, Any]]:
    zones = session.scalars(select(Zone).where(Zone.tenant_id == tenant.id).order_by(Zone.key))
    report = []
    for zone in zones.all():
        inside = session.scalars(
            select(Lantern.id).where(
                Lantern.tenant_id == tenant.id, spatial.intersects(Lantern.geom, zone.geom)
            )
        )
        in_zone = [statuses[lantern_id] for lantern_id in inside if lantern_id in statuses]
        report.append({"zone": zone.key, "name": zone.name, **summary(in_zone)})
    return report
