"""The warning day and key rotation end to end with the reference firmware (both backends,
on the shared Mosquitto), and reports that lanterns did not sign."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from stadtkern.core.models import AuditEntry
from stadtkern.db import Database
from stadtkern.devices.lantern.protocol import (
    Ack,
    ack_topic,
    device_key_from_seed,
    sign_report,
)
from tests.mqtt.peers import Peer
from tests.warning.conftest import Staff
from tests.warning.fleet import fleet_for, running_fleet, wait_for
from tests.warning.helpers import alert_body, register_lanterns


def _report(client: TestClient, town: Staff, day: int) -> dict[str, object]:
    answer = client.get(f"/{town.slug}/warning/warning-days/{day}/report", headers=town.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_warning_day_tests_every_lantern_and_reports_each(
    client: TestClient, town: Staff, mosquitto_url: str
) -> None:
    codes = register_lanterns(client, town, 10)
    lanterns = fleet_for(client, town, codes)
    lanterns[3].faults.speaker_fault = True
    with running_fleet(mosquitto_url, town, lanterns):
        day = client.post(
            f"/{town.slug}/warning/warning-days",
            json={"scheduledFor": datetime.now(UTC).isoformat(), "note": "Warntag Dezember"},
            headers=town.bearer(town.issuer),
        )
        assert day.status_code == 201, day.text
        day_id = day.json()["id"]

        def answered() -> dict[str, object] | None:
            report = _report(client, town, day_id)
            figures = report.get("figures")
            done = isinstance(figures, dict) and figures["finished"] + figures["failed"] == 10
            return report if done else None

        report = wait_for(answered, "every lantern's answer")
    figures = report["figures"]
    assert isinstance(figures, dict)
    assert figures["finished"] == 9
    assert figures["confirmedRatio"] == 0.9
    assert report["targetMet"] is False
    rows = {row["lantern"]: row for row in report["lanterns"]}  # type: ignore[attr-defined]
    assert rows[codes[3]]["state"] == "failed"
    assert rows[codes[3]]["reason"] == "speaker_fault"
    csv = client.get(
        f"/{town.slug}/warning/warning-days/{day_id}/report?format=csv", headers=town.headers
    )
    assert csv.text.splitlines()[0] == "lantern,name,district,state,reason,startedAt,finishedAt"
    assert len(csv.text.splitlines()) == 11


def test_a_warning_day_cannot_be_set_in_the_past(client: TestClient, town: Staff) -> None:
    answer = client.post(
        f"/{town.slug}/warning/warning-days",
        json={"scheduledFor": "2020-01-01T10:00:00Z"},
        headers=town.bearer(town.issuer),
    )
    assert answer.status_code == 422
    naive = client.post(
        f"/{town.slug}/warning/warning-days",
        json={"scheduledFor": "2099-01-01T10:00:00"},
        headers=town.bearer(town.issuer),
    )
    assert naive.status_code == 422


def test_key_rotation_without_a_gap(client: TestClient, town: Staff, mosquitto_url: str) -> None:
    codes = register_lanterns(client, town, 3)
    lanterns = fleet_for(client, town, codes)
    keys_before = client.get(f"/{town.slug}/warning/keys", headers=town.headers).json()
    old = next(k["kid"] for k in keys_before if k["channel"] == "exercise")
    with running_fleet(mosquitto_url, town, lanterns):
        started = client.post(
            f"/{town.slug}/warning/keys/rotate", json={"channel": "exercise"}, headers=town.headers
        ).json()
        new = started["kid"]
        wait_for(
            lambda: all(new in lantern.state.keys["exercise"] for lantern in lanterns),
            "the new key on every lantern",
        )
        finished = client.post(
            f"/{town.slug}/warning/keys/activate",
            json={"channel": "exercise"},
            headers=town.headers,
        )
        assert finished.status_code == 200, finished.text
        wait_for(
            lambda: all(old not in lantern.state.keys["exercise"] for lantern in lanterns),
            "the old key gone from every lantern",
        )
        exercise = client.post(
            f"/{town.slug}/warning/alerts",
            json=alert_body("Exercise"),
            headers=town.bearer(town.issuer),
        ).json()
        wait_for(
            lambda: (
                client.get(
                    f"/{town.slug}/warning/alerts/{exercise['identifier']}", headers=town.headers
                ).json()["coverage"]["finished"]
                == 3
            ),
            "the exercise, signed by the new key, played",
        )
    keys_after = client.get(f"/{town.slug}/warning/keys", headers=town.headers).json()
    assert {k["kid"] for k in keys_after if k["channel"] == "exercise"} == {new}


def test_reports_not_signed_by_the_lantern_change_nothing(
    client: TestClient, town: Staff, database: Database, mosquitto_url: str
) -> None:
    codes = register_lanterns(client, town, 1)
    alert = client.post(
        f"/{town.slug}/warning/alerts",
        json=alert_body("Exercise"),
        headers=town.bearer(town.issuer),
    ).json()
    deliveries = client.get(
        f"/{town.slug}/warning/alerts/{alert['identifier']}/deliveries", headers=town.headers
    ).json()
    assert deliveries[0]["state"] == "targeted"
    forged = Ack(
        lantern=codes[0],
        seq=1,
        at=datetime.now(UTC),
        command=None,
        alert=alert["identifier"],
        counter=None,
        channel="exercise",
        state="finished",
        reason=None,
    )
    # Signed with a key that is not the lantern's: an attacker on the broker.
    envelope = sign_report(forged, private_key=device_key_from_seed(b"attacker"))
    platform = client.app.state.platform  # type: ignore[attr-defined]
    desk = platform.contexts["warning"].extras["reports"]
    dropped_before = desk.totals.dropped
    peer = Peer(mosquitto_url)
    peer.connect()
    try:
        peer.publish(f"{town.slug}/{ack_topic(codes[0])}", envelope)
        peer.publish(f"{town.slug}/{ack_topic(codes[0])}", b"not even an envelope")
    finally:
        peer.close()
    wait_for(lambda: desk.totals.dropped >= dropped_before + 2, "both forged reports dropped")
    deliveries = client.get(
        f"/{town.slug}/warning/alerts/{alert['identifier']}/deliveries", headers=town.headers
    ).json()
    assert deliveries[0]["state"] == "targeted"
    with database.read() as session:
        refused = session.scalars(
            select(AuditEntry).where(
                AuditEntry.tenant_slug == town.slug, AuditEntry.action == "warning.lantern.refused"
            )
        ).all()
    assert refused == []
