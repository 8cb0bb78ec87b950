"""Notices reach the reporter through a real SMTP server (aiosmtpd as the sink), survive an
unreachable server, and personal data goes after the retention period once a report closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from stadtkern.db import Database
from stadtkern.maengelmelder.mail import deliver_due, pending_mail
from stadtkern.maengelmelder.models import Mail, Report, Reporter
from stadtkern.maengelmelder.retention import purge_personal_data
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from tests.conftest import free_port
from tests.maengelmelder.conftest import Town, post_report


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    """An SMTP server on a free port that keeps what it receives."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def _settings(port: int) -> MaengelmelderSettings:
    return MaengelmelderSettings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="amt@example.org")


def _mine(database: Database, report_id: str) -> list[Mail]:
    with database.read() as session:
        return pending_mail(session=session, report=session.get(Report, int(report_id)))


def _close(client: TestClient, town: Town, report_id: str, note: str = "Erledigt") -> None:
    answer = client.post(
        f"{town.staff}/reports/{report_id}/updates",
        json={"detailed_status": "processed", "note": note},
        headers=Town.bearer(town.handler),
    )
    assert answer.status_code == 201, answer.text


def test_status_change_mails_the_reporter(
    client: TestClient, town: Town, database: Database, smtp: tuple[Sink, int]
) -> None:
    """The notice is sent over SMTP and then leaves the outbox."""
    sink, port = smtp
    report_id = post_report(client, town, email="erika@example.org")
    _close(client, town, report_id, "Das Loch ist geflickt.")
    assert len(_mine(database, report_id)) == 1
    while deliver_due(database, _settings(port), datetime.now(UTC)):
        pass
    assert _mine(database, report_id) == []
    mine = [m for m in sink.messages if m["To"] == "erika@example.org"]
    assert len(mine) == 1
    assert mine[0]["From"] == "amt@example.org"
    assert f"Nr. {report_id}" in mine[0]["Subject"]
    assert "Das Loch ist geflickt." in mine[0].get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_unreachable_server_keeps_the_notice(
    client: TestClient, town: Town, database: Database, smtp: tuple[Sink, int]
) -> None:
    """With the server down the notice stays, with the reason; it goes once the server is up."""
    sink, port = smtp
    report_id = post_report(client, town, email="max@example.org")
    _close(client, town, report_id)
    now = datetime.now(UTC)
    assert deliver_due(database, _settings(free_port()), now) == 0
    [waiting] = _mine(database, report_id)
    assert waiting.attempts == 1
    assert waiting.last_error
    assert waiting.next_attempt_at > now
    later = now + timedelta(minutes=10)
    while deliver_due(database, _settings(port), later):
        pass
    assert _mine(database, report_id) == []
    assert [m["To"] for m in sink.messages].count("max@example.org") == 1


def test_retention_purge(client: TestClient, town: Town, database: Database) -> None:
    """Personal data of reports closed longer ago than the retention goes; open ones stay."""
    closed = post_report(client, town, email="weg@example.org")
    still_open = post_report(client, town, email="bleibt@example.org")
    _close(client, town, closed)
    now = datetime.now(UTC)
    with database.write() as session:
        assert purge_personal_data(session=session, now=now, retention_days=30) == 0
    with database.write() as session:
        purged = purge_personal_data(
            session=session, now=now + timedelta(days=31), retention_days=30
        )
    assert purged >= 1
    with database.read() as session:
        assert session.get(Reporter, int(closed)) is None
        assert session.get(Reporter, int(still_open)) is not None
        remaining = session.scalars(select(Mail.recipient)).all()
        assert "weg@example.org" not in remaining
    staff = client.get(f"{town.staff}/reports/{closed}", headers=Town.bearer(town.handler))
    assert staff.json()["reporter"] is None
    assert staff.json()["description"]  # the report itself stays
