"""Public warning feeds: Atom 1.0 structure and the JSON Feed with CAP facts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from lxml import etree

from stadtkern.warning.cap import CAP_MEDIA_TYPE, CapAlert
from stadtkern.warning.feed import ATOM_NAMESPACE, atom_feed, json_feed
from tests.warning.test_cap_samples import CET, SENT, alert, area, info_de, info_en, reference

NS = {"atom": ATOM_NAMESPACE}
BASE = "https://stadtkern.example/kaiserslautern/warning"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def cap_url(alert: CapAlert) -> str:
    """Where the test town serves an alert's CAP XML."""
    return f"{BASE}/cap/{alert.identifier}.xml"


def town_alerts() -> list[CapAlert]:
    """A first alert, its update, a cancel without info, plus two that must not be public."""
    first = alert()
    update = alert(
        identifier="DE-RP-KL-2026-0002",
        msg_type="Update",
        sent=SENT + timedelta(minutes=20),
        references=(reference(),),
        infos=(info_de(headline="Update: Rauch zieht nach Osten"), info_en()),
    )
    cancel = alert(
        identifier="DE-RP-KL-2026-0003",
        msg_type="Cancel",
        sent=SENT + timedelta(hours=2),
        references=(reference(), reference("DE-RP-KL-2026-0002", minutes=20)),
        infos=(),
    )
    restricted = alert(identifier="intern-1", scope="Restricted", restriction="Stab")
    draft = alert(identifier="entwurf-1", status="Draft")
    return [first, update, restricted, draft, cancel]


def build_atom() -> etree._Element:
    """The town's Atom feed, parsed."""
    xml = atom_feed(
        town_alerts(),
        feed_id="urn:uuid:7c1f0e39-4b7e-4c8e-9f61-0d2a3c4b5e6f",
        title="Warnungen der Stadt Kaiserslautern",
        self_url=f"{BASE}/feed.atom",
        alternate_url_of=cap_url,
        updated=SENT + timedelta(hours=2),
    )
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return etree.fromstring(xml)  # raises unless well-formed


def test_atom_feed_is_atom_with_the_required_elements() -> None:
    feed = build_atom()
    assert feed.tag == f"{{{ATOM_NAMESPACE}}}feed"
    assert feed.get(XML_LANG) == "de"
    for name in ("id", "title", "updated", "author/atom:name"):
        assert len(feed.findall(f"atom:{name}", NS)) == 1, name
    assert feed.findtext("atom:updated", namespaces=NS) == "2026-12-01T17:00:00+01:00"
    self_link = feed.find("atom:link[@rel='self']", NS)
    assert self_link is not None
    assert self_link.get("href") == f"{BASE}/feed.atom"
    entries = feed.findall("atom:entry", NS)
    assert len(entries) == 3
    for entry in entries:
        for name in ("id", "title", "updated", "summary", "author/atom:name"):
            assert len(entry.findall(f"atom:{name}", NS)) == 1, name
            assert entry.findtext(f"atom:{name}", namespaces=NS), name


def test_atom_entries_link_to_the_cap_message() -> None:
    entries = build_atom().findall("atom:entry", NS)
    ids = [entry.findtext("atom:id", namespaces=NS) for entry in entries]
    assert ids == [
        f"{BASE}/cap/DE-RP-KL-2026-0001.xml",
        f"{BASE}/cap/DE-RP-KL-2026-0002.xml",
        f"{BASE}/cap/DE-RP-KL-2026-0003.xml",
    ]
    for entry, entry_id in zip(entries, ids, strict=True):
        links = entry.findall("atom:link", NS)
        assert [(link.get("rel"), link.get("type"), link.get("href")) for link in links] == [
            ("alternate", CAP_MEDIA_TYPE, entry_id)
        ]


def test_atom_summary_is_the_german_headline() -> None:
    first, update, cancel = build_atom().findall("atom:entry", NS)
    headline = "Rauchentwicklung in der Innenstadt: Fenster und Türen schließen"
    assert first.findtext("atom:summary", namespaces=NS) == headline
    assert first.findtext("atom:title", namespaces=NS) == headline
    summary = first.find("atom:summary", NS)
    assert summary is not None
    assert summary.get(XML_LANG) == "de-DE"
    assert update.findtext("atom:summary", namespaces=NS) == "Update: Rauch zieht nach Osten"
    assert first.findtext("atom:updated", namespaces=NS) == "2026-12-01T15:00:00+01:00"
    assert first.findtext("atom:author/atom:name", namespaces=NS) == (
        "Stadtverwaltung Kaiserslautern, Feuerwehr"
    )
    assert [c.get("term") for c in first.findall("atom:category", NS)] == ["Fire", "Safety"]
    assert cancel.findtext("atom:title", namespaces=NS) == "Cancel DE-RP-KL-2026-0003"


