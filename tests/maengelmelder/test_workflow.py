"""Staff workflow through the staff API and the services: status and notes, assignment,
merging duplicates, reopening, supporters, nearby search, CSV export, figures, copying."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from stadtkern.core import tenants
from stadtkern.db import Database
from stadtkern.maengelmelder import search, workflow
from stadtkern.maengelmelder.mail import pending_mail
from stadtkern.maengelmelder.models import Report
from tests.maengelmelder.conftest import LAT, LON, Town, post_report


def _ref(database: Database, slug: str) -> tenants.TenantRef:
    with database.read() as session:
        found = tenants.find_active(session=session, slug=slug)
    assert found is not None
    return found


def _staff(client: TestClient, town: Town, report_id: str, action: str, body: object) -> dict:  # type: ignore[type-arg]
    answer = client.post(
        f"{town.staff}/reports/{report_id}/{action}", json=body, headers=Town.bearer(town.handler)
    )
    assert answer.status_code in (200, 201), answer.text
    result: dict = answer.json()  # type: ignore[type-arg]
    return result


def test_status_note_assignment_history(client: TestClient, town: Town, database: Database) -> None:
    """Each step is in the history; internal notes stay internal; the reporter gets mail."""
    report_id = post_report(client, town)
    _staff(client, town, report_id, "assignment", {"assignee": "M. Müller"})
    _staff(client, town, report_id, "updates", {"note": "Nur intern", "public": False})
    _staff(client, town, report_id, "updates", {"detailed_status": "in_process",
                                                "note": "Auftrag erteilt"})  # fmt: skip
    staff_view = client.get(
        f"{town.staff}/reports/{report_id}", headers=Town.bearer(town.handler)
    ).json()
    assert [step["kind"] for step in staff_view["history"]] == ["assign", "note", "status"]
    assert staff_view["assignee"] == "M. Müller"
    assert staff_view["reporter"]["email"] == "buerger@example.org"
    public = client.get(f"{town.v2}/requests/{report_id}.json").json()[0]
    assert public["status_notes"] == "Auftrag erteilt"
    with database.read() as session:
        report = session.get(Report, int(report_id))
        mails = pending_mail(session=session, report=report)
    assert len(mails) == 1
    assert mails[0].recipient == "buerger@example.org"
    assert "in Bearbeitung" in mails[0].subject
    assert "Auftrag erteilt" in mails[0].body


def test_roles_guard_the_staff_api(client: TestClient, town: Town) -> None:
    """An app key may not change a report; a handler may not change categories."""
    report_id = post_report(client, town)
    answer = client.post(
        f"{town.staff}/reports/{report_id}/updates",
        json={"detailed_status": "processed"},
        headers=Town.bearer(town.app),
    )
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    answer = client.post(
        f"{town.staff}/categories",
        json={"code": "x", "name": "X"},
        headers=Town.bearer(town.handler),
    )
    assert answer.status_code == 403


def test_merge_and_reopen(client: TestClient, town: Town) -> None:
    """A duplicate closes pointing at the keeper, which gains its support; reopen splits it."""
    keeper = post_report(client, town)
    duplicate = post_report(client, town)
    _staff(client, town, duplicate, "merge", {"into": int(keeper)})
    ext = "?extensions=true"
    dup = client.get(f"{town.v2}/requests/{duplicate}.json{ext}").json()[0]
    kept = client.get(f"{town.v2}/requests/{keeper}.json{ext}").json()[0]
    assert dup["status"] == "closed"
    assert dup["extended_attributes"]["merged_into"] == keeper
    assert kept["extended_attributes"]["supporters"] == 1
    log = client.get(f"/{town.slug}/admin/audit", headers=Town.bearer(town.admin)).json()
    merges = [entry for entry in log if entry["action"] == "maengelmelder.report.merge"]
    assert [entry["target"] for entry in merges] == [f"{duplicate}->{keeper}"]
    refused = client.post(
        f"{town.staff}/reports/{keeper}/merge",
        json={"into": int(duplicate)},
        headers=Town.bearer(town.handler),
    )
    assert refused.status_code == 409
    _staff(client, town, duplicate, "reopen", {"note": "Doch kein Duplikat"})
    dup = client.get(f"{town.v2}/requests/{duplicate}.json{ext}").json()[0]
    kept = client.get(f"{town.v2}/requests/{keeper}.json{ext}").json()[0]
    assert dup["status"] == "open"
    assert dup["extended_attributes"]["detailed_status"] == "IN_PROCESS"
    assert dup["extended_attributes"]["merged_into"] is None
    assert kept["extended_attributes"]["supporters"] == 0
    again = client.post(
        f"{town.staff}/reports/{duplicate}/reopen", json={}, headers=Town.bearer(town.handler)
    )
    assert again.status_code == 409


def test_support_counts_each_person_once(
    client: TestClient, town: Town, database: Database
) -> None:
    """ "Me too" from two people counts two; the same person again counts nothing."""
    report_id = int(post_report(client, town))
    tenant = _ref(database, town.slug)
    counts = []
    for who in ("a@example.org", "b@example.org", "A@example.org "):
        with database.write() as session:
            counts.append(
                workflow.support(
                    session=session, tenant=tenant, report_id=report_id, who=who, secret=b"k"
                )
            )
    assert counts == [1, 2, 2]


def test_nearby_open_reports_of_a_category(
    client: TestClient, town: Town, database: Database
) -> None:
    """Within 50 m and of the same category and open: found, nearest first."""
    near = post_report(client, town, lat=str(LAT + 0.0002))  # about 22 m north
    at = post_report(client, town)
    post_report(client, town, lat=str(LAT + 0.001))  # about 111 m: too far
    post_report(client, town, service_code="streetlight", **{"attribute[depth]": "",
                                                             "attribute[surface]": ""})  # fmt: skip
    closed = post_report(client, town, long=str(LON + 0.0001))
    _staff(client, town, closed, "updates", {"detailed_status": "rejected"})
    tenant = _ref(database, town.slug)
    with database.read() as session:
        found = search.nearby_open(
            session=session, tenant=tenant, service_code="pothole", lat=LAT, lon=LON
        )
    assert [str(view.report.id) for view in found] == [at, near]


def test_csv_export_escapes_formulas(client: TestClient, town: Town) -> None:
    """A description starting with = or + or @ is prefixed with ' in the CSV."""
    for text in ('=HYPERLINK("http://evil")', "+1+2", "@SUM(A1)", "-3", "Normal"):
        post_report(client, town, description=text)
    answer = client.get(f"{town.staff}/reports.csv", headers=Town.bearer(town.handler))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    descriptions = sorted(row["description"] for row in rows)
    assert descriptions == sorted(
        ['\'=HYPERLINK("http://evil")', "'+1+2", "'@SUM(A1)", "'-3", "Normal"]
    )
    assert "email" not in rows[0]


