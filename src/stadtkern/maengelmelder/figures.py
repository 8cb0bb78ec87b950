"""Response-time figures per category: how fast the town answers and fixes reports."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.maengelmelder.models import Category, Report


@dataclass(frozen=True)
class CategoryFigures:
    """Reports of one category since a moment, and the hours they took."""

    service_code: str
    service_name: str
    reports: int
    open: int
    closed: int
    median_response_hours: float | None
    median_close_hours: float | None
    p90_close_hours: float | None


def _hours(pairs: list[tuple[datetime, datetime]]) -> list[float]:
    return sorted((done - start).total_seconds() / 3600 for start, done in pairs)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(0.9 * len(values)))], 2)


def response_times(
    *, session: Session, tenant: TenantRef, since: datetime
) -> list[CategoryFigures]:
    """Per category: counts, median hours to the first answer, median and p90 to closing."""
    rows = session.execute(
        select(
            Category.code,
            Category.name,
            Report.status,
            Report.requested_at,
            Report.responded_at,
            Report.closed_at,
        )
        .join(Category, Category.id == Report.category_id)
        .where(
            Report.tenant_id == tenant.id,
            Report.requested_at >= since,
            Report.merged_into_id.is_(None),
        )
    )
    grouped: dict[tuple[str, str], list[tuple[str, datetime, datetime | None, datetime | None]]]
    grouped = {}
    for code, name, status, requested, responded, closed in rows:
        grouped.setdefault((code, name), []).append((status, requested, responded, closed))
    figures = []
    for (code, name), items in sorted(grouped.items()):
        responses = _hours([(r, a) for _, r, a, _ in items if a is not None])
        closings = _hours([(r, c) for _, r, _, c in items if c is not None])
        figures.append(
            CategoryFigures(
                service_code=code,
                service_name=name,
                reports=len(items),
                open=sum(1 for status, *_ in items if status == "open"),
                closed=sum(1 for status, *_ in items if status == "closed"),
                median_response_hours=_median(responses),
                median_close_hours=_median(closings),
                p90_close_hours=_p90(closings),
            )
        )
    return figures