def test_atom_feed_leaves_out_non_public_and_drafts() -> None:
    text = etree.tostring(build_atom())
    assert b"intern-1" not in text
    assert b"entwurf-1" not in text


def test_atom_feed_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        atom_feed(
            [],
            feed_id="urn:x",
            title="t",
            self_url="https://x",
            alternate_url_of=cap_url,
            updated=datetime(2026, 12, 1),  # noqa: DTZ001 - the point of the test
        )


def test_empty_atom_feed_is_still_complete() -> None:
    xml = atom_feed(
        [],
        feed_id="urn:x",
        title="Warnungen",
        self_url="https://x",
        alternate_url_of=cap_url,
        updated=SENT,
    )
    feed = etree.fromstring(xml)
    assert feed.findtext("atom:author/atom:name", namespaces=NS) == "Warnungen"
    assert feed.find("atom:entry", NS) is None


def build_json() -> dict[str, object]:
    """The town's JSON feed, after a trip through JSON text."""
    feed = json_feed(
        town_alerts(),
        title="Warnungen der Stadt Kaiserslautern",
        self_url=f"{BASE}/feed.json",
        home_page_url="https://www.kaiserslautern.de/warnung",
        alternate_url_of=cap_url,
    )
    loaded: dict[str, object] = json.loads(json.dumps(feed, ensure_ascii=False))
    return loaded


def test_json_feed_is_json_feed_1_1() -> None:
    feed = build_json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["language"] == "de"
    assert feed["feed_url"] == f"{BASE}/feed.json"
    items = feed["items"]
    assert isinstance(items, list)
    assert [item["_cap"]["identifier"] for item in items] == [
        "DE-RP-KL-2026-0001",
        "DE-RP-KL-2026-0002",
        "DE-RP-KL-2026-0003",
    ]
    for item in items:
        assert item["id"] == item["url"] == item["_cap"]["capUrl"]
        assert item["content_text"]


def test_json_item_carries_the_cap_facts() -> None:
    items = build_json()["items"]
    assert isinstance(items, list)
    first, update, cancel = items
    assert first["title"] == first["summary"] == info_de().headline
    assert first["content_text"] == info_de().description
    assert first["date_published"] == "2026-12-01T15:00:00+01:00"
    cap = first["_cap"]
    assert (cap["sent"], cap["status"], cap["msgType"]) == (
        "2026-12-01T15:00:00+01:00",
        "Actual",
        "Alert",
    )
    assert [info["language"] for info in cap["infos"]] == ["de-DE", "en-US"]
    german, english = cap["infos"]
    assert german["instruction"] == info_de().instruction
    assert english["headline"] == info_en().headline
    assert german["expires"] == "2026-12-01T18:00:00+01:00"
    assert german["areas"][0]["areaDesc"] == "Kaiserslautern, Innenstadt"
    assert german["areas"][0]["geocodes"] == [{"valueName": "ARS", "value": "073120000000"}]
    assert german["areas"][0]["geometry"]["type"] == "MultiPolygon"
    assert cap["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert update["_cap"]["references"] == [
        {
            "sender": "https://www.kaiserslautern.de/warnung",
            "identifier": "DE-RP-KL-2026-0001",
            "sent": "2026-12-01T15:00:00+01:00",
        }
    ]
    assert cancel["_cap"]["infos"] == []
    assert cancel["_cap"]["geometry"] is None


def test_json_geometry_is_lon_lat() -> None:
    only_polygon = alert(infos=(info_de(areas=(area(circles=()),)),))
    feed = json_feed([only_polygon], title="t", self_url="https://x", alternate_url_of=cap_url)
    geometry = feed["items"][0]["_cap"]["infos"][0]["areas"][0]["geometry"]
    assert geometry["type"] == "Polygon"
    assert geometry["coordinates"][0][0] == [7.75, 49.43]


def test_json_area_without_shapes_has_null_geometry() -> None:
    geocode_only = alert(infos=(info_de(areas=(area(polygons=(), circles=()),)),))
    feed = json_feed([geocode_only], title="t", self_url="https://x", alternate_url_of=cap_url)
    cap = feed["items"][0]["_cap"]
    assert cap["infos"][0]["areas"][0]["geometry"] is None
    assert cap["geometry"] is None


def test_feeds_keep_other_offsets() -> None:
    late = alert(sent=datetime(2026, 12, 1, 23, 30, tzinfo=CET))
    feed = json_feed([late], title="t", self_url="https://x", alternate_url_of=cap_url)
    assert feed["items"][0]["date_published"] == "2026-12-01T23:30:00+01:00"
