"""Every Open311 resource on the wire, in JSON and XML, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.maengelmelder.conftest import LAT, LON, Town, post_report

FORMATS = ("json", "xml")


def xml(answer: object) -> etree._Element:
    """The parsed XML document of an answer (checked to be XML)."""
    assert answer.headers["content-type"].startswith("text/xml")  # type: ignore[attr-defined]
    return etree.fromstring(answer.content)  # type: ignore[attr-defined]


def test_discovery(client: TestClient, town: Town) -> None:
    """discovery.json and .xml name the endpoint, the specification and both formats."""
    body = client.get(f"{town.v2}/discovery.json").json()
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith(f"/{town.slug}/open311/v2")
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    root = xml(client.get(f"{town.v2}/discovery.xml"))
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/type") == "production"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services(client: TestClient, town: Town) -> None:
    """services lists the categories with group, keywords and metadata."""
    services = client.get(f"{town.v2}/services.json").json()
    assert [s["service_code"] for s in services] == ["pothole", "streetlight"]
    pothole = services[0]
    assert pothole == {
        "service_code": "pothole",
        "service_name": "Schlagloch",
        "description": "Schäden an Fahrbahn oder Gehweg",
        "metadata": True,
        "type": "realtime",
        "keywords": "Straße,Loch",
        "group": "Straße",
    }
    assert services[1]["metadata"] is False
    root = xml(client.get(f"{town.v2}/services.xml"))
    assert root.tag == "services"
    first = root.find("service")
    assert first is not None
    assert [child.tag for child in first] == [
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
    ]  # fmt: skip
    assert first.findtext("metadata") == "true"


def test_service_definition_has_every_datatype(client: TestClient, town: Town) -> None:
    """The definition lists attributes of all six datatypes in order, lists with values."""
    body = client.get(f"{town.v2}/services/pothole.json").json()
    assert body["service_code"] == "pothole"
    kinds = [a["datatype"] for a in body["attributes"]]
    assert kinds == ["number", "singlevaluelist", "multivaluelist", "datetime", "string", "text"]
    surface = body["attributes"][1]
    assert surface["values"] == [
        {"key": "asphalt", "name": "Asphalt"},
        {"key": "cobble", "name": "Pflaster"},
    ]
    assert body["attributes"][0]["required"] is True
    root = xml(client.get(f"{town.v2}/services/pothole.xml"))
    assert root.tag == "service_definition"
    values = root.findall("attributes/attribute[code='surface']/values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("asphalt", "Asphalt"),
        ("cobble", "Pflaster"),
    ]


@pytest.mark.parametrize("kind", FORMATS)
def test_post_then_token_then_request(client: TestClient, town: Town, kind: str) -> None:
    """POST answers id and token; the token leads to the id; the request reads back."""
    form = {
        "api_key": town.app,
        "service_code": "pothole",
        "lat": str(LAT),
        "long": str(LON),
        "description": "Loch <b>tief</b>",
        "attribute[depth]": "9.5",
        "attribute[hazards][]": "bike",
        "email": "a@example.org",
        "jurisdiction_id": town.slug,
    }
    answer = client.post(f"{town.v2}/requests.{kind}", data=form)
    assert answer.status_code == 200, answer.text
    if kind == "json":
        created = answer.json()[0]
        request_id, token = created["service_request_id"], created["token"]
    else:
        root = xml(answer)
        assert root.tag == "service_requests"
        request_id = root.findtext("request/service_request_id")
        token = root.findtext("request/token")
    assert request_id
    assert token
    by_token = client.get(f"{town.v2}/tokens/{token}.json").json()
    assert by_token == [{"service_request_id": request_id, "token": token}]
    token_xml = xml(client.get(f"{town.v2}/tokens/{token}.xml"))
    assert token_xml.findtext("request/service_request_id") == request_id
    one = client.get(f"{town.v2}/requests/{request_id}.json").json()
    assert len(one) == 1
    report = one[0]
    assert report["status"] == "open"
    assert report["service_code"] == "pothole"
    assert report["service_name"] == "Schlagloch"
    assert report["description"] == "Loch tief"  # markup stripped
    assert report["agency_responsible"] == "Tiefbauamt"
    assert report["lat"] == LAT
    assert report["long"] == LON
    requested = datetime.fromisoformat(report["requested_datetime"])
    expected = datetime.fromisoformat(report["expected_datetime"])
    assert expected - requested == timedelta(days=14)
    assert "email" not in report
    one_xml = xml(client.get(f"{town.v2}/requests/{request_id}.xml"))
    assert one_xml.tag == "service_requests"
    assert one_xml.findtext("request/service_request_id") == request_id
    assert one_xml.findtext("request/long") == str(LON)


def test_request_filters(client: TestClient, town: Town) -> None:
    """service_request_id list, service_code, status, dates, bbox, radius, q, paging."""
    first = post_report(client, town, description="Loch am Markt")
    second = post_report(client, town, description="Riss im Radweg", lat=str(LAT + 0.01))
    light = post_report(
        client, town, service_code="streetlight", description="Lampe aus", **{
            "attribute[depth]": "", "attribute[surface]": ""}
    )  # fmt: skip

    def ids(**params: str) -> list[str]:
        answer = client.get(f"{town.v2}/requests.json", params=params)
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    assert ids() == [light, second, first]  # newest first
    assert ids(service_request_id=f"{first},{light}") == [first, light]
    assert ids(service_code="streetlight") == [light]
    assert ids(service_code="pothole,streetlight") == [light, second, first]
    assert ids(status="open") == [light, second, first]
    assert ids(status="closed") == []
    assert ids(status="received") == [light, second, first]
    assert ids(detailed_status="in_process") == []
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(start_date=future) == []
    assert ids(end_date=future) == [light, second, first]
    box = f"{LON - 0.001},{LAT - 0.001},{LON + 0.001},{LAT + 0.001}"
    assert ids(bbox=box) == [light, first]
    assert ids(lat=str(LAT + 0.01), long=str(LON), radius="50") == [second]
    assert ids(q="radweg") == [second]
    assert ids(q="%") == []
    assert ids(page_size="2") == [light, second]
    assert ids(page_size="2", page="2") == [first]
    assert ids(updated_after=future) == []
    root = xml(client.get(f"{town.v2}/requests.xml", params={"service_code": "streetlight"}))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [light]


def test_extensions_show_detailed_status(client: TestClient, town: Town) -> None:
    """extensions=true adds extended_attributes with the detailed status and supporters."""
    request_id = post_report(client, town)
    body = client.get(f"{town.v2}/requests/{request_id}.json?extensions=true").json()[0]
    assert body["extended_attributes"] == {
        "detailed_status": "RECEIVED",
        "supporters": 0,
        "merged_into": None,
    }


def test_servicerequestupdates(client: TestClient, town: Town) -> None:
    """Public status changes and notes appear; internal notes do not."""
    request_id = post_report(client, town)
    staff = Town.bearer(town.handler)
    for body in (
        {"detailed_status": "in_process", "note": "Wir schauen es uns an."},
        {"note": "Kolonne 3 fragen", "public": False},
        {"detailed_status": "processed", "note": "Geflickt."},
    ):
        answer = client.post(f"{town.staff}/reports/{request_id}/updates", json=body, headers=staff)
        assert answer.status_code == 201, answer.text
    updates = client.get(f"{town.v2}/servicerequestupdates.json").json()
    assert [(u["status"], u["description"]) for u in updates] == [
        ("open", "Wir schauen es uns an."),
        ("closed", "Geflickt."),
    ]
    assert updates[1]["extended_attributes"] == {"detailed_status": "PROCESSED"}
    root = xml(client.get(f"{town.v2}/servicerequestupdates.xml"))
    assert root.tag == "service_request_updates"
    assert [u.findtext("service_request_id") for u in root.findall("request_update")] == [
        request_id,
        request_id,
    ]
    report = client.get(f"{town.v2}/requests/{request_id}.json").json()[0]
    assert report["status"] == "closed"
    assert report["status_notes"] == "Geflickt."


def test_feed_of_an_area(client: TestClient, town: Town) -> None:
    """The Atom feed lists the reports inside the box only."""
    inside = post_report(client, town, description="Im Kasten")
    post_report(client, town, lat=str(LAT + 0.1), description="Draußen")
    box = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    answer = client.get(f"/{town.slug}/open311/feed.atom", params={"bbox": box})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    root = etree.fromstring(answer.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    links = [e.get("href") for e in root.findall("a:entry/a:link", ns)]
    assert len(links) == 1
    assert links[0].endswith(f"/requests/{inside}.json")
