"""Open311 GeoReport v2 documents as JSON values and as XML, element for element as the
specification shows them (services/service, service_requests/request, errors/error, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from stadtkern.maengelmelder.models import Category, Update
from stadtkern.maengelmelder.reports import ReportView

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
JSON_TYPE = "application/json"
XML_TYPE = "text/xml"
# In XML a list becomes a wrapper element with one child per item.
_ITEM_OF = {
    "attributes": "attribute",
    "values": "value",
    "formats": "format",
    "endpoints": "endpoint",
}


def w3c(moment: datetime | None) -> str | None:
    """A timestamp as the W3C date-time the standard uses (seconds, with offset)."""
    return None if moment is None else moment.isoformat(timespec="seconds")


def service(category: Category) -> dict[str, Any]:
    """One entry of GET services."""
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or None,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ",".join(category.keywords) or None,
        "group": category.group_name or None,
    }


def service_definition(category: Category) -> dict[str, Any]:
    """GET services/{code}: the category's attributes."""
    attributes = sorted(category.attributes, key=lambda a: (a.get("order", 1), a["code"]))
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": bool(a.get("variable", True)),
                "code": a["code"],
                "datatype": a["datatype"],
                "required": bool(a.get("required", False)),
                "datatype_description": a.get("datatype_description") or None,
                "order": int(a.get("order", 1)),
                "description": a.get("description") or None,
                **(
                    {"values": [{"key": v["key"], "name": v["name"]} for v in a["values"]]}
                    if a.get("values")
                    else {}
                ),
            }
            for a in attributes
        ],
    }


def request(view: ReportView, media_base: str, *, extensions: bool = False) -> dict[str, Any]:
    """One service request as GET requests shows it."""
    report = view.report
    media = f"{media_base}/{view.photo_key}.jpg" if view.photo_key else (report.media_url or None)
    body: dict[str, Any] = {
        "service_request_id": str(report.id),
        "status": report.status,
        "status_notes": report.status_notes or None,
        "service_name": view.service_name,
        "service_code": view.service_code,
        "description": report.description or None,
        "agency_responsible": view.agency or None,
        "service_notice": report.service_notice or None,
        "requested_datetime": w3c(report.requested_at),
        "updated_datetime": w3c(report.updated_at),
        "expected_datetime": w3c(report.expected_at),
        "address": report.address or None,
        "address_id": report.address_id or None,
        "zipcode": report.zipcode or None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media,
    }
    if extensions:
        body["extended_attributes"] = {
            "detailed_status": report.detailed_status.upper(),
            "supporters": report.supporters,
            "merged_into": str(report.merged_into_id) if report.merged_into_id else None,
        }
    return body


def request_update(update: Update, service_request_id: int) -> dict[str, Any]:
    """One public step, as FixMyStreet's servicerequestupdates shows it."""
    return {
        "update_id": str(update.id),
        "service_request_id": str(service_request_id),
        "status": update.status,
        "updated_datetime": w3c(update.created_at),
        "description": update.note or None,
        "media_url": None,
        "extended_attributes": {"detailed_status": update.detailed_status.upper()},
    }


def error(code: int, description: str) -> dict[str, Any]:
    """One entry of the standard error list."""
    return {"code": code, "description": description}


def to_xml(root: str, item: str | None, content: Any) -> bytes:
    """A document: `content` (a list of mappings or one mapping) under `root`."""
    element = etree.Element(root)
    if item is None:
        _fill(element, content)
    else:
        for entry in content:
            _fill(etree.SubElement(element, item), entry)
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(etree.SubElement(element, name), child)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        item = _ITEM_OF.get(element.tag if isinstance(element.tag, str) else "", "item")
        for child in value:
            _fill(etree.SubElement(element, item), child)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)
