"""The life of an alert through the HTTP API, on both storage backends: the two-person rule,
exercises with one person, de-duplication, rate limits, cancel and all-clear, bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stadtkern.core.models import AuditEntry
from stadtkern.db import Database
from stadtkern.warning.models import Alert, Delivery
from tests.warning.conftest import Staff
from tests.warning.helpers import alert_body, register_lanterns


def _post(client: TestClient, town: Staff, token: str, body: dict[str, Any]) -> Any:
    return client.post(f"/{town.slug}/warning/alerts", json=body, headers=town.bearer(token))


def _act(client: TestClient, town: Staff, token: str, identifier: str, action: str) -> Any:
    return client.post(
        f"/{town.slug}/warning/alerts/{identifier}/{action}", headers=town.bearer(token)
    )


def _deliveries(database: Database, identifier: str) -> int:
    with database.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .join(Alert, Alert.id == Delivery.alert_id)
                .where(Alert.identifier == identifier)
            )
            or 0
        )


def test_real_alert_waits_for_a_second_person(client: TestClient, town: Staff) -> None:
    register_lanterns(client, town, 3)
    created = _post(client, town, town.issuer, alert_body())
    assert created.status_code == 201, created.text
    alert = created.json()
    assert alert["state"] == "pending_approval"
    assert alert["kind"] == "real"
    assert alert["targeted"] == 0
    assert "approve" in alert["links"]

    # The issuer is no approver; an issuer who is also an approver still may not approve
    # their own alert; admin implies no module role.
    assert _act(client, town, town.issuer, alert["identifier"], "approve").status_code == 403
    assert _act(client, town, town.admin, alert["identifier"], "approve").status_code == 403

    approved = _act(client, town, town.approver, alert["identifier"], "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "active"
    assert approved.json()["targeted"] == 3
    assert approved.json()["approvedBy"] is not None
    # A second approval changes nothing.
    assert _act(client, town, town.approver, alert["identifier"], "approve").status_code == 409


def test_one_person_cannot_approve_their_own_alert(
    client: TestClient, town: Staff, database: Database
) -> None:
    from tests.conftest import issue_token

    both = issue_token(
        database, tenant=town.slug, roles=["viewer", "warning_issuer", "warning_approver"]
    )
    register_lanterns(client, town, 1)
    alert = _post(client, town, both, alert_body()).json()
    refused = _act(client, town, both, alert["identifier"], "approve")
    assert refused.status_code == 403
    assert "two-person" in refused.json()["detail"]
    assert _deliveries(database, alert["identifier"]) == 0


def test_exercise_needs_one_person_and_goes_out_at_once(
    client: TestClient, town: Staff, database: Database
) -> None:
    register_lanterns(client, town, 4)
    created = _post(client, town, town.issuer, alert_body("Exercise"))
    assert created.status_code == 201, created.text
    assert created.json()["state"] == "active"
    assert created.json()["kind"] == "exercise"
    assert _deliveries(database, created.json()["identifier"]) == 4
    with database.read() as session:
        channels = list(
            session.scalars(
                select(Delivery.channel)
                .join(Alert, Alert.id == Delivery.alert_id)
                .where(Alert.identifier == created.json()["identifier"])
            )
        )
    # Commands of exercises go out on the exercise channel (its key and topics) only.
    assert channels == ["exercise"] * 4


def test_roles_without_issuer_cannot_create(client: TestClient, town: Staff) -> None:
    for token in (town.admin, town.operator, town.viewer, town.approver):
        assert _post(client, town, token, alert_body("Exercise")).status_code == 403
    assert client.post(f"/{town.slug}/warning/alerts", json=alert_body()).status_code == 401


def test_the_same_alert_fifty_times_at_once_sounds_once(
    client: TestClient, town: Staff, database: Database
) -> None:
    register_lanterns(client, town, 2)
    body = alert_body("Exercise")
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: _post(client, town, town.issuer, body), range(50)))
    assert sorted({a.status_code for a in answers}) in ([200, 201], [201])
    assert [a.status_code for a in answers].count(201) == 1
    identifiers = {a.json()["identifier"] for a in answers}
    assert len(identifiers) == 1
    assert _deliveries(database, identifiers.pop()) == 2


def test_dispatches_per_minute_are_limited(client: TestClient, town: Staff) -> None:
    register_lanterns(client, town, 1)
    codes = []
    for index in range(10):
        answer = _post(client, town, town.issuer, alert_body("Exercise", event=f"Übung {index}"))
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["identifier"])
    limited = _post(client, town, town.issuer, alert_body("Exercise", event="Übung 11"))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    # Stopping is never limited.
    assert _act(client, town, town.issuer, codes[0], "cancel").status_code == 200


def test_cancel_stops_the_lanterns_and_refers_to_the_original(
    client: TestClient, town: Staff, database: Database
) -> None:
    register_lanterns(client, town, 3)
    alert = _post(client, town, town.issuer, alert_body()).json()
    _act(client, town, town.approver, alert["identifier"], "approve")
    cancelled = _act(client, town, town.issuer, alert["identifier"], "cancel")
    assert cancelled.status_code == 200, cancelled.text
    follow = cancelled.json()
    assert follow["msgType"] == "Cancel"
    assert follow["references"] == alert["identifier"]
    assert follow["targeted"] == 3
    original = client.get(
        f"/{town.slug}/warning/alerts/{alert['identifier']}", headers=town.headers
    ).json()
    assert original["state"] == "cancelled"
    assert "cancel" not in original["links"]
    assert _act(client, town, town.issuer, alert["identifier"], "cancel").status_code == 409
    cap = client.get(
        f"/{town.slug}/warning/alerts/{follow['identifier']}/cap", headers=town.headers
    )
    assert b"<msgType>Cancel</msgType>" in cap.content
    assert alert["identifier"].encode() in cap.content


def test_all_clear_is_an_update_with_the_steady_tone(client: TestClient, town: Staff) -> None:
    register_lanterns(client, town, 2)
    alert = _post(client, town, town.issuer, alert_body("Exercise")).json()
    assert "allClear" in alert["links"]
    cleared = _act(client, town, town.approver, alert["identifier"], "all-clear")
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["msgType"] == "Update"
    assert cleared.json()["signal"] == "all_clear"
    assert cleared.json()["targeted"] == 2
    cap = client.get(
        f"/{town.slug}/warning/alerts/{cleared.json()['identifier']}/cap", headers=town.headers
    )
    assert b"<responseType>AllClear</responseType>" in cap.content


def test_a_pending_alert_can_be_rejected_and_then_not_approved(
    client: TestClient, town: Staff
) -> None:
    alert = _post(client, town, town.issuer, alert_body()).json()
    rejected = client.post(
        f"/{town.slug}/warning/alerts/{alert['identifier']}/reject",
        json={"reason": "falscher Bezirk"},
        headers=town.bearer(town.approver),
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "rejected"
    assert _act(client, town, town.approver, alert["identifier"], "approve").status_code == 409


def test_update_supersedes_after_its_own_approval(client: TestClient, town: Staff) -> None:
    register_lanterns(client, town, 2)
    alert = _post(client, town, town.issuer, alert_body()).json()
    _act(client, town, town.approver, alert["identifier"], "approve")
    update = _post(
        client,
        town,
        town.issuer,
        alert_body(msgType="Update", references=alert["identifier"], repeat=2),
    ).json()
    assert update["state"] == "pending_approval"
    approved = _act(client, town, town.approver, update["identifier"], "approve").json()
    assert approved["state"] == "active"
    first = client.get(f"/{town.slug}/warning/alerts/{alert['identifier']}", headers=town.headers)
    assert first.json()["state"] == "superseded"


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, town: Staff, database: Database
) -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [
            [[7.76, 49.44], [7.78, 49.45], [7.78, 49.44], [7.76, 49.45], [7.76, 49.44]]
        ],
    }
    bad_bodies = [
        alert_body(area={"zones": ["gibt-es-nicht"]}),
        alert_body(area={"polygons": [bow_tie]}),
        alert_body(area={}),
        alert_body(status="Echt"),
        alert_body(msgType="Update"),  # no references
        alert_body(msgType="Cancel", references="unknown-identifier"),
        alert_body(repeat=9),
        alert_body(headline={"en": "English only"}),
    ]
    for body in bad_bodies:
        answer = _post(client, town, town.issuer, body)
        assert answer.status_code in (404, 422), (body, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    with database.read() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Alert)
                .where(Alert.sender == f"stadtkern@{town.slug}")
            )
            == 0
        )


def test_every_step_is_in_the_audit_log(
    client: TestClient, town: Staff, database: Database
) -> None:
    register_lanterns(client, town, 1)
    alert = _post(client, town, town.issuer, alert_body()).json()
    _act(client, town, town.approver, alert["identifier"], "approve")
    _act(client, town, town.issuer, alert["identifier"], "cancel")
    with database.read() as session:
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.tenant_slug == town.slug, AuditEntry.action.like("warning.alert.%")
                )
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "warning.alert.create",
        "warning.alert.approve",
        "warning.alert.dispatch",
        "warning.alert.cancelled",
    ]


def test_another_town_sees_none_of_it(client: TestClient, make_town: Any) -> None:
    first, second = make_town(), make_town()
    alert = _post(client, first, first.issuer, alert_body()).json()
    path = f"/{first.slug}/warning/alerts/{alert['identifier']}"
    assert client.get(path, headers=second.headers).status_code == 404
    assert (
        client.get(f"/{second.slug}/warning/alerts/{alert['identifier']}", headers=second.headers)
    ).status_code == 404
    assert _act(client, second, second.approver, alert["identifier"], "approve").status_code == 404


def test_pending_alerts_are_rejected_not_cancelled_and_closed_ones_can_be_issued_again(
    client: TestClient, town: Staff
) -> None:
    register_lanterns(client, town, 1)
    pending = _post(client, town, town.issuer, alert_body()).json()
    assert "cancel" not in pending["links"]
    assert _act(client, town, town.issuer, pending["identifier"], "cancel").status_code == 409
    exercise = _post(client, town, town.issuer, alert_body("Exercise")).json()
    assert _act(client, town, town.issuer, exercise["identifier"], "cancel").status_code == 200
    again = _post(client, town, town.issuer, alert_body("Exercise"))
    assert again.status_code == 201  # the cancelled one is closed: a new alert
    assert again.json()["identifier"] != exercise["identifier"]
