"""The warning day: a scheduled test of every lantern of a tenant, and its report.

At the scheduled time an Exercise alert with the chosen signal goes to all of the tenant's
lanterns on the exercise channel (one person, like every exercise). The report lists every
lantern and whether it confirmed: it must report the signal finished. A lantern whose
microphone did not hear its own signal reports a failure (speaker_fault) instead.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import Tenant
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.core.tenants import to_ref
from stadtkern.db import Database
from stadtkern.errors import Conflict, Forbidden, InvalidInput, NotFound
from stadtkern.warning import ISSUER
from stadtkern.warning.alert_input import AlertInput
from stadtkern.warning.alerts import create
from stadtkern.warning.coverage import coverage, lantern_report
from stadtkern.warning.dispatch import WarningEnv
from stadtkern.warning.models import Alert, WarningDay
from stadtkern.warning.states import ACTIVE

log = logging.getLogger(__name__)
SCHEDULED, RUNNING, DONE, CANCELLED = "scheduled", "running", "done", "cancelled"
TARGET_RATIO = 0.99  # the share of lanterns that must confirm
HEADLINE = {
    "de": "Probealarm: Warntag. Es besteht keine Gefahr.",
    "en": "Test alarm: warning day. There is no danger.",
}


def schedule(
    session: Session,
    tenant: TenantRef,
    who: Identity,
    when: datetime,
    now: datetime,
    *,
    signal: str,
    note: str,
) -> WarningDay:
    """Plan a warning day (issuer role)."""
    if not who.has_role(ISSUER):
        raise Forbidden("planning a warning day needs the role 'warning_issuer'")
    if when < now - timedelta(minutes=1):
        raise InvalidInput("a warning day cannot be scheduled in the past")
    day = WarningDay(
        tenant_id=tenant.id,
        scheduled_for=when,
        state=SCHEDULED,
        signal=signal,
        created_by=who.actor,
        note=note,
    )
    session.add(day)
    session.flush()
    audit.record(
        session,
        actor=who.actor,
        action="warning.day.schedule",
        target=f"warning-day:{day.id}",
        tenant_slug=tenant.slug,
        payload={"scheduledFor": when.isoformat(), "signal": signal},
    )
    return day


def get_day(session: Session, tenant: TenantRef, day_id: int) -> WarningDay:
    """The tenant's warning day (404 otherwise)."""
    day = session.get(WarningDay, day_id)
    if day is None or day.tenant_id != tenant.id:
        raise NotFound(f"no warning day {day_id}")
    return day


def cancel_day(session: Session, tenant: TenantRef, day_id: int, who: Identity) -> WarningDay:
    """Call off a warning day that has not started."""
    day = get_day(session, tenant, day_id)
    if day.state != SCHEDULED:
        raise Conflict(f"warning day {day_id} is {day.state}")
    day.state = CANCELLED
    audit.record(
        session,
        actor=who.actor,
        action="warning.day.cancel",
        target=f"warning-day:{day.id}",
        tenant_slug=tenant.slug,
    )
    return day


def _start(session: Session, day: WarningDay, env: WarningEnv, now: datetime) -> None:
    tenant_row = session.get(Tenant, day.tenant_id)
    if tenant_row is None:
        return
    tenant = to_ref(tenant_row)
    system = Identity(
        actor=f"warning-day:{day.id}",
        principal_id=None,
        tenant_id=tenant.id,
        roles=frozenset({ISSUER}),
        via="system",
    )
    body = AlertInput.model_validate(
        {
            "status": "Exercise",
            "event": "Warntag",
            "severity": "Minor",
            "urgency": "Immediate",
            "certainty": "Observed",
            "headline": HEADLINE,
            "area": {"geocodes": [{"valueName": "ARS", "value": tenant_row.ars}]},
            "signal": day.signal,
            "repeat": 1,
            "expiresInMinutes": 30,
        }
    )
    alert, _new = create(session, tenant, body, system, env, now, source="warning_day")
    day.alert_id, day.state = alert.id, RUNNING


def start_due_days(database: Database, env: WarningEnv, now: datetime) -> None:
    """Start every warning day whose time has come (each in its own transaction), and
    close those whose alert has ended."""
    with database.write() as session:
        running = session.execute(
            select(WarningDay, Alert.state)
            .join(Alert, Alert.id == WarningDay.alert_id)
            .where(WarningDay.state == RUNNING)
        ).all()
        for day, alert_state in running:
            if alert_state != ACTIVE:
                day.state = DONE
    with database.read() as session:
        due = list(
            session.scalars(
                select(WarningDay.id).where(
                    WarningDay.state == SCHEDULED, WarningDay.scheduled_for <= now
                )
            )
        )
    for day_id in due:
        try:
            with database.write() as session:
                starting = session.get(WarningDay, day_id)
                if starting is not None and starting.state == SCHEDULED:
                    _start(session, starting, env, now)
        except Exception:
            log.exception("warning day %s could not start", day_id)
            with database.write() as session:
                failed = session.get(WarningDay, day_id)
                if failed is not None and failed.state == SCHEDULED:
                    failed.state = DONE
                    failed.note = (failed.note + " [could not start; see the log]").strip()


def report(session: Session, tenant: TenantRef, day_id: int, now: datetime) -> dict[str, Any]:
    """The warning day's result: the figures and every lantern's answer."""
    day = get_day(session, tenant, day_id)
    result: dict[str, Any] = {
        "id": day.id,
        "state": day.state,
        "scheduledFor": day.scheduled_for.isoformat(),
        "signal": day.signal,
        "note": day.note,
        "targetRatio": TARGET_RATIO,
    }
    alert = session.get(Alert, day.alert_id) if day.alert_id is not None else None
    if alert is None:
        return result | {"alert": None, "figures": None, "lanterns": []}
    figures = coverage(session, alert, now).as_json()
    result |= {
        "alert": alert.identifier,
        "figures": figures,
        "targetMet": figures["confirmedRatio"] >= TARGET_RATIO,
        "lanterns": lantern_report(session, alert, now, limit=1_000_000, after=None),
    }
    return result
