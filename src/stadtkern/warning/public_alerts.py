"""The alerts the public sees: sent real alerts (and, on request, exercises), current or
of the last days. The feeds and the citizen portal read them from here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stadtkern.warning.cap import CapAlert
from stadtkern.warning.cap_bridge import cap_alert
from stadtkern.warning.models import Alert
from stadtkern.warning.states import ACTIVE

FEED_DAYS = 7  # ended alerts stay in the feed this long
FEED_LIMIT = 200
PUBLIC_STATUSES = ("Actual", "Exercise")


def published_alerts(
    session: Session, tenant_id: int, now: datetime, *, exercises: bool
) -> list[CapAlert]:
    """The town's sent alerts still active or sent in the last FEED_DAYS, newest first."""
    statuses = PUBLIC_STATUSES if exercises else ("Actual",)
    query = (
        select(Alert)
        .where(
            Alert.tenant_id == tenant_id,
            Alert.status.in_(statuses),
            Alert.sent_at.is_not(None),
            or_(Alert.state == ACTIVE, Alert.sent_at >= now - timedelta(days=FEED_DAYS)),
        )
        .order_by(Alert.sent_at.desc(), Alert.id.desc())
        .limit(FEED_LIMIT)
    )
    # sent_at is set on every row the query returns
    return [cap_alert(alert, alert.sent_at or now) for alert in session.scalars(query)]


def published_cap(session: Session, tenant_id: int, identifier: str) -> bytes | None:
    """The CAP XML exactly as sent of a real alert or exercise of the town (None: none)."""
    alert = session.scalar(
        select(Alert).where(
            Alert.tenant_id == tenant_id,
            Alert.identifier == identifier,
            Alert.status.in_(PUBLIC_STATUSES),
        )
    )
    return None if alert is None else alert.cap_xml
