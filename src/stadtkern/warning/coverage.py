"""How far an alert got: targeted, acknowledged, failed and silent lanterns, and the
per-lantern report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stadtkern.geo import geometry_to_geojson
from stadtkern.warning.models import Alert, Delivery, Lantern
from stadtkern.warning.states import (
    FAILED,
    FINISHED,
    RECEIVED,
    REFUSED,
    SILENT,
    STARTED,
    TARGETED,
)


@dataclass(frozen=True)
class Coverage:
    """Counts of one alert's deliveries by what the lanterns answered."""

    targeted: int
    received: int
    started: int
    finished: int
    failed: int
    refused: int
    waiting: int  # no answer yet, not expired
    silent: int  # no answer until the command expired

    @property
    def acknowledged(self) -> int:
        """Lanterns that answered that they received, started or finished the signal."""
        return self.received + self.started + self.finished

    def as_json(self) -> dict[str, int | float]:
        """The counts for the API and the audit log."""
        return {
            "targeted": self.targeted,
            "acknowledged": self.acknowledged,
            "received": self.received,
            "started": self.started,
            "finished": self.finished,
            "failed": self.failed + self.refused,
            "refused": self.refused,
            "waiting": self.waiting,
            "silent": self.silent,
            "confirmedRatio": round(self.finished / self.targeted, 4) if self.targeted else 0.0,
        }


def coverage(session: Session, alert: Alert, now: datetime) -> Coverage:
    """The alert's delivery counts right now (one grouped query)."""
    counts = dict(
        session.execute(
            select(Delivery.state, func.count())
            .where(Delivery.alert_id == alert.id)
            .group_by(Delivery.state)
        ).all()
    )
    waiting = int(counts.get(TARGETED, 0))
    silent = int(counts.get(SILENT, 0))
    if waiting:
        late = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.alert_id == alert.id,
                Delivery.state == TARGETED,
                Delivery.expires_at <= now,
            )
        )
        waiting, silent = waiting - int(late or 0), silent + int(late or 0)
    return Coverage(
        targeted=sum(int(n) for n in counts.values()),
        received=int(counts.get(RECEIVED, 0)),
        started=int(counts.get(STARTED, 0)),
        finished=int(counts.get(FINISHED, 0)),
        failed=int(counts.get(FAILED, 0)),
        refused=int(counts.get(REFUSED, 0)),
        waiting=waiting,
        silent=silent,
    )


def lantern_report(
    session: Session, alert: Alert, now: datetime, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    """Per lantern: its answer, the times, the reason and where it stands (paged by code)."""
    query = (
        select(Delivery, Lantern)
        .join(Lantern, Lantern.id == Delivery.lantern_id)
        .where(Delivery.alert_id == alert.id)
        .order_by(Lantern.code)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Lantern.code > after)
    rows = []
    for delivery, lantern in session.execute(query).all():
        state = delivery.state
        if state == TARGETED and delivery.expires_at <= now:
            state = SILENT
        rows.append(
            {
                "lantern": lantern.code,
                "name": lantern.name,
                "district": lantern.district,
                "state": state,
                "reason": delivery.reason,
                "attempts": delivery.attempts,
                "receivedAt": _iso(delivery.received_at),
                "startedAt": _iso(delivery.started_at),
                "finishedAt": _iso(delivery.finished_at),
                "failedAt": _iso(delivery.failed_at),
                "geometry": geometry_to_geojson(lantern.geom),
            }
        )
    return rows


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
