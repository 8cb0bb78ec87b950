"""The warning console's maps in a real browser: a click on a zone ticks its checkbox, the
preview's lanterns on the map and in a table, each lantern's answer on the alert's map with a
legend of shapes and words; German and English, desktop and phone, axe clean."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Site, log_in, visit

ISSUER = "kaiserslautern/demo-issuer"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("language", ["de", "en"])
def test_the_compose_map_is_clean_and_accessible(
    site: Site, browser: Any, language: str, viewport: str
) -> None:
    url = f"{site.base}/kaiserslautern/console/warnings/new?status=Exercise&lang={language}"
    result = visit(
        browser,
        url,
        f"console-warning-map-{language}",
        viewport,
        wait_for="#zones-map[data-ready]",
        token=site.tokens[ISSUER],
    )
    assert not result.problems(), "\n".join(result.problems())


def test_a_click_on_the_map_chooses_a_zone_and_the_preview_shows_its_lanterns(
    site: Site, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, site.base, "kaiserslautern", site.tokens[ISSUER])
    page.goto(f"{site.base}/kaiserslautern/console/warnings/new?status=Exercise&lang=en")
    page.wait_for_selector("#zones-map[data-ready]", timeout=15_000)
    boxes = page.locator("input[name=zone]")
    assert boxes.count() > 0
    assert page.locator("input[name=zone]:checked").count() == 0
    # The map is fitted to the zones, so its middle lies in one of them.
    page.locator("#zones-map canvas").click()
    page.wait_for_function("document.querySelectorAll('input[name=zone]:checked').length === 1")
    chosen = page.locator("input[name=zone]:checked").get_attribute("value")
    page.locator("#zones-map canvas").click()  # a second click clears it again
    page.wait_for_function("document.querySelectorAll('input[name=zone]:checked').length === 0")
    # The keyboard way: the checkbox itself.
    page.locator(f"input[name=zone][value='{chosen}']").focus()
    page.keyboard.press("Space")
    assert page.locator(f"input[name=zone][value='{chosen}']").is_checked()
    page.fill("#headline_de", "Probealarm")
    page.get_by_role("button", name="Preview the lanterns").click()
    page.wait_for_selector("#zones-map[data-ready]", timeout=15_000)
    status = page.locator("[role=status]").inner_text()
    assert "lanterns in the area" in status
    count = int(status.split("Preview")[-1].split("lanterns")[0].strip())
    shown = page.evaluate("JSON.parse(document.getElementById('preview-map').textContent)")
    lanterns = [f for f in shown["features"] if f["properties"]["kind"] == "lantern"]
    assert len(lanterns) == count
    assert page.locator("[role=status] tbody tr").count() == count
    assert page.locator(f"input[name=zone][value='{chosen}']").is_checked()  # kept
    assert not errors, errors
    context.close()


def test_the_alerts_map_shows_every_answer(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, site.base, "kaiserslautern", site.tokens[ISSUER])
    page.goto(f"{site.base}/kaiserslautern/console/warnings/new?status=Exercise&lang=en")
    for box in page.locator("input[name=zone]").all():
        box.check()
    page.fill("#headline_de", "Probealarm mit Karte")
    page.get_by_role("button", name="Send exercise now").click()
    page.wait_for_url("**/console/warnings/kaiserslautern*")
    url = page.url
    count = len(site.lanterns)
    page.wait_for_function(
        "text => document.querySelector('#delivery').innerText.includes(text)",
        arg=f"{count} of {count} lanterns acknowledged",
        timeout=30_000,
    )
    legend = page.locator("#delivery-legend li")
    assert legend.count() == 6
    assert all(item.locator("svg").count() == 1 for item in legend.all())
    answers = page.evaluate(
        "url => fetch(url).then(r => r.json()).then(c => c.features.map(f => f.properties.answer))",
        url.split("?")[0] + "/delivery.geojson",
    )
    assert len(answers) == count
    assert set(answers) <= {"acknowledged", "finished"}
    context.close()
    for viewport in ("desktop", "phone"):
        result = visit(
            browser,
            url + "?lang=en",
            "console-warning-delivery-map",
            viewport,
            wait_for="#delivery-map[data-ready]",
            token=site.tokens[ISSUER],
        )
        assert not result.problems(), "\n".join(result.problems())
