"""Deleting reporters' personal data a set number of days after their report was closed.

Name, e-mail, phone and device id exist for one purpose: to tell the reporter what became of
the report. Once it is closed and the retention has passed, they go (GDPR Art. 5(1)(e)); the
report itself stays as the town's record without them. Notices still queued go with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.maengelmelder.models import Mail, Report, Reporter


def purge_personal_data(
    *, session: Session, now: datetime, retention_days: int, tenant: TenantRef | None = None
) -> int:
    """Delete the personal data of reports closed more than `retention_days` ago; how many."""
    cutoff = now - timedelta(days=retention_days)
    expired = select(Report.id).where(
        Report.status == "closed", Report.closed_at.is_not(None), Report.closed_at <= cutoff
    )
    if tenant is not None:
        expired = expired.where(Report.tenant_id == tenant.id)
    ids = [
        report_id
        for (report_id,) in session.execute(
            select(Reporter.report_id).where(Reporter.report_id.in_(expired))
        )
    ]
    if not ids:
        return 0
    session.execute(delete(Mail).where(Mail.report_id.in_(ids)))
    session.execute(delete(Reporter).where(Reporter.report_id.in_(ids)))
    return len(ids)