def test_response_time_figures(client: TestClient, town: Town) -> None:
    """Counts per category, with hours to the first answer and to closing."""
    first = post_report(client, town)
    post_report(client, town)
    _staff(client, town, first, "updates", {"detailed_status": "processed"})
    figures = client.get(f"{town.staff}/figures", headers=Town.bearer(town.handler)).json()
    assert len(figures) == 1
    pothole = figures[0]
    assert (pothole["service_code"], pothole["reports"]) == ("pothole", 2)
    assert (pothole["open"], pothole["closed"]) == (1, 1)
    assert pothole["median_close_hours"] is not None
    assert pothole["median_close_hours"] >= 0


def test_copy_to_a_new_town(
    client: TestClient, town: Town, platform_admin: dict[str, str], database: Database
) -> None:
    """tenant create --from copies departments and categories with the mapping, no reports."""
    post_report(client, town)
    answer = client.post(
        f"/admin/tenants/{town.slug}/copy",
        json={"slug": f"{town.slug}-b", "name": "Neustadt", "ars": "073120000000"},
        headers=platform_admin,
    )
    assert answer.status_code == 201, answer.text
    services = client.get(f"/{town.slug}-b/open311/v2/services.json").json()
    assert [s["service_code"] for s in services] == ["pothole", "streetlight"]
    definition = client.get(f"/{town.slug}-b/open311/v2/services/pothole.json").json()
    assert len(definition["attributes"]) == 6
    assert client.get(f"/{town.slug}-b/open311/v2/requests.json").json() == []
    copy = _ref(database, f"{town.slug}-b")
    with database.read() as session:
        assert search.count_reports(session=session, tenant=copy) == 0


def test_catalogue_conflicts_and_unknown_department(client: TestClient, town: Town) -> None:
    """A taken code is 409; a category naming an unknown department is 422."""
    headers = Town.bearer(town.defect_admin)
    again = client.post(
        f"{town.staff}/categories", json={"code": "pothole", "name": "X"}, headers=headers
    )
    assert again.status_code == 409
    unknown = client.post(
        f"{town.staff}/categories",
        json={"code": "dumping", "name": "Müll", "department": "nobody"},
        headers=headers,
    )
    assert unknown.status_code == 422
    bad_list = client.post(
        f"{town.staff}/categories",
        json={"code": "dumping", "name": "Müll",
              "attributes": [{"code": "kind", "datatype": "singlevaluelist"}]},
        headers=headers,
    )  # fmt: skip
    assert bad_list.status_code == 422
    changed = client.put(
        f"{town.staff}/categories/streetlight",
        json={"name": "Laterne", "active": False},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    codes = [s["service_code"] for s in client.get(f"{town.v2}/services.json").json()]
    assert codes == ["pothole"]
