"""The defect pages in Chromium: every page of the form and of the console in German and
English at desktop and phone size, clean and accessible; and end to end, a citizen on a phone
reports a pothole with a photo, staff change its status with a public note, and the citizen
receives the e-mail through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from PIL import Image

from stadtkern.core import tenants
from stadtkern.core.schemas import TenantCreate
from stadtkern.db import Database, migrations
from stadtkern.demo.geography import boundary_geojson, load_town
from stadtkern.maengelmelder import catalogue, photos, reports
from stadtkern.maengelmelder.models import Photo, Report
from stadtkern.maengelmelder.schemas import CategoryCreate, DepartmentCreate
from stadtkern.modules import discover_modules
from tests.conftest import free_port, issue_token, make_settings, serving
from tests.maengelmelder.conftest import LAT, LIGHT, LON, POTHOLE
from tests.maengelmelder.images import jpeg_with_gps
from tests.web.conftest import AXE_SOURCE, SCREENSHOTS, VIEWPORTS, WCAG_21_AA

TOWN = "maengelstadt"


class Sink:
    """Keeps every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@dataclass
class DefectSite:
    """A platform of its own (its SMTP settings point at the sink), its keys and a report."""

    base: str
    database: Database
    handler: str
    defect_admin: str
    report_id: int
    sink: Sink


def _town(database: Database) -> int:
    """The town with its catalogue and one report with a photo; the report's id."""
    with database.write() as session:
        made = tenants.create_tenant(
            session=session,
            tenant_create=TenantCreate(
                slug=TOWN, name="Mängelstadt", ars="073120000000",
                boundary=boundary_geojson(load_town("kaiserslautern")),
                modules=["maengelmelder", "web"],
            ),
            installed=discover_modules(None),
            actor="test",
        )  # fmt: skip
        town = tenants.to_ref(made)
        for key, name in (("tiefbau", "Tiefbauamt"), ("licht", "Stadtwerke Licht")):
            catalogue.create_department(
                session=session, tenant=town, department_create=DepartmentCreate(key=key, name=name)
            )
        for body in (POTHOLE, LIGHT):
            catalogue.create_category(
                session=session, tenant=town, category_create=CategoryCreate.model_validate(body)
            )
        clean = photos.clean_photo(jpeg_with_gps(), max_bytes=1_000_000, max_side=2048)
        photo = photos.store_photo(session=session, tenant=town, photo=clean)
        draft = reports.ReportDraft(
            service_code="pothole", lat=LAT, lon=LON, address="Stiftsplatz 1",
            description="Tiefes Loch", answers={"depth": "8"}, email="max@example.org",
            source="web",
        )  # fmt: skip
        return reports.submit_report(
            session=session, tenant=town, draft=draft, photo_id=photo.id
        ).id


@pytest.fixture(scope="module")
def defect_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DefectSite]:
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    directory: Path = tmp_path_factory.mktemp("reports")
    url = f"sqlite:///{directory / 'reports.sqlite'}"
    port = free_port()
    settings = make_settings(
        url, "embedded", port=port,
        module_settings={"maengelmelder": {"smtp_host": "127.0.0.1", "smtp_port": smtp.port,
                                           "smtp_from": "amt@example.org", "tick_seconds": 0.2}},
    )  # fmt: skip
    settings.mqtt.embedded_bind = f"127.0.0.1:{free_port()}"
    database = Database(url)
    migrations.upgrade(database)
    report_id = _town(database)
    handler = issue_token(database, tenant=TOWN, roles=["viewer", "defect_handler"])
    admin = issue_token(database, tenant=TOWN, roles=["viewer", "defect_admin"])
    try:
        with serving(settings) as base:
            yield DefectSite(base, database, handler, admin, report_id, sink)
    finally:
        smtp.stop()
        database.dispose()


def _watched(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url} {r.failure}"))
    page.on(
        "response", lambda r: problems.append(f"{r.url} {r.status}") if r.status >= 400 else None
    )
    return problems


def _checked(page: Any, name: str) -> list[str]:
    """Screenshots at both sizes, axe's WCAG 2.1 A/AA violations, and horizontal scrolling."""
    found = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(200)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)
        page.evaluate(AXE_SOURCE + "\n;0")
        report = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
        )
        found += [
            f"{viewport}: axe {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in report["violations"]
        ]
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size["width"]:
            found.append(f"{viewport}: {width} px wide")
    return found


