"""A published environment Datastream's portal page in a real browser: the chart drawn, the
range links for keyboards, drag-zoom; German and English, desktop and phone, axe clean."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest

from tests.web.conftest import Site, visit

# The seconds the chart shows (stream-chart.js writes its x scale on the element).
SHOWN = (
    "(c => Number(c.dataset.shownUntil) - Number(c.dataset.shownFrom))"
    "(document.getElementById('chart'))"
)


def _first_stream(site: Site) -> str:
    """The first Datastream the environment table links to."""
    url = f"{site.base}/kaiserslautern/portal/environment?lang=en"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - our loopback site
        html = answer.read().decode()
    found = re.search(r'href="(/kaiserslautern/portal/environment/\d+)"', html)
    assert found is not None, "the environment table links to no Datastream"
    return found.group(1)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_stream_page_is_clean_and_accessible(
    site: Site, browser: Any, language: str, viewport: str
) -> None:
    url = f"{site.base}{_first_stream(site)}?lang={language}&range=day"
    result = visit(browser, url, f"portal-stream-{language}", viewport, wait_for=".uplot")
    assert not result.problems(), "\n".join(result.problems())


def test_ranges_by_keyboard_and_zoom_by_dragging(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site.base}{_first_stream(site)}?lang=en", wait_until="networkidle")
    page.wait_for_selector(".uplot")
    # Keyboard: Tab reaches the range links, Enter follows one.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Last 7 days":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**range=week")
    page.wait_for_selector(".uplot")
    assert page.locator(".ranges [aria-current=page]").inner_text() == "Last 7 days"
    # Dragging across the plot narrows the x scale (uPlot's drag zoom).
    plot = page.locator(".uplot .u-over").bounding_box()
    assert plot is not None
    before = page.evaluate(SHOWN)
    y = plot["y"] + plot["height"] / 2
    page.mouse.move(plot["x"] + plot["width"] * 0.4, y)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"span => {SHOWN} < span / 2",
        arg=before,
    )
    context.close()
