"""The console's administration in a real browser: every page in German and English on a
desktop and a phone, clean and accessible; an administrator adds a person, issues a key (shown
once) and revokes it; staff without the role admin see neither the link nor the pages."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.web.conftest import AXE_SOURCE, SCREENSHOTS, VIEWPORTS, WCAG_21_AA, Site

PAGES = ["", "/keys", "/roles", "/modules", "/audit"]
TOWN = "kaiserslautern"


def _checked(page: Any, name: str) -> list[str]:
    """Screenshot the open page at both sizes and return axe's WCAG 2.1 A/AA violations."""
    found = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for viewport, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)
        page.evaluate(AXE_SOURCE + "\n;0")
        report = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
        )
        found += [f"{viewport}: axe {v['id']}: {v['help']}" for v in report["violations"]]
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > size["width"]:
            found.append(f"{viewport}: {width} px wide")
    return found


def _admin_page(browser: Any, site: Site, path: str, *, who: str = "demo-admin") -> Any:
    """A page open in a new browser, logged in through the form straight to `path` (the
    overview with its live updates is never opened, so nothing is left in flight)."""
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="de-DE")
    page = context.new_page()
    page.goto(f"{site.base}/{TOWN}/console/login?{urlencode({'next': path.split('?')[0]})}")
    page.fill("#token", site.tokens[f"{TOWN}/{who}"])
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path.split('?')[0]}")
    return page


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("path", PAGES, ids=["people", "keys", "roles", "modules", "audit"])
def test_admin_page_is_clean_and_accessible(
    site: Site, browser: Any, path: str, language: str
) -> None:
    page = _admin_page(browser, site, f"/{TOWN}/console/admin{path}")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url} {r.failure}"))
    page.on(
        "response", lambda r: problems.append(f"{r.url} {r.status}") if r.status >= 400 else None
    )
    page.goto(f"{site.base}/{TOWN}/console/admin{path}?lang={language}", wait_until="networkidle")
    problems += _checked(page, f"console-admin{path.replace('/', '-') or '-people'}-{language}")
    page.context.close()
    assert not problems, "\n".join(problems)


def test_an_administrator_adds_a_person_issues_a_key_and_revokes_it(
    site: Site, browser: Any
) -> None:
    page = _admin_page(browser, site, f"/{TOWN}/console/health")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.base}/{TOWN}/console/health?lang=en")
    page.get_by_role("link", name="Administration", exact=True).click()
    page.wait_for_url(f"**/{TOWN}/console/admin")
    person = f"test-{secrets.token_hex(3)}"
    page.fill("#name", person)
    page.get_by_label("viewer").check()
    page.get_by_role("button", name="Add").click()
    page.wait_for_url("**/console/admin/people/*")
    assert page.locator("h1").inner_text() == person
    assert not _checked(page, "console-admin-person-en")

    page.fill("#label", "tablet of the building yard")
    page.get_by_role("button", name="Issue key").click()
    token = page.locator("#token").input_value()
    assert token.startswith("sk_")
    assert "shown only this once" in page.locator("[role=status]").inner_text()
    assert not _checked(page, "console-admin-key-issued-en")
    key_id = token.split("_")[1]

    page.goto(f"{site.base}/{TOWN}/console/admin/keys?lang=en")
    assert token not in page.content()
    page.get_by_role("link", name=f"Revoke key {key_id}").click()
    page.wait_for_url(f"**/keys/{key_id}/revoke")
    assert not _checked(page, "console-admin-key-revoke-en")
    page.get_by_role("button", name="Revoke the key").click()
    page.wait_for_url("**/console/admin/keys")
    row = page.locator("table.keys tr", has_text=key_id)
    assert "revoked" in row.inner_text()
    assert not errors
    page.context.close()


def test_a_refused_change_shows_the_reason(site: Site, browser: Any) -> None:
    page = _admin_page(browser, site, f"/{TOWN}/console/admin")
    page.goto(f"{site.base}/{TOWN}/console/admin?lang=en")
    page.fill("#name", "demo-admin")  # taken
    page.get_by_role("button", name="Add").click()
    alert = page.locator("[role=alert]")
    assert "Nothing was changed" in alert.inner_text()
    assert "exists already" in alert.inner_text()
    assert not _checked(page, "console-admin-refused-en")
    page.context.close()


@pytest.mark.parametrize("language", ["de", "en"])
def test_staff_without_the_role_admin_are_kept_out(site: Site, browser: Any, language: str) -> None:
    page = _admin_page(browser, site, f"/{TOWN}/console/health", who="demo-issuer")
    assert page.locator(f"a[href='/{TOWN}/console/admin']").count() == 0
    answer = page.goto(f"{site.base}/{TOWN}/console/admin/keys?lang={language}")
    assert answer is not None
    assert answer.status == 403
    assert page.locator("[role=alert]").count() == 1
    assert not _checked(page, f"console-admin-forbidden-{language}")
    page.context.close()