def _logged_in(
    browser: Any, site: DefectSite, path: str, token: str, language: str
) -> tuple[Any, list[str]]:
    """A page logged in through the form straight to `path` in `language` (never the live
    overview, and no second load that would abort the first one's map), with its problems."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="de-DE")
    context.add_cookies([{"name": "stadtkern_lang", "value": language, "url": site.base}])
    page = context.new_page()
    problems = _watched(page)
    page.goto(f"{site.base}/{TOWN}/console/login?{urlencode({'next': path})}")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.wait_for_load_state("networkidle")
    return page, problems


CHECK = f"/{TOWN}/portal/reports/check?service_code=pothole&lat={LAT}&long={LON + 0.0002}"
PORTAL = {
    "form": (f"/{TOWN}/portal/reports/new", "#report-map[data-ready]"),
    "check": (CHECK, None),
    "list": (f"/{TOWN}/portal/reports", "#reports-map[data-ready]"),
    "status": (f"/{TOWN}/portal/reports/{{id}}", "#report-point[data-ready]"),
    "privacy": (f"/{TOWN}/portal/reports/privacy", None),
}
CONSOLE = {
    "inbox": (f"/{TOWN}/console/reports", "handler"),
    "report": (f"/{TOWN}/console/reports/{{id}}", "handler"),
    "figures": (f"/{TOWN}/console/reports/figures", "handler"),
    "catalogue": (f"/{TOWN}/console/reports/catalogue", "admin"),
    "category": (f"/{TOWN}/console/reports/catalogue/categories/pothole", "admin"),
}


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("name", list(PORTAL))
def test_portal_page(defect_site: DefectSite, browser: Any, name: str, language: str) -> None:
    path, ready = PORTAL[name]
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="de-DE")
    page = context.new_page()
    problems = _watched(page)
    url = f"{defect_site.base}{path.format(id=defect_site.report_id)}"
    page.goto(f"{url}{'&' if '?' in url else '?'}lang={language}", wait_until="networkidle")
    if ready:
        page.wait_for_selector(ready, timeout=15_000)
    problems += _checked(page, f"portal-report-{name}-{language}")
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("name", list(CONSOLE))
def test_console_page(defect_site: DefectSite, browser: Any, name: str, language: str) -> None:
    path, who = CONSOLE[name]
    path = path.format(id=defect_site.report_id)
    token = defect_site.handler if who == "handler" else defect_site.defect_admin
    page, problems = _logged_in(browser, defect_site, path, token, language)
    if name == "report":
        page.wait_for_selector("#report-point[data-ready]", timeout=15_000)
    problems += _checked(page, f"console-reports-{name}-{language}")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_position_button_fills_the_coordinates(defect_site: DefectSite, browser: Any) -> None:
    context = browser.new_context(
        viewport=VIEWPORTS["phone"], geolocation={"latitude": LAT, "longitude": LON},
        permissions=["geolocation"],
    )  # fmt: skip
    page = context.new_page()
    problems = _watched(page)
    page.goto(f"{defect_site.base}/{TOWN}/portal/reports/new?lang=en")
    page.get_by_role("button", name="Use my position").click()
    page.wait_for_function("document.getElementById('lat').value !== ''")
    assert abs(float(page.input_value("#lat")) - LAT) < 1e-5
    assert abs(float(page.input_value("#long")) - LON) < 1e-5
    context.close()
    assert not problems, "\n".join(problems)


def test_citizen_reports_a_pothole_staff_answer_the_citizen_is_mailed(
    defect_site: DefectSite, browser: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "schlagloch.jpg"
    photo.write_bytes(jpeg_with_gps((800, 600)))
    phone = browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB", has_touch=True)
    citizen = phone.new_page()
    problems = _watched(citizen)
    citizen.goto(f"{defect_site.base}/{TOWN}/portal?lang=en")
    citizen.get_by_role("link", name="Report a defect").click()
    citizen.wait_for_selector("#report-map[data-ready]", timeout=15_000)
    citizen.select_option("#service_code", "pothole")
    box = citizen.locator("#report-map canvas").bounding_box()
    assert box is not None
    citizen.mouse.click(box["x"] + box["width"] / 3, box["y"] + box["height"] / 3)
    assert citizen.input_value("#lat")
    assert citizen.input_value("#long")
    citizen.fill("#address_string", "Marktstraße 12")
    citizen.get_by_role("button", name="Continue").click()
    citizen.wait_for_url("**/portal/reports/check*")
    citizen.fill("#description", "Tiefes Schlagloch, Radfahrer weichen auf den Gehweg aus")
    citizen.fill("#attribute-depth", "15")
    citizen.set_input_files("#photo", str(photo))
    citizen.fill("#email", "erika@example.org")
    citizen.fill("#first_name", "Erika")
    citizen.get_by_role("button", name="Send report").click()
    citizen.wait_for_url("**/portal/reports/sent/*")
    tracking = citizen.locator("#tracking-link").get_attribute("href")
    assert tracking is not None
    report_id = int(tracking.rsplit("/", 1)[1])
    with defect_site.database.read() as session:
        stored = session.get(Report, report_id)
        assert stored is not None
        assert stored.source == "web"
        assert stored.photo_id is not None
        kept = session.get(Photo, stored.photo_id)
        assert kept is not None
        assert not Image.open(io.BytesIO(kept.content)).getexif()  # no EXIF, no GPS
    citizen.screenshot(path=str(SCREENSHOTS / "e2e-report-sent-phone.png"), full_page=True)

    staff, staff_problems = _logged_in(
        browser, defect_site, f"/{TOWN}/console/reports/{report_id}", defect_site.handler, "en"
    )
    staff.wait_for_selector("#report-point[data-ready]", timeout=15_000)  # nothing in flight
    staff.select_option("#detailed_status", "processed")
    staff.fill("#note", "Das Loch ist geflickt.")
    staff.get_by_role("button", name="Save").click()
    staff.wait_for_load_state("networkidle")
    assert "Processed" in staff.inner_text("#report-status")
    staff.context.close()

    deadline = time.monotonic() + 30
    mine: list[Message] = []
    while time.monotonic() < deadline and not mine:
        mine = [m for m in defect_site.sink.messages if m["To"] == "erika@example.org"]
        time.sleep(0.2)
    assert mine, "the citizen got no e-mail"
    body = mine[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Das Loch ist geflickt." in body
    assert str(report_id) in mine[0]["Subject"]

    citizen.goto(f"{defect_site.base}{tracking}?lang=en")
    assert "Processed" in citizen.inner_text("#report-status")
    assert "Das Loch ist geflickt." in citizen.content()
    phone.close()
    assert not problems + staff_problems, "\n".join(problems + staff_problems)
