"""Reading CAP 1.2 XML from outside into a CapAlert: safe parse, XSD, conversion, rules.

Free text is kept exactly as sent. XML signatures (`ds:Signature`, allowed by the schema)
are not verified here and not kept in the model.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from lxml import etree

from stadtkern.warning.cap_model import (
    CAP_NAMESPACE,
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
from stadtkern.warning.cap_rules import check_alert
from stadtkern.warning.cap_text import parse_cap_time, parse_group, parse_references
from stadtkern.warning.cap_xml import parse_document, validate_element

_NS = f"{{{CAP_NAMESPACE}}}"


def from_xml(xml: bytes) -> CapAlert:
    """Parse and check a CAP 1.2 message; CapInvalid says what is wrong with it."""
    root = parse_document(xml)
    validate_element(root)
    alert = _read_alert(root)
    check_alert(alert)
    return alert


def _read_alert(root: etree._Element) -> CapAlert:
    return CapAlert(
        identifier=_required(root, "identifier"),
        sender=_required(root, "sender"),
        sent=_required_time(root, "sent"),
        status=cast(Status, _required(root, "status")),
        msg_type=cast(MsgType, _required(root, "msgType")),
        scope=cast(Scope, _required(root, "scope")),
        source=_text(root, "source"),
        restriction=_text(root, "restriction"),
        addresses=parse_group(_text(root, "addresses") or ""),
        code=_texts(root, "code"),
        note=_text(root, "note"),
        references=_references(root),
        incidents=parse_group(_text(root, "incidents") or ""),
        infos=tuple(_read_info(info) for info in root.iterfind(f"{_NS}info")),
    )


def _references(root: etree._Element) -> tuple[CapReference, ...]:
    element = root.find(f"{_NS}references")
    if element is None:
        return ()
    try:
        return parse_references(element.text or "")
    except CapInvalid as exc:
        raise _located(exc, element) from None


def _read_info(element: etree._Element) -> CapInfo:
    return CapInfo(
        language=(_text(element, "language") or "").strip() or "en-US",
        categories=cast(tuple[Category, ...], _texts(element, "category")),
        event=_required(element, "event"),
        response_types=cast(tuple[ResponseType, ...], _texts(element, "responseType")),
        urgency=cast(Urgency, _required(element, "urgency")),
        severity=cast(Severity, _required(element, "severity")),
        certainty=cast(Certainty, _required(element, "certainty")),
        audience=_text(element, "audience"),
        event_codes=_pairs(element, "eventCode"),
        effective=_time(element, "effective"),
        onset=_time(element, "onset"),
        expires=_time(element, "expires"),
        sender_name=_text(element, "senderName"),
        headline=_text(element, "headline"),
        description=_text(element, "description"),
        instruction=_text(element, "instruction"),
        web=_text(element, "web"),
        contact=_text(element, "contact"),
        parameters=_pairs(element, "parameter"),
        resources=tuple(_read_resource(item) for item in element.iterfind(f"{_NS}resource")),
        areas=tuple(_read_area(item) for item in element.iterfind(f"{_NS}area")),
    )


def _read_resource(element: etree._Element) -> CapResource:
    size = _text(element, "size")
    return CapResource(
        description=_required(element, "resourceDesc"),
        mime_type=_required(element, "mimeType"),
        size=int(size) if size is not None else None,
        uri=_text(element, "uri"),
        deref_uri=_text(element, "derefUri"),
        digest=_text(element, "digest"),
    )


def _read_area(element: etree._Element) -> CapArea:
    altitude, ceiling = _text(element, "altitude"), _text(element, "ceiling")
    return CapArea(
        description=_required(element, "areaDesc"),
        polygons=tuple(" ".join(text.split()) for text in _texts(element, "polygon")),
        circles=tuple(" ".join(text.split()) for text in _texts(element, "circle")),
        geocodes=_pairs(element, "geocode"),
        altitude=float(altitude) if altitude is not None else None,
        ceiling=float(ceiling) if ceiling is not None else None,
    )


def _text(element: etree._Element, name: str) -> str | None:
    child = element.find(f"{_NS}{name}")
    return None if child is None else child.text or ""


def _required(element: etree._Element, name: str) -> str:
    text = _text(element, name)
    if text is None:  # the XSD has been checked; this guards against a changed schema
        raise CapInvalid([f"line {element.sourceline}: <{name}> is missing"])
    return text


def _texts(element: etree._Element, name: str) -> tuple[str, ...]:
    return tuple(child.text or "" for child in element.iterfind(f"{_NS}{name}"))


def _pairs(element: etree._Element, name: str) -> tuple[ValuePair, ...]:
    return tuple(
        (_required(child, "valueName"), _required(child, "value"))
        for child in element.iterfind(f"{_NS}{name}")
    )


def _time(element: etree._Element, name: str) -> datetime | None:
    child = element.find(f"{_NS}{name}")
    if child is None:
        return None
    try:
        return parse_cap_time(child.text or "")
    except CapInvalid as exc:
        raise _located(exc, child) from None


def _located(exc: CapInvalid, element: etree._Element) -> CapInvalid:
    name = etree.QName(element).localname
    return CapInvalid([f"line {element.sourceline}: <{name}>: {error}" for error in exc.errors])


def _required_time(element: etree._Element, name: str) -> datetime:
    moment = _time(element, name)
    if moment is None:
        raise CapInvalid([f"line {element.sourceline}: <{name}> is missing"])
    return moment
