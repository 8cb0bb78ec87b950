"""Live values in a real browser: a value written through the API appears in the overview's
table without a reload; the stream pauses while the page is hidden and catches up after;
the page stays clean and accessible at desktop and phone size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stadtkern.demo.client import Platform
from tests.web.conftest import AXE_SOURCE, SCREENSHOTS, VIEWPORTS, WCAG_21_AA, Site, log_in

TOWN = "kaiserslautern"
LIVE = "Values update live."
PAUSED = "Live updates paused while the page is hidden."


def _observe(site: Site, stream: int, value: float) -> None:
    """Write an Observation as a sensor's gateway would, through the SensorThings API."""
    client = Platform(site.base, TOWN, site.tokens[f"{TOWN}/demo-simulator"])
    try:
        body = {"phenomenonTime": datetime.now(UTC).isoformat(), "result": value}
        client.request("POST", f"/v1.1/Datastreams({stream})/Observations", body)
    finally:
        client.close()


def _paused(request: Any) -> bool:
    """The stream the page closes itself while hidden (the browser calls that aborted)."""
    return "/console/live?" in request.url and request.failure == "net::ERR_ABORTED"


def _set_hidden(page: Any, hidden: bool) -> None:
    """Tell the page it was hidden or shown, as switching tabs does."""
    page.evaluate(
        "hidden => { Object.defineProperty(document, 'hidden', {value: hidden,"
        " configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_new_value_appears_without_reload(site: Site, browser: Any, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB")
    page = context.new_page()
    log_in(page, site.base, TOWN, site.tokens[f"{TOWN}/demo-admin"])
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "requestfailed", lambda r: None if _paused(r) else problems.append(f"{r.url} {r.failure}")
    )
    page.goto(f"{site.base}/{TOWN}/console?kind=bridge&lang=en")
    page.wait_for_selector("#devices-map[data-ready=true]", timeout=30_000)
    state = page.locator(".live-state")
    state.filter(has_text=LIVE).wait_for(timeout=30_000)
    cell = page.locator("table.readings [data-stream]").first
    stream = int(cell.get_attribute("data-stream") or "0")
    value = 900 + (stream % 50) + (0.5 if viewport == "phone" else 0.2)

    _observe(site, stream, value)
    page.wait_for_function(
        "([stream, text]) => document.querySelector(`[data-stream='${stream}']`)"
        ".textContent.startsWith(text)",
        arg=[stream, f"{value:.1f}"],
        timeout=30_000,
    )
    assert page.locator(".live-changed").inner_text().startswith("Last change:")

    _set_hidden(page, True)
    assert state.inner_text() == PAUSED
    _observe(site, stream, value + 1)  # while hidden: nothing arrives
    page.wait_for_timeout(500)
    assert cell.inner_text().startswith(f"{value:.1f}")
    _set_hidden(page, False)  # shown again: the stream reopens and catches up
    page.wait_for_function(
        "([stream, text]) => document.querySelector(`[data-stream='${stream}']`)"
        ".textContent.startsWith(text)",
        arg=[stream, f"{value + 1:.1f}"],
        timeout=30_000,
    )
    state.filter(has_text=LIVE).wait_for(timeout=30_000)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-live-{viewport}.png"), full_page=True)
    page.evaluate(AXE_SOURCE + "\n;0")
    report = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    assert [violation["id"] for violation in report["violations"]] == []
    assert not problems, "\n".join(problems)
    assert page.locator("[aria-live], [role=status]").count() == 1  # the state only
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
