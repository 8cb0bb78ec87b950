"""OASIS CAP 1.2 for the public-warning module: the one import for model, XML and helpers.

    from stadtkern.warning.cap import CapAlert, CapInfo, to_xml, from_xml, CapInvalid

- `to_xml(alert)` writes CAP 1.2 XML and refuses to emit anything the OASIS XSD or the
  standard's rules reject; `from_xml(xml)` reads untrusted XML safely and checks the same.
- `validate(xml)` checks bytes against the XSD only (plus the safe-parsing limits).
- Geometry helpers turn CAP's lat-first polygons and circles into lon/lat shapely shapes.

The pieces live in `cap_model` (dataclasses), `cap_text` (times, references, groups),
`cap_geo` (polygons, circles), `cap_rules` (rules beyond the XSD), `cap_xml` (parser, XSD),
`cap_write` and `cap_read`.
"""

from __future__ import annotations

from stadtkern.warning.cap_geo import (
    area_geometry,
    cap_circle,
    cap_polygon,
    circle_polygon,
    circle_to_cap,
    polygon_to_cap,
)
from stadtkern.warning.cap_model import (
    CAP_MEDIA_TYPE,
    CAP_NAMESPACE,
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
    CapAlert,
    CapArea,
    CapInfo,
    CapInvalid,
    CapReference,
    CapResource,
    Category,
    Certainty,
    MsgType,
    ResponseType,
    Scope,
    Severity,
    Status,
    Urgency,
    ValuePair,
)
from stadtkern.warning.cap_read import from_xml
from stadtkern.warning.cap_rules import alert_problems, check_alert
from stadtkern.warning.cap_text import (
    format_cap_time,
    format_reference,
    format_references,
    parse_cap_time,
    parse_references,
)
from stadtkern.warning.cap_write import to_xml
from stadtkern.warning.cap_xml import MAX_CAP_BYTES, validate

__all__ = [
    "CAP_MEDIA_TYPE",
    "CAP_NAMESPACE",
    "CATEGORIES",
    "CERTAINTIES",
    "MAX_CAP_BYTES",
    "MSG_TYPES",
    "RESPONSE_TYPES",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "URGENCIES",
    "CapAlert",
    "CapArea",
    "CapInfo",
    "CapInvalid",
    "CapReference",
    "CapResource",
    "Category",
    "Certainty",
    "MsgType",
    "ResponseType",
    "Scope",
    "Severity",
    "Status",
    "Urgency",
    "ValuePair",
    "alert_problems",
    "area_geometry",
    "cap_circle",
    "cap_polygon",
    "check_alert",
    "circle_polygon",
    "circle_to_cap",
    "format_cap_time",
    "format_reference",
    "format_references",
    "from_xml",
    "parse_cap_time",
    "parse_references",
    "polygon_to_cap",
    "to_xml",
    "validate",
]
