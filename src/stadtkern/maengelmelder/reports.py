"""Submitting a report and reading reports as the Open311 API and the staff see them."""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.db.base import utcnow
from stadtkern.errors import InvalidInput, NotFound
from stadtkern.maengelmelder.attributes import Answers, check_answers
from stadtkern.maengelmelder.models import Category, Department, Photo, Report, Reporter
from stadtkern.maengelmelder.text import plain_text

STATUS_OF = {"received": "open", "in_process": "open", "processed": "closed", "rejected": "closed"}
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>]{2,}$")


@dataclass
class ReportDraft:
    """What a citizen or an app sends; checked by `submit_report`."""

    service_code: str
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    address_id: str = ""
    zipcode: str = ""
    answers: Answers = field(default_factory=dict)
    media_url: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""
    source: str = "open311"
    client: str = ""


@dataclass(frozen=True)
class ReportView:
    """A report with its category, department and photo key, ready to render."""

    report: Report
    service_code: str
    service_name: str
    agency: str
    photo_key: str | None


def _personal(draft: ReportDraft) -> dict[str, str]:
    limits = {"first_name": 120, "last_name": 120, "phone": 40, "device_id": 120, "account_id": 120}
    values = {
        name: plain_text(getattr(draft, name), field=name, limit=limit)
        for name, limit in limits.items()
    }
    email = draft.email.strip()
    if email and (len(email) > 255 or not _EMAIL.match(email)):
        raise InvalidInput("email is not an e-mail address")
    values["email"] = email
    return values


def _location(draft: ReportDraft) -> tuple[float | None, float | None]:
    if (draft.lat is None) != (draft.lon is None):
        raise InvalidInput("lat and long come together")
    if draft.lat is None or draft.lon is None:
        if not (draft.address.strip() or draft.address_id.strip()):
            raise InvalidInput("a location is required: lat and long, address_string or address_id")
        return None, None
    if not (math.isfinite(draft.lat) and -90 <= draft.lat <= 90):
        raise InvalidInput("lat must be a latitude between -90 and 90")
    if not (math.isfinite(draft.lon) and -180 <= draft.lon <= 180):
        raise InvalidInput("long must be a longitude between -180 and 180")
    return draft.lat, draft.lon


def check_place(draft: ReportDraft) -> tuple[float | None, float | None]:
    """The draft's point, if any; InvalidInput when it has no usable location at all."""
    return _location(draft)


def submit_report(
    *,
    session: Session,
    tenant: TenantRef,
    draft: ReportDraft,
    max_description: int = 4000,
    photo_id: int | None = None,
    now: datetime | None = None,
) -> Report:
    """Store a new report and its reporter; InvalidInput when anything is wrong (nothing kept)."""
    category = session.scalar(
        select(Category).where(
            Category.tenant_id == tenant.id,
            Category.code == draft.service_code,
            Category.active.is_(True),
        )
    )
    if category is None:
        raise InvalidInput(f"service_code '{draft.service_code}' is not a service of this town")
    lat, lon = _location(draft)
    description = plain_text(
        draft.description, field="description", limit=max_description, multiline=True
    )
    answers = check_answers(category.attributes, draft.answers)
    personal = _personal(draft)
    media_url = draft.media_url.strip()
    if media_url and (len(media_url) > 1000 or not media_url.startswith(("https://", "http://"))):
        raise InvalidInput("media_url must be an http(s) URL of at most 1000 characters")
    moment = now or utcnow()
    report = Report(
        tenant_id=tenant.id,
        token=secrets.token_urlsafe(18),
        category_id=category.id,
        department_id=category.department_id,
        status="open",
        detailed_status="received",
        description=description,
        status_notes="",
        service_notice="",
        geom=Point(lon, lat) if lat is not None and lon is not None else None,
        lat=lat,
        lon=lon,
        address=plain_text(draft.address, field="address_string", limit=255),
        address_id=plain_text(draft.address_id, field="address_id", limit=64),
        zipcode=plain_text(draft.zipcode, field="zipcode", limit=10),
        answers=answers,
        photo_id=photo_id,
        media_url=media_url,
        requested_at=moment,
        updated_at=moment,
        expected_at=(
            moment + timedelta(days=category.expected_days)
            if category.expected_days is not None
            else None
        ),
        assignee="",
        supporters=0,
        source=draft.source,
        client=draft.client[:255],
    )
    session.add(report)
    session.flush()
    if any(personal.values()):
        session.add(Reporter(report_id=report.id, **personal))
        session.flush()
    return report


def view_query() -> Select[Report, str, str, str, str]:
    """Reports joined with what their rendering needs."""
    return (
        select(Report, Category.code, Category.name, Department.name, Photo.key)
        .join(Category, Category.id == Report.category_id)
        .outerjoin(Department, Department.id == Report.department_id)
        .outerjoin(Photo, Photo.id == Report.photo_id)
    )


def to_views(rows: Any) -> list[ReportView]:
    """Result rows of `view_query` as views."""
    return [
        ReportView(report, code, name, agency or "", photo_key)
        for report, code, name, agency, photo_key in rows
    ]


def get_report(*, session: Session, tenant: TenantRef, report_id: int) -> ReportView:
    """One report of the town by its id."""
    found = to_views(
        session.execute(view_query().where(Report.tenant_id == tenant.id, Report.id == report_id))
    )
    if not found:
        raise NotFound(f"no service request '{report_id}'")
    return found[0]


def find_by_token(*, session: Session, tenant: TenantRef, token: str) -> int:
    """The id of the report a submission token stands for."""
    found = session.scalar(
        select(Report.id).where(Report.tenant_id == tenant.id, Report.token == token)
    )
    if found is None:
        raise NotFound(f"no token '{token}'")
    return found


def get_reporter(*, session: Session, report_id: int) -> Reporter | None:
    """The personal data of a report's author, if any is left."""
    return session.get(Reporter, report_id)
