"""Notices to reporters by e-mail, through an outbox so that no acknowledged notice is lost.

A status change writes its notice into `mm_mail` in the same transaction; the courier sends
due rows after commit and deletes each only once the SMTP server accepted it. A row is leased
(its `next_attempt_at` pushed forward) in its own transaction before sending, so two
processes do not send it together; a process that dies mid-send leaves the row to be sent
again when the lease runs out (at least once).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.db.base import utcnow
from stadtkern.maengelmelder.models import Mail, Report
from stadtkern.maengelmelder.settings import MaengelmelderSettings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BATCH = 20

_WORDS = {
    "de": {
        "subject": "Ihre Meldung Nr. {id}: {status}",
        "received": "eingegangen",
        "in_process": "in Bearbeitung",
        "processed": "erledigt",
        "rejected": "abgelehnt",
        "intro": "Guten Tag,\n\nder Stand Ihrer Meldung Nr. {id} ({category}) hat sich geändert:",
        "status": "Stand: {status}",
        "note": "Hinweis der Verwaltung:",
        "outro": "Diese Nachricht wurde automatisch versandt.\n{town}",
    },
    "en": {
        "subject": "Your report no. {id}: {status}",
        "received": "received",
        "in_process": "in process",
        "processed": "processed",
        "rejected": "rejected",
        "intro": "Hello,\n\nthe status of your report no. {id} ({category}) has changed:",
        "status": "Status: {status}",
        "note": "Note from the town:",
        "outro": "This message was sent automatically.\n{town}",
    },
}


def enqueue_notice(
    *,
    session: Session,
    tenant: TenantRef,
    report: Report,
    category: str,
    recipient: str,
    note: str,
) -> Mail:
    """Queue the notice of a report's new status, in the caller's transaction."""
    words = _WORDS.get(tenant.locale, _WORDS["de"])
    status = words[report.detailed_status]
    parts = [
        words["intro"].format(id=report.id, category=category),
        "",
        words["status"].format(status=status),
    ]
    if note:
        parts += ["", words["note"], note]
    parts += ["", "--", words["outro"].format(town=tenant.name)]
    mail = Mail(
        tenant_id=tenant.id,
        report_id=report.id,
        recipient=recipient,
        subject=words["subject"].format(id=report.id, status=status)[:255],
        body="\n".join(parts),
        attempts=0,
        last_error="",
        next_attempt_at=utcnow(),
    )
    session.add(mail)
    session.flush()
    return mail


def _lease_due(database: Database, now: datetime) -> list[Mail]:
    with database.write() as session:
        rows = list(
            session.scalars(
                select(Mail)
                .where(Mail.next_attempt_at <= now)
                .order_by(Mail.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.next_attempt_at = now + LEASE
            row.attempts += 1
        return rows


def _message(settings: MaengelmelderSettings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    return message


def _send(settings: MaengelmelderSettings, messages: list[EmailMessage]) -> list[str | None]:
    """Send over one connection; per message None on success or the reason it failed."""
    outcome: list[str | None] = []
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        for message in messages:
            try:
                smtp.send_message(message)
                outcome.append(None)
            except smtplib.SMTPException as exc:
                outcome.append(str(exc)[:255])
    return outcome


def deliver_due(database: Database, settings: MaengelmelderSettings, now: datetime) -> int:
    """Send every due notice once; returns how many the server accepted."""
    if not settings.smtp_host:
        return 0
    rows = _lease_due(database, now)
    if not rows:
        return 0
    try:
        outcome = _send(settings, [_message(settings, row) for row in rows])
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP server %s unreachable: %s", settings.smtp_host, exc)
        outcome = [str(exc)[:255] or type(exc).__name__] * len(rows)
    retry_at = now + timedelta(seconds=settings.mail_retry_seconds)
    sent = [row.id for row, error in zip(rows, outcome, strict=True) if error is None]
    with database.write() as session:
        if sent:
            session.execute(delete(Mail).where(Mail.id.in_(sent)))
        for row, error in zip(rows, outcome, strict=True):
            if error is not None:
                session.execute(
                    update(Mail)
                    .where(Mail.id == row.id)
                    .values(next_attempt_at=retry_at, last_error=error)
                )
    return len(sent)


def pending_mail(*, session: Session, report: Report | None = None) -> list[Mail]:
    """Notices not yet accepted by the SMTP server (of one report, or all)."""
    query = select(Mail).order_by(Mail.id)
    if report is not None:
        query = query.where(Mail.report_id == report.id)
    return list(session.scalars(query))
