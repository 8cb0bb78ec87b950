"""What the portal's defect pages show, read through the Mängelmelder's services.

Nothing here names a reporter: the public pages show what Open311's `requests` publishes
(category, status, place, description, photo, public notes), never e-mail or name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput
from stadtkern.maengelmelder import catalogue, reports, search, workflow
from stadtkern.maengelmelder.models import Category
from stadtkern.maengelmelder.reports import ReportView
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.web.report_forms import draft_of

LIST_SIZE = 50


@dataclass(frozen=True)
class CategoryGroup:
    """Categories under one heading of the select (`group` of the category; "" for none)."""

    name: str
    categories: list[Category]


def grouped(categories: list[Category]) -> list[CategoryGroup]:
    """Active categories by group, groups in the order their first category comes."""
    groups: dict[str, list[Category]] = {}
    for category in categories:
        groups.setdefault(category.group_name, []).append(category)
    return [CategoryGroup(name, members) for name, members in groups.items()]


def limits(settings: MaengelmelderSettings) -> dict[str, Any]:
    """The limits the form tells the citizen before they type or choose a file."""
    return {
        "photo_bytes": settings.max_photo_bytes,
        "photo_mb": f"{settings.max_photo_bytes / 1_000_000:g}",
        "description_chars": settings.max_description_chars,
        "retention_days": settings.retention_days,
    }


def where_page(
    session: Session, tenant: TenantRef, values: dict[str, str], settings: MaengelmelderSettings
) -> dict[str, Any]:
    """Step one: the categories to choose from and what was typed so far."""
    active = catalogue.list_categories(session=session, tenant=tenant, active_only=True)
    return {"groups": grouped(active), "values": values, "problems": {}, "limits": limits(settings)}


def check_page(
    session: Session,
    tenant: TenantRef,
    values: dict[str, str],
    settings: MaengelmelderSettings,
    radius_m: float,
) -> dict[str, Any]:
    """Step two: the chosen category and place checked, open reports of it nearby, the
    category's questions. InvalidInput when the category or the place will not do."""
    code = values.get("service_code", "").strip()
    category = next(
        (
            c
            for c in catalogue.list_categories(session=session, tenant=tenant, active_only=True)
            if c.code == code
        ),
        None,
    )
    if category is None:
        raise InvalidInput(f"service_code '{code[:64]}' is not a service of this town")
    lat, lon = reports.check_place(draft_of(values, {}, ""))
    nearby: list[ReportView] = []
    if lat is not None and lon is not None:
        nearby = search.nearby_open(
            session=session,
            tenant=tenant,
            service_code=code,
            lat=lat,
            lon=lon,
            radius_m=radius_m,
        )
    questions = sorted(category.attributes, key=lambda spec: spec.get("order", 1))
    return {
        "category": category,
        "questions": [q for q in questions if q.get("variable", True)],
        "nearby": nearby,
        "radius": int(radius_m),
        "has_point": lat is not None,
        "values": values,
        "answers": {},
        "problems": {},
        "limits": limits(settings),
    }


def status_page(session: Session, tenant: TenantRef, report_id: int) -> dict[str, Any]:
    """A report as the public sees it, with its public history."""
    view = reports.get_report(session=session, tenant=tenant, report_id=report_id)
    steps = workflow.history(session=session, tenant=tenant, report_id=report_id, public_only=True)
    return {"view": view, "steps": steps, "problem": None, "supported": False}


def list_page(
    session: Session, tenant: TenantRef, settings: MaengelmelderSettings
) -> dict[str, Any]:
    """The newest reports of the last `default_window_days` days."""
    found = search.search_reports(
        session=session,
        tenant=tenant,
        query=search.RequestQuery(page_size=LIST_SIZE),
        window_days=settings.default_window_days,
    )
    return {"reports": found, "days": settings.default_window_days}


def points(views: list[ReportView]) -> dict[str, Any]:
    """Reports with a point as GeoJSON for the list's map (the table lists them all)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [v.report.lon, v.report.lat]},
                "properties": {
                    "id": v.report.id,
                    "category": v.service_name,
                    "status": v.report.detailed_status,
                },
            }
            for v in views
            if v.report.lat is not None and v.report.lon is not None
        ],
    }
