"""The warning console in a real browser: two people issue and approve a real warning, the
simulated lanterns answer, the delivery view reaches full coverage; every page accessible."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site, log_in, visit


def test_two_people_warn_and_every_lantern_answers(site: Site, browser: Any) -> None:
    issuer_context, approver_context = browser.new_context(), browser.new_context()
    issuer, approver = issuer_context.new_page(), approver_context.new_page()
    log_in(issuer, site.base, "kaiserslautern", site.tokens["kaiserslautern/demo-issuer"])
    issuer.goto(f"{site.base}/kaiserslautern/console/warnings/new?status=Actual&lang=en")
    assert issuer.locator(".mode-real").count() == 1
    for box in issuer.locator("input[name=zone]").all():
        box.check()
    issuer.fill("#event", "Gasaustritt")
    issuer.fill("#headline_de", "Gasaustritt in der Innenstadt")
    issuer.fill("#headline_en", "Gas leak in the city centre")
    issuer.fill("#instruction_de", "Fenster und Türen schließen.")
    issuer.get_by_role("button", name="Preview the lanterns").click()
    assert (
        f"{len(site.lanterns)} lanterns in the area" in issuer.locator("[role=status]").inner_text()
    )
    issuer.get_by_role("button", name="Submit for approval").click()
    issuer.wait_for_url("**/console/warnings/kaiserslautern*")
    detail = issuer.url.split("?")[0]
    assert "pending_approval" in issuer.locator(".facts").inner_text()

    log_in(approver, site.base, "kaiserslautern", site.tokens["kaiserslautern/demo-approver"])
    approver.goto(f"{detail}?lang=en")
    approver.get_by_role("button", name="Approve and send").click()
    approver.wait_for_url(detail)
    # The delivery part refreshes itself until every lantern has answered.
    count = len(site.lanterns)
    approver.wait_for_function(
        "text => document.querySelector('#delivery').innerText.includes(text)",
        arg=f"{count} of {count} lanterns acknowledged",
        timeout=30_000,
    )
    approver.get_by_role("button", name="All clear").click()
    approver.wait_for_url(detail)
    assert "all_clear" in approver.locator(".facts").inner_text()
    issuer_context.close()
    approver_context.close()


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(
    "page", ["", "/new?status=Exercise", "/new?status=Actual"], ids=["list", "exercise", "real"]
)
def test_warning_pages_are_clean_and_accessible(
    site: Site, browser: Any, page: str, language: str
) -> None:
    path, _, query = page.partition("?")
    url = f"{site.base}/kaiserslautern/console/warnings{path}?{query}&lang={language}"
    name = f"console-warnings{path.replace('/', '-')}-{query.split('=')[-1].lower()}-{language}"
    result = visit(browser, url, name, "desktop", token=site.tokens["kaiserslautern/demo-issuer"])
    assert not result.problems(), "\n".join(result.problems())


def test_the_alert_page_is_clean_and_accessible(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, site.base, "kaiserslautern", site.tokens["kaiserslautern/demo-issuer"])
    page.goto(f"{site.base}/kaiserslautern/console/warnings/new?status=Exercise&lang=en")
    page.locator("input[name=zone]").first.check()
    page.fill("#headline_de", "Probealarm")
    page.get_by_role("button", name="Send exercise now").click()
    page.wait_for_url("**/console/warnings/kaiserslautern*")
    url = page.url
    context.close()
    for viewport in ("desktop", "phone"):
        result = visit(
            browser,
            url,
            f"console-warning-detail-{viewport}",
            viewport,
            token=site.tokens["kaiserslautern/demo-issuer"],
        )
        assert not result.problems(), "\n".join(result.problems())
