"""What the console's defect pages show, read through the Mängelmelder's services."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.maengelmelder import catalogue, reports, search, staff, workflow
from stadtkern.maengelmelder import figures as figures_

PAGE_SIZE = 50
INBOX_DAYS = 3650  # the inbox looks back ten years: an old open report is still work
DETAILED = ("received", "in_process", "processed", "rejected")
STATUS_FILTERS = ("open", "closed", *DETAILED, "all")
NEARBY_METRES = 50.0


def _status_filter(status: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The status filter as (open/closed, detailed) for the search; unknown means open."""
    if status == "all":
        return (), ()
    if status in DETAILED:
        return (), (status,)
    return ((status if status in ("open", "closed") else "open"),), ()


def inbox(
    session: Session, tenant: TenantRef, department: str, status: str, category: str, page: int
) -> dict[str, Any]:
    """One page of the reports the filter keeps, newest first, with the filter's choices."""
    statuses, detailed = _status_filter(status)
    query = search.RequestQuery(
        statuses=statuses,
        detailed=detailed,
        departments=(department,) if department else (),
        service_codes=(category,) if category else (),
        page=page,
        page_size=PAGE_SIZE,
    )
    rows = search.search_reports(
        session=session, tenant=tenant, query=query, window_days=INBOX_DAYS
    )
    # The first row of the next page (offset page * PAGE_SIZE) tells whether there is one.
    after = replace(query, page=page * PAGE_SIZE + 1, page_size=1)
    more = bool(
        search.search_reports(session=session, tenant=tenant, query=after, window_days=INBOX_DAYS)
    )
    return {
        "reports": rows,
        "more": more,
        "page": page,
        "filters": {"department": department, "status": status, "category": category},
        "departments": catalogue.list_departments(session=session, tenant=tenant),
        "categories": catalogue.list_categories(session=session, tenant=tenant),
        "status_filters": STATUS_FILTERS,
    }


def report(session: Session, tenant: TenantRef, report_id: int) -> dict[str, Any]:
    """A report for its handlers: reporter, whole history, people to assign, likely twins."""
    view = reports.get_report(session=session, tenant=tenant, report_id=report_id)
    r = view.report
    twins = []
    if r.lat is not None and r.lon is not None and r.merged_into_id is None:
        twins = [
            found
            for found in search.nearby_open(
                session=session,
                tenant=tenant,
                service_code=view.service_code,
                lat=r.lat,
                lon=r.lon,
                radius_m=NEARBY_METRES,
            )
            if found.report.id != r.id
        ]
    return {
        "view": view,
        "reporter": reports.get_reporter(session=session, report_id=report_id),
        "steps": workflow.history(
            session=session, tenant=tenant, report_id=report_id, public_only=False
        ),
        "people": staff.assignable(session=session, tenant=tenant),
        "twins": twins,
        "detailed": DETAILED,
        "problem": None,
    }


def figures(session: Session, tenant: TenantRef, days: int) -> dict[str, Any]:
    """Response times per category over the last `days` days."""
    since = datetime.now(UTC) - timedelta(days=days)
    return {
        "rows": figures_.response_times(session=session, tenant=tenant, since=since),
        "days": days,
        "choices": (30, 90, 365),
    }
