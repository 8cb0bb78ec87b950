"""Writing a CapAlert as CAP 1.2 XML, in the schema's element order, validated before it leaves.

Stadtkern never emits invalid CAP: `to_xml` checks the standard's rules first, builds the
document, then validates the exact bytes against the OASIS XSD.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from lxml import etree

from stadtkern.warning.cap_model import (
    CAP_NAMESPACE,
    CapAlert,
    CapArea,
    CapInfo,
    CapInvalid,
    CapResource,
    ValuePair,
)
from stadtkern.warning.cap_rules import check_alert
from stadtkern.warning.cap_text import format_cap_time, format_group, format_references
from stadtkern.warning.cap_xml import validate

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def to_xml(alert: CapAlert) -> bytes:
    """The alert as CAP 1.2 XML (UTF-8), checked against the standard's rules and the XSD."""
    check_alert(alert)
    root = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})
    try:
        _write_alert(root, alert)
    except ValueError as exc:
        # lxml refuses control characters and NUL bytes, which XML 1.0 cannot carry.
        raise CapInvalid([f"text not allowed in XML: {exc}"]) from None
    xml = _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)
    validate(xml)
    return xml


def _write_alert(root: etree._Element, alert: CapAlert) -> None:
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", _time(alert.sent))
    _add(root, "status", alert.status)
    _add(root, "msgType", alert.msg_type)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope)
    _add(root, "restriction", alert.restriction)
    _add(root, "addresses", format_group(alert.addresses) if alert.addresses else None)
    _add_all(root, "code", alert.code)
    _add(root, "note", alert.note)
    _add(root, "references", format_references(alert.references) if alert.references else None)
    _add(root, "incidents", format_group(alert.incidents) if alert.incidents else None)
    for info in alert.infos:
        _write_info(_add_element(root, "info"), info)


def _write_info(element: etree._Element, info: CapInfo) -> None:
    _add(element, "language", info.language)
    _add_all(element, "category", info.categories)
    _add(element, "event", info.event)
    _add_all(element, "responseType", info.response_types)
    _add(element, "urgency", info.urgency)
    _add(element, "severity", info.severity)
    _add(element, "certainty", info.certainty)
    _add(element, "audience", info.audience)
    _add_pairs(element, "eventCode", info.event_codes)
    _add(element, "effective", _time(info.effective))
    _add(element, "onset", _time(info.onset))
    _add(element, "expires", _time(info.expires))
    _add(element, "senderName", info.sender_name)
    _add(element, "headline", info.headline)
    _add(element, "description", info.description)
    _add(element, "instruction", info.instruction)
    _add(element, "web", info.web)
    _add(element, "contact", info.contact)
    _add_pairs(element, "parameter", info.parameters)
    for resource in info.resources:
        _write_resource(_add_element(element, "resource"), resource)
    for area in info.areas:
        _write_area(_add_element(element, "area"), area)


def _write_resource(element: etree._Element, resource: CapResource) -> None:
    _add(element, "resourceDesc", resource.description)
    _add(element, "mimeType", resource.mime_type)
    _add(element, "size", None if resource.size is None else str(resource.size))
    _add(element, "uri", resource.uri)
    _add(element, "derefUri", resource.deref_uri)
    _add(element, "digest", resource.digest)


def _write_area(element: etree._Element, area: CapArea) -> None:
    _add(element, "areaDesc", area.description)
    _add_all(element, "polygon", (" ".join(polygon.split()) for polygon in area.polygons))
    _add_all(element, "circle", (" ".join(circle.split()) for circle in area.circles))
    _add_pairs(element, "geocode", area.geocodes)
    _add(element, "altitude", _decimal(area.altitude, "altitude"))
    _add(element, "ceiling", _decimal(area.ceiling, "ceiling"))


def _add_element(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")


def _add(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _add_element(parent, name).text = text


def _add_all(parent: etree._Element, name: str, texts: Iterable[str]) -> None:
    for text in texts:
        _add(parent, name, text)


def _add_pairs(parent: etree._Element, name: str, pairs: Iterable[ValuePair]) -> None:
    for value_name, value in pairs:
        element = _add_element(parent, name)
        _add(element, "valueName", value_name)
        _add(element, "value", value)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_cap_time(moment)


def _decimal(value: float | None, name: str) -> str | None:
    if value is None:
        return None
    if not math.isfinite(value):
        raise CapInvalid([f"{name} {value} is not a finite number"])
    # xs:decimal has no exponent notation, which str() would use for 1e-07.
    return format(Decimal(repr(float(value))), "f")
