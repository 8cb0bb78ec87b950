"""The defect reports in the console over HTTP on both backends: who may see what, the inbox
and its filters and pages, the steps of the work (status with public or internal note,
assignment, merge, reopen), figures, export, and the catalogue; refusals change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from stadtkern.core import tenants
from stadtkern.db import Database
from stadtkern.maengelmelder import reports
from stadtkern.maengelmelder.mail import pending_mail
from stadtkern.maengelmelder.models import Report
from tests.conftest import TenantFixture
from tests.maengelmelder.conftest import LAT, LON
from tests.web.reports_town import ORIGIN, DefectTown, log_in, make_defect_town

INBOX = "/{slug}/console/reports"


@pytest.fixture
def town(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> DefectTown:
    return make_defect_town(client, database, make_tenant)


def _report(
    database: Database, town: DefectTown, code: str = "pothole", description: str = "Loch"
) -> int:
    with database.write() as session:
        tenant = tenants.to_ref(tenants.get_tenant(session=session, slug=town.slug))
        draft = reports.ReportDraft(
            service_code=code,
            lat=LAT,
            lon=LON,
            description=description,
            answers={"depth": "5"} if code == "pothole" else {},
            email="erika@example.org",
            source="web",
        )
        return reports.submit_report(session=session, tenant=tenant, draft=draft).id


def _stored(database: Database, report_id: int) -> Report:
    with database.read() as session:
        found = session.get(Report, report_id)
        assert found is not None
        session.expunge(found)
        return found


def test_roles(client: TestClient, town: DefectTown) -> None:
    inbox = INBOX.format(slug=town.slug)
    log_in(client, town.slug, town.viewer, f"/{town.slug}/console/health")
    assert "/console/reports" not in client.get(f"/{town.slug}/console/health").text
    assert client.get(f"{inbox}?lang=en").status_code == 403
    log_in(client, town.slug, town.handler, inbox)
    page = client.get(f"{inbox}?lang=en")
    assert page.status_code == 200
    assert 'aria-current="page">Defect reports' in page.text
    assert client.get(f"{inbox}/catalogue?lang=en").status_code == 403
    log_in(client, town.slug, town.defect_admin, f"{inbox}/catalogue")
    assert client.get(f"{inbox}/catalogue?lang=en").status_code == 200
    assert client.get(f"{inbox}?lang=en").status_code == 403
    client.cookies.clear()
    assert client.get(inbox, follow_redirects=False).status_code == 303


def test_inbox_filters_and_pages(client: TestClient, town: DefectTown, database: Database) -> None:
    light = _report(database, town, "streetlight")
    holes = [_report(database, town) for _ in range(51)]
    inbox = INBOX.format(slug=town.slug)
    log_in(client, town.slug, town.handler, inbox)
    lights = client.get(f"{inbox}?department=licht&lang=en").text
    assert f'/console/reports/{light}"' in lights
    assert f'/console/reports/{holes[0]}"' not in lights
    first = client.get(f"{inbox}?category=pothole&lang=en").text
    assert first.count("/console/reports/") - first.count("/console/reports/figures") >= 50
    assert "Older reports" in first
    assert f'/console/reports/{holes[0]}"' not in first
    second = client.get(f"{inbox}?category=pothole&page=2&lang=en").text
    assert f'/console/reports/{holes[0]}"' in second
    assert "Older reports" not in second
    assert "No reports match" in client.get(f"{inbox}?status=closed&lang=en").text


def test_status_notes_assignment_merge_reopen(
    client: TestClient, town: DefectTown, database: Database
) -> None:
    keeper, duplicate = _report(database, town), _report(database, town)
    page = f"{INBOX.format(slug=town.slug)}/{duplicate}"
    csrf = log_in(client, town.slug, town.handler, page)
    shown = client.get(f"{page}?lang=en").text
    assert "erika@example.org" in shown
    assert f'value="{keeper}"' in shown
    step = {"csrf": csrf, "detailed_status": "in_process", "note": "Kolonne 3 kommt",
            "visibility": "public"}  # fmt: skip
    assert (
        client.post(f"{page}/status", data=step, headers=ORIGIN, follow_redirects=False).status_code
        == 303
    )
    internal = {"csrf": csrf, "note": "Anwohner ruft an", "visibility": "internal"}
    assert client.post(f"{page}/status", data=internal, headers=ORIGIN).status_code == 200
    public = client.get(f"/{town.slug}/portal/reports/{duplicate}?lang=en").text
    assert "Kolonne 3 kommt" in public
    assert "Anwohner ruft an" not in public
    with database.read() as session:
        assert len(pending_mail(session=session, report=session.get(Report, duplicate))) == 1
    person = re.findall(r'<option value="(test-[0-9a-f]+)"', client.get(page).text)
    assert person
    assert (
        client.post(
            f"{page}/assign", data={"csrf": csrf, "assignee": person[0]}, headers=ORIGIN
        ).status_code
        == 200
    )
    assert _stored(database, duplicate).assignee == person[0]
    wrong = client.post(
        f"{page}/assign?lang=en", data={"csrf": csrf, "assignee": "Hacker"}, headers=ORIGIN
    )
    assert wrong.status_code == 422
    assert "Nothing was changed" in wrong.text
    assert _stored(database, duplicate).assignee == person[0]
    itself = client.post(
        f"{page}/merge", data={"csrf": csrf, "into": str(duplicate)}, headers=ORIGIN
    )
    assert itself.status_code == 422
    merged = client.post(f"{page}/merge", data={"csrf": csrf, "into": str(keeper)}, headers=ORIGIN)
    assert merged.status_code == 200
    assert _stored(database, duplicate).merged_into_id == keeper
    assert _stored(database, keeper).supporters == 1
    reopened = client.post(
        f"{page}/reopen", data={"csrf": csrf, "note": "Doch eigenes Loch"}, headers=ORIGIN
    )
    assert reopened.status_code == 200
    again = _stored(database, duplicate)
    assert again.status == "open"
    assert again.merged_into_id is None
    history = client.get(f"{page}?lang=en").text
    assert "Anwohner ruft an" in history
    assert "internal" in history


def test_forms_need_csrf_origin_and_role(
    client: TestClient, town: DefectTown, database: Database
) -> None:
    report_id = _report(database, town)
    page = f"{INBOX.format(slug=town.slug)}/{report_id}"
    csrf = log_in(client, town.slug, town.handler, page)
    step = {"csrf": csrf, "detailed_status": "rejected", "note": "x"}
    assert client.post(f"{page}/status", data=step).status_code == 403
    assert (
        client.post(f"{page}/status", data={**step, "csrf": "wrong"}, headers=ORIGIN).status_code
        == 403
    )
    csrf = log_in(client, town.slug, town.viewer, f"/{town.slug}/console/health")
    assert (
        client.post(f"{page}/status", data={**step, "csrf": csrf}, headers=ORIGIN).status_code
        == 403
    )
    assert _stored(database, report_id).detailed_status == "received"


def test_figures_and_export(client: TestClient, town: DefectTown, database: Database) -> None:
    _report(database, town, description='=HYPERLINK("http://evil")')
    inbox = INBOX.format(slug=town.slug)
    log_in(client, town.slug, town.handler, inbox)
    figures = client.get(f"{inbox}/figures?days=30&lang=en")
    assert figures.status_code == 200
    assert "Schlagloch" in figures.text
    export = client.get(f"/{town.slug}/maengelmelder/reports.csv?days=365")
    assert export.status_code == 200
    assert "'=HYPERLINK" in export.text


def test_catalogue(client: TestClient, town: DefectTown) -> None:
    base = f"{INBOX.format(slug=town.slug)}/catalogue"
    csrf = log_in(client, town.slug, town.defect_admin, base)
    made = client.post(
        f"{base}/departments",
        data={"csrf": csrf, "key": "gruen", "name": "Grünflächenamt", "email": "gruen@example.org"},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert made.status_code == 303
    category = {
        "csrf": csrf, "code": "playground", "name": "Spielplatz beschädigt", "group": "Grün",
        "department": "gruen", "expected_days": "7", "active": "on", "position": "5",
        "attributes": '[{"code": "device", "datatype": "singlevaluelist", "required": true,'
                      ' "values": [{"key": "swing", "name": "Schaukel"}]}]',
    }  # fmt: skip
    bad = client.post(
        f"{base}/categories?lang=en", data={**category, "attributes": "[{"}, headers=ORIGIN
    )
    assert bad.status_code == 422
    assert "not JSON" in bad.text
    nowhere = client.post(
        f"{base}/categories", data={**category, "department": "nope"}, headers=ORIGIN
    )
    assert nowhere.status_code == 422
    assert "playground" not in client.get(base).text
    assert client.post(f"{base}/categories", data=category, headers=ORIGIN).status_code == 200
    listing = client.get(f"{base}?lang=en").text
    assert "Spielplatz beschädigt" in listing
    assert "Grünflächenamt" in listing
    form = client.get(f"/{town.slug}/portal/reports/new").text
    assert '<optgroup label="Grün">' in form
    edit = client.get(f"{base}/categories/playground?lang=en")
    assert edit.status_code == 200
    assert "swing" in edit.text
    hidden = {**category, "name": "Spielplatz", "active": ""}
    assert (
        client.post(f"{base}/categories/playground", data=hidden, headers=ORIGIN).status_code == 200
    )
    assert 'value="playground"' not in client.get(f"/{town.slug}/portal/reports/new").text
