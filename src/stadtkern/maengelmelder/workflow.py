"""What staff do with a report: change its status with public or internal notes, assign it,
merge duplicates, reopen it; and what citizens add: their support ("me too").

Every step is one `mm_update` row, so a report's history is complete; public steps are what
`servicerequestupdates` shows and what the reporter is e-mailed about.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import TenantRef
from stadtkern.db.base import utcnow
from stadtkern.errors import Conflict, InvalidInput, NotFound
from stadtkern.maengelmelder.mail import enqueue_notice
from stadtkern.maengelmelder.models import Category, Report, Reporter, Supporter, Update
from stadtkern.maengelmelder.reports import STATUS_OF
from stadtkern.maengelmelder.schemas import StatusChange
from stadtkern.maengelmelder.text import plain_text


def _report(session: Session, tenant: TenantRef, report_id: int) -> Report:
    report = session.scalar(
        select(Report)
        .where(Report.tenant_id == tenant.id, Report.id == report_id)
        .with_for_update()
    )
    if report is None:
        raise NotFound(f"no service request '{report_id}'")
    return report


def _record(
    session: Session, report: Report, *, kind: str, note: str, public: bool, author: str
) -> Update:
    update = Update(
        tenant_id=report.tenant_id,
        report_id=report.id,
        kind=kind,
        status=report.status,
        detailed_status=report.detailed_status,
        note=note,
        public=public,
        author=author,
        created_at=report.updated_at,
    )
    session.add(update)
    session.flush()
    return update


def _set_status(report: Report, detailed: str, now: datetime) -> None:
    report.detailed_status = detailed
    report.status = STATUS_OF[detailed]
    report.closed_at = now if report.status == "closed" else None
    if report.responded_at is None and detailed != "received":
        report.responded_at = now


def _notify(session: Session, tenant: TenantRef, report: Report, note: str) -> None:
    reporter = session.get(Reporter, report.id)
    if reporter is None or not reporter.email:
        return
    category = session.get(Category, report.category_id)
    enqueue_notice(
        session=session,
        tenant=tenant,
        report=report,
        category=category.name if category else "",
        recipient=reporter.email,
        note=note,
    )


def change_status(
    *,
    session: Session,
    tenant: TenantRef,
    report_id: int,
    change: StatusChange,
    actor: str,
    now: datetime | None = None,
) -> Update:
    """A new detailed status and/or a note; the reporter hears of public status changes."""
    report = _report(session, tenant, report_id)
    if report.merged_into_id is not None and change.detailed_status is not None:
        raise Conflict("this report was merged into another; change that one instead")
    note = plain_text(change.note, field="note", limit=4000, multiline=True)
    if change.detailed_status is None and not note and change.service_notice is None:
        raise InvalidInput("give a detailed_status, a note or a service_notice")
    moment = now or utcnow()
    status_changed = (
        change.detailed_status is not None and change.detailed_status != report.detailed_status
    )
    if change.detailed_status is not None:
        _set_status(report, change.detailed_status, moment)
    if change.service_notice is not None:
        report.service_notice = plain_text(
            change.service_notice, field="service_notice", limit=2000, multiline=True
        )
    if change.public and note:
        report.status_notes = note
    report.updated_at = moment
    update = _record(
        session,
        report,
        kind="status" if status_changed else "note",
        note=note,
        public=change.public,
        author=actor,
    )
    if status_changed and change.public:
        _notify(session, tenant, report, note)
    return update


def assign(
    *, session: Session, tenant: TenantRef, report_id: int, assignee: str, actor: str
) -> Update:
    """Give a report to a person (empty: to nobody); an internal step."""
    report = _report(session, tenant, report_id)
    report.assignee = plain_text(assignee, field="assignee", limit=255)
    report.updated_at = utcnow()
    return _record(session, report, kind="assign", note=report.assignee, public=False, author=actor)


def merge(*, session: Session, tenant: TenantRef, report_id: int, into: int, actor: str) -> Update:
    """Close a duplicate: it points to the report that stays, which gains its supporters
    (audited: a merge hides a citizen's report behind another)."""
    if report_id == into:
        raise InvalidInput("a report cannot be merged into itself")
    duplicate = _report(session, tenant, report_id)
    keeper = _report(session, tenant, into)
    if keeper.merged_into_id is not None:
        raise Conflict(f"report {into} is itself merged; merge into {keeper.merged_into_id}")
    if duplicate.merged_into_id is not None:
        raise Conflict(f"report {report_id} is merged already")
    moment = utcnow()
    duplicate.merged_into_id = keeper.id
    _set_status(duplicate, "processed", moment)
    duplicate.status_notes = f"Duplicate of {keeper.id}"
    duplicate.updated_at = moment
    keeper.supporters += duplicate.supporters + 1
    keeper.updated_at = moment
    update = _record(
        session, duplicate, kind="merge", note=duplicate.status_notes, public=True, author=actor
    )
    _notify(session, tenant, duplicate, duplicate.status_notes)
    audit.record(
        session,
        actor=actor,
        action="maengelmelder.report.merge",
        target=f"{report_id}->{into}",
        tenant_slug=tenant.slug,
    )
    return update


def reopen(*, session: Session, tenant: TenantRef, report_id: int, note: str, actor: str) -> Update:
    """Open a closed report again (in process); a merged one is split off again."""
    report = _report(session, tenant, report_id)
    if report.status != "closed":
        raise Conflict("only a closed report can be reopened")
    moment = utcnow()
    if report.merged_into_id is not None:
        keeper = _report(session, tenant, report.merged_into_id)
        keeper.supporters = max(0, keeper.supporters - report.supporters - 1)
        report.merged_into_id = None
    _set_status(report, "in_process", moment)
    text = plain_text(note, field="note", limit=4000, multiline=True)
    report.status_notes = text
    report.updated_at = moment
    update = _record(session, report, kind="reopen", note=text, public=True, author=actor)
    _notify(session, tenant, report, text)
    return update


def support(*, session: Session, tenant: TenantRef, report_id: int, who: str, secret: bytes) -> int:
    """Count a "me too" once per person (`who`: e-mail, device or client); the new count."""
    report = _report(session, tenant, report_id)
    if report.status != "open":
        raise Conflict("only open reports can be supported")
    if report.merged_into_id is not None:
        report = _report(session, tenant, report.merged_into_id)
    fingerprint = hmac.new(secret, who.strip().lower().encode(), hashlib.sha256).hexdigest()
    try:
        with session.begin_nested():
            session.add(Supporter(report_id=report.id, fingerprint=fingerprint))
            session.flush()
    except IntegrityError:
        return report.supporters
    report.supporters += 1
    return report.supporters


def history(
    *, session: Session, tenant: TenantRef, report_id: int, public_only: bool
) -> list[Update]:
    """A report's steps, oldest first."""
    _ = _report_exists(session, tenant, report_id)
    query = select(Update).where(Update.tenant_id == tenant.id, Update.report_id == report_id)
    if public_only:
        query = query.where(Update.public.is_(True))
    return list(session.scalars(query.order_by(Update.id)))


def _report_exists(session: Session, tenant: TenantRef, report_id: int) -> int:
    found = session.scalar(
        select(Report.id).where(Report.tenant_id == tenant.id, Report.id == report_id)
    )
    if found is None:
        raise NotFound(f"no service request '{report_id}'")
    return found


def public_updates(
    *,
    session: Session,
    tenant: TenantRef,
    start: datetime | None,
    end: datetime | None,
    limit: int = 1000,
) -> list[tuple[Update, Report]]:
    """Public steps of every report in a time range (FixMyStreet's servicerequestupdates)."""
    query = (
        select(Update, Report)
        .join(Report, Report.id == Update.report_id)
        .where(Update.tenant_id == tenant.id, Update.public.is_(True))
    )
    if start is not None:
        query = query.where(Update.created_at >= start)
    if end is not None:
        query = query.where(Update.created_at <= end)
    return [(u, r) for u, r in session.execute(query.order_by(Update.id).limit(limit))]
