"""CAP sample messages shared by the CAP and feed tests (and a check that they are valid).

The MoWaS/NINA-style message is written for these tests; it follows the shape of the
messages German warning systems exchange (ARS geocodes, German and English info blocks).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from stadtkern.warning.cap import (
    CapAlert,
    CapArea,
    CapInfo,
    CapReference,
    from_xml,
    to_xml,
    validate,
)

CET = timezone(timedelta(hours=1), "CET")
SENDER = "https://www.kaiserslautern.de/warnung"
SENT = datetime(2026, 12, 1, 15, 0, tzinfo=CET)
# Around Kaiserslautern's city centre, CAP order: latitude first.
CITY_POLYGON = "49.4300,7.7500 49.4500,7.7500 49.4500,7.7900 49.4300,7.7900 49.4300,7.7500"
ARS_KAISERSLAUTERN = "073120000000"


def area(**changes: Any) -> CapArea:
    """The city-centre warning area (polygon, circle and ARS geocode)."""
    base = CapArea(
        description="Kaiserslautern, Innenstadt",
        polygons=(CITY_POLYGON,),
        circles=("49.4447,7.7690 1.5",),
        geocodes=(("ARS", ARS_KAISERSLAUTERN),),
    )
    return replace(base, **changes)


def info_de(**changes: Any) -> CapInfo:
    """A German info block about a large fire with smoke."""
    base = CapInfo(
        language="de-DE",
        categories=("Fire", "Safety"),
        event="Großbrand mit Rauchentwicklung",
        response_types=("Shelter",),
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        expires=SENT + timedelta(hours=3),
        sender_name="Stadtverwaltung Kaiserslautern, Feuerwehr",
        headline="Rauchentwicklung in der Innenstadt: Fenster und Türen schließen",
        description="Ein Großbrand in der Königstraße führt zu starker Rauchentwicklung.",
        instruction="Halten Sie Fenster und Türen geschlossen. Schalten Sie Lüftungen ab.",
        web="https://www.kaiserslautern.de/warnung",
        contact="Bürgertelefon 0631 365-0",
        areas=(area(),),
    )
    return replace(base, **changes)


def info_en(**changes: Any) -> CapInfo:
    """The English translation of `info_de`."""
    base = replace(
        info_de(),
        language="en-US",
        event="Large fire with smoke",
        headline="Smoke in the city centre: close windows and doors",
        description="A large fire in Königstraße is producing heavy smoke.",
        instruction="Keep windows and doors closed. Switch off ventilation.",
        areas=(area(description="Kaiserslautern, city centre"),),
    )
    return replace(base, **changes)


def alert(**changes: Any) -> CapAlert:
    """An Actual public alert of Kaiserslautern in German and English."""
    base = CapAlert(
        identifier="DE-RP-KL-2026-0001",
        sender=SENDER,
        sent=SENT,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=(info_de(), info_en()),
    )
    return replace(base, **changes)


def reference(identifier: str = "DE-RP-KL-2026-0001", minutes: int = 0) -> CapReference:
    """A reference to an earlier message of Kaiserslautern."""
    return CapReference(
        sender=SENDER, identifier=identifier, sent=SENT + timedelta(minutes=minutes)
    )


MOWAS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
    <identifier>DE-RP-KL-W-20261201-0007</identifier>
    <sender>https://www.kaiserslautern.de/warnung</sender>
    <sent>2026-12-01T16:30:00+01:00</sent>
    <status>Actual</status>
    <msgType>Update</msgType>
    <scope>Public</scope>
    <code>id:3f1c2a4e-0c1d-4b8e-9a55-7d2e61c0b001</code>
    <references>https://www.kaiserslautern.de/warnung,DE-RP-KL-W-20261201-0006,2026-12-01T15:00:00+01:00</references>
    <info>
        <language>de-DE</language>
        <category>Safety</category>
        <event>Gefahreninformation</event>
        <responseType>Shelter</responseType>
        <urgency>Immediate</urgency>
        <severity>Severe</severity>
        <certainty>Observed</certainty>
        <eventCode>
            <valueName>profile:DE-BBK-EVENTCODE:01.00</valueName>
            <value>BBK-EVC-040</value>
        </eventCode>
        <expires>2026-12-01T20:00:00+01:00</expires>
        <senderName>Stadt Kaiserslautern</senderName>
        <headline>Gasaustritt in Kaiserslautern-Betzenberg \N{EN DASH} Gebiet meiden</headline>
        <description>Bei Bauarbeiten in der Straße „Am Betzenberg“ ist Gas ausgetreten.
Die Feuerwehr ist vor Ort.</description>
        <instruction>Meiden Sie das Gebiet. Schließen Sie Fenster und Türen.
Folgen Sie den Anweisungen der Einsatzkräfte.</instruction>
        <web>https://www.kaiserslautern.de/warnung</web>
        <contact>Bürgertelefon 0631 365-0</contact>
        <parameter>
            <valueName>sender_langname</valueName>
            <value>Stadtverwaltung Kaiserslautern \N{EN DASH} Berufsfeuerwehr</value>
        </parameter>
        <area>
            <areaDesc>Stadt Kaiserslautern, Stadtteil Betzenberg</areaDesc>
            <polygon>49.4330,7.7600 49.4330,7.7800
                49.4230,7.7800 49.4230,7.7600 49.4330,7.7600</polygon>
            <geocode>
                <valueName>ARS</valueName>
                <value>073120000000</value>
            </geocode>
        </area>
    </info>
    <info>
        <language>en-US</language>
        <category>Safety</category>
        <event>Hazard information</event>
        <responseType>Shelter</responseType>
        <urgency>Immediate</urgency>
        <severity>Severe</severity>
        <certainty>Observed</certainty>
        <expires>2026-12-01T20:00:00+01:00</expires>
        <senderName>City of Kaiserslautern</senderName>
        <headline>Gas leak in Kaiserslautern-Betzenberg \N{EN DASH} avoid the area</headline>
        <description>Gas escaped during construction work in "Am Betzenberg".</description>
        <instruction>Avoid the area. Close windows and doors.</instruction>
        <area>
            <areaDesc>City of Kaiserslautern, Betzenberg district</areaDesc>
            <polygon>49.4330,7.7600 49.4330,7.7800 49.4230,7.7800 49.4230,7.7600
                49.4330,7.7600</polygon>
            <circle>49.4280,7.7700 0.8</circle>
            <geocode>
                <valueName>ARS</valueName>
                <value>073120000000</value>
            </geocode>
        </area>
    </info>
</alert>
""".encode()


def test_samples_are_valid_cap() -> None:
    """The shared samples pass the XSD and the rules, so failures elsewhere mean something."""
    validate(MOWAS_XML)
    assert from_xml(MOWAS_XML).msg_type == "Update"
    assert from_xml(to_xml(alert())) == alert()
