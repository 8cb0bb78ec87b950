"""Every page of the citizen portal in a real browser: German and English, desktop and phone,
no console errors, no failed requests, zero axe-core violations of WCAG 2.1 A and AA."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site, visit

PAGES = ["", "/warnings", "/environment", "/accessibility", "/privacy"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_portal_page_is_clean_and_accessible(
    site: Site, browser: Any, page: str, language: str, viewport: str
) -> None:
    name = f"portal{page.replace('/', '-') or '-start'}-{language}"
    url = f"{site.base}/kaiserslautern/portal{page}?lang={language}"
    map_ready = ".maplibregl-canvas" if page == "/environment" else None
    result = visit(browser, url, name, viewport, wait_for=map_ready)
    assert not result.problems(), "\n".join(result.problems())


def test_the_environment_table_lists_what_the_map_shows(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/portal/environment?lang=en", wait_until="networkidle")
    rows = page.locator("table.readings tbody tr").count()
    places = page.evaluate(
        "url => fetch(url).then(r => r.json()).then(c => c.features.length)",
        f"{site.base}/kaiserslautern/portal/environment.geojson",
    )
    headers = page.locator("table.readings tbody th").count()
    context.close()
    assert places > 0
    assert headers == places  # one row group per place on the map
    assert rows >= places


def test_the_language_choice_is_remembered(site: Site, browser: Any) -> None:
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/portal?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{site.base}/kaiserslautern/portal/privacy")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Privacy"
    page.get_by_role("link", name="Deutsch").click()
    assert page.locator("h1").inner_text() == "Datenschutz"
    context.close()


def test_the_skip_link_is_the_first_stop_and_moves_focus(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/portal?lang=de")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Zum Inhalt springen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()
