"""CAP messages from outside that from_xml must refuse, and the reasons it gives."""

from __future__ import annotations

import re

import pytest

from stadtkern.warning.cap import MAX_CAP_BYTES, CapInvalid, from_xml, to_xml, validate
from tests.warning.test_cap_samples import CITY_POLYGON, MOWAS_XML, alert

VALID = to_xml(alert())


def refused(xml: bytes) -> list[str]:
    """The errors from_xml reports for `xml` (the test fails if it accepts it)."""
    with pytest.raises(CapInvalid) as caught:
        from_xml(xml)
    assert caught.value.errors
    return caught.value.errors


def edited(old: str, new: str, xml: bytes = VALID) -> bytes:
    """`xml` with the first `old` replaced by `new` (which must be there)."""
    assert old.encode() in xml
    return xml.replace(old.encode(), new.encode(), 1)


def test_missing_identifier() -> None:
    errors = refused(edited("<identifier>DE-RP-KL-2026-0001</identifier>", ""))
    assert re.search(r"line \d+: .*sender.*identifier", errors[0])


def test_wrong_namespace() -> None:
    xml = edited(
        "urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1", MOWAS_XML
    )
    assert "expected '{urn:oasis:names:tc:emergency:cap:1.2}alert'" in refused(xml)[0]


def test_no_namespace() -> None:
    xml = edited(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', "")
    assert "root element is 'alert'" in refused(xml)[0]


def test_bad_status() -> None:
    errors = refused(edited("<status>Actual</status>", "<status>Real</status>"))
    assert "status" in errors[0]
    assert "'Real' is not an element of the set" in errors[0]


def test_entity_expansion_bomb_is_refused() -> None:
    # "Billion laughs": ten levels of ten references each, 10**10 "a" if expanded.
    levels = [b'<!ENTITY e0 "aaaaaaaaaa">']
    levels += [f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">'.encode() for n in range(1, 10)]
    body = VALID.split(b"\n", 1)[1]
    body = body.replace(b"<scope>Public</scope>", b"<scope>Public</scope><note>&e9;</note>")
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE alert [' + b"\n".join(levels) + b"]>\n" + body
    errors = refused(bomb)
    assert "DOCTYPE" in errors[0] or "entity amplification" in errors[0]


def test_external_entity_is_not_loaded() -> None:
    body = VALID.split(b"\n", 1)[1]
    body = body.replace(b"<scope>Public</scope>", b"<scope>Public</scope><note>&secret;</note>")
    doctype = b'<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    errors = refused(b'<?xml version="1.0"?>\n' + doctype + body)
    assert errors == ["a DOCTYPE (DTD, entity declarations) is not allowed in CAP messages"]


def test_any_dtd_is_refused() -> None:
    xml = b'<?xml version="1.0"?>\n<!DOCTYPE alert>\n' + VALID.split(b"\n", 1)[1]
    assert "DOCTYPE" in refused(xml)[0]
    with pytest.raises(CapInvalid, match="DOCTYPE"):
        validate(xml)


def test_oversize_message_is_refused() -> None:
    padding = "Sehr lange Beschreibung. " * (MAX_CAP_BYTES // 25 + 1)
    xml = edited("<scope>Public</scope>", f"<scope>Public</scope><note>{padding}</note>")
    assert len(xml) > MAX_CAP_BYTES
    assert "the limit is 1048576" in refused(xml)[0]


def test_malformed_xml_is_refused() -> None:
    assert "not well-formed" in refused(VALID[:-20])[0]


def test_str_instead_of_bytes_is_refused() -> None:
    with pytest.raises(CapInvalid, match="expected the message as bytes"):
        from_xml(VALID.decode())  # type: ignore[arg-type]


def test_open_polygon() -> None:
    open_ring = CITY_POLYGON.rsplit(" ", 1)[0] + " 49.4301,7.7500"
    errors = refused(edited(CITY_POLYGON, open_ring))
    assert errors == [
        "info[0] (de-DE) area[0] polygon[0]: polygon is not closed: "
        "the first and last points differ"
    ]


def test_polygon_with_too_few_points() -> None:
    errors = refused(edited(CITY_POLYGON, "49.43,7.75 49.45,7.75 49.43,7.75"))
    assert "polygon has 3 points, CAP needs at least 4" in errors[0]


def test_latitude_out_of_range() -> None:
    errors = refused(edited(CITY_POLYGON, CITY_POLYGON.replace("49.4500", "94.4500")))
    assert "latitude '94.4500' is not a number from -90 to 90" in errors[0]


def test_longitude_out_of_range() -> None:
    errors = refused(edited("49.4447,7.7690 1.5", "49.4447,187.7690 1.5"))
    assert "circle[0]: circle centre: longitude '187.7690'" in errors[0]


def test_negative_circle_radius() -> None:
    errors = refused(edited("49.4447,7.7690 1.5", "49.4447,7.7690 -1.5"))
    assert "circle radius '-1.5' is not a number >= 0" in errors[0]


def test_update_without_references() -> None:
    errors = refused(edited("<msgType>Alert</msgType>", "<msgType>Update</msgType>"))
    assert errors == ["msgType Update must name the earlier messages in references"]


def test_cancel_without_references() -> None:
    errors = refused(edited("<msgType>Alert</msgType>", "<msgType>Cancel</msgType>"))
    assert "msgType Cancel must name the earlier messages" in errors[0]


def test_malformed_references() -> None:
    xml = edited("<scope>Public</scope>", "<scope>Public</scope><references>a,b</references>")
    assert re.fullmatch(r"line \d+: <references>: reference 'a,b' is not .*", refused(xml)[0])


def test_expires_before_sent() -> None:
    errors = refused(edited("2026-12-01T18:00:00+01:00", "2026-12-01T14:59:59+01:00"))
    assert errors == ["info[0] (de-DE): expires must be after sent"]


def test_identifier_with_comma() -> None:
    errors = refused(edited("DE-RP-KL-2026-0001", "DE,RP"))
    assert "identifier 'DE,RP' contains a space, comma" in errors[0]


def test_restricted_without_restriction() -> None:
    errors = refused(edited("<scope>Public</scope>", "<scope>Restricted</scope>"))
    assert errors == ["a Restricted message needs a restriction"]


def test_ceiling_without_altitude() -> None:
    xml = edited("</geocode>", "</geocode><ceiling>100</ceiling>")
    assert "ceiling needs an altitude" in refused(xml)[0]


def test_time_with_z_is_refused_by_the_schema() -> None:
    errors = refused(edited("2026-12-01T15:00:00+01:00", "2026-12-01T14:00:00Z"))
    assert "sent" in errors[0]


def test_every_problem_is_reported_at_once() -> None:
    xml = edited("<msgType>Alert</msgType>", "<msgType>Update</msgType>")
    xml = edited(CITY_POLYGON, CITY_POLYGON.replace("49.4500", "-91"), xml)
    assert len(refused(xml)) >= 3
