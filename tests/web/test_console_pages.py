"""The staff console in a real browser: login by form, overview with map and table, device
health; both languages, desktop and phone, clean and accessible as the portal."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site, log_in, visit

PAGES = ["", "/health"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_console_page_is_clean_and_accessible(
    site: Site, browser: Any, page: str, language: str, viewport: str
) -> None:
    name = f"console{page.replace('/', '-') or '-overview'}-{language}"
    url = f"{site.base}/kaiserslautern/console{page}?lang={language}"
    result = visit(
        browser,
        url,
        name,
        viewport,
        wait_for=".maplibregl-canvas" if page == "" else None,
        token=site.tokens["kaiserslautern/demo-admin"],
    )
    assert not result.problems(), "\n".join(result.problems())


@pytest.mark.parametrize("language", ["de", "en"])
def test_login_page_is_clean_and_accessible(site: Site, browser: Any, language: str) -> None:
    url = f"{site.base}/kaiserslautern/console/login?lang={language}"
    result = visit(browser, url, f"console-login-{language}", "phone")
    assert not result.problems(), "\n".join(result.problems())


def test_a_wrong_key_is_refused_with_an_accessible_message(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/console/login?lang=en")
    page.fill("#token", "sk_000000000000_wrong")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Login failed")
    assert page.locator("#token").get_attribute("aria-invalid") == "true"
    context.close()


def test_login_filter_and_logout(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/console/health?lang=en")
    assert "/console/login" in page.url  # no session: to the login first
    page.fill("#token", site.tokens["kaiserslautern/demo-admin"])
    page.click("button[type=submit]")
    page.wait_for_url("**/console/health")  # and back to where the user wanted to go
    page.goto(f"{site.base}/kaiserslautern/console?lang=en")
    page.select_option("#kind", "bridge")
    page.click("form.filters button")
    page.wait_for_url("**kind=bridge**")
    assert page.locator("table.readings tbody tr").count() == 5
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/console/login")
    page.goto(f"{site.base}/kaiserslautern/console")
    assert "/console/login" in page.url
    context.close()


def test_another_towns_key_opens_no_console(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site.base}/kaiserslautern/console/login?lang=en")
    page.fill("#token", site.tokens["kusel/demo-admin"])
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").count() == 1
    page.goto(f"{site.base}/kaiserslautern/console")
    assert "/console/login" in page.url  # and no session was opened
    context.close()


def test_log_in_helper_reaches_the_overview(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, site.base, "kaiserslautern", site.tokens["kaiserslautern/demo-issuer"])
    assert page.url.endswith("/kaiserslautern/console")
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_datastream_page_draws_its_chart_and_is_accessible(
    site: Site, browser: Any, viewport: str
) -> None:
    token = site.tokens["kaiserslautern/demo-admin"]
    context = browser.new_context()
    page = context.new_page()
    log_in(page, site.base, "kaiserslautern", token)
    page.goto(f"{site.base}/kaiserslautern/console?kind=bridge&lang=en")
    href = page.locator("table.readings tbody a").first.get_attribute("href")
    context.close()
    assert href is not None
    result = visit(
        browser,
        f"{site.base}{href}?range=day&lang=en",
        "console-datastream",
        viewport,
        wait_for=".uplot",
        token=token,
    )
    assert not result.problems(), "\n".join(result.problems())
