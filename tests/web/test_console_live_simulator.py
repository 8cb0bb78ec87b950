"""Live values on the map while the demo's simulator reports over MQTT: the values it
publishes reach the platform through the embedded broker and the ingest, and the overview's
table and the map's readings change in the open page without a reload."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from stadtkern.demo.live import Publisher
from stadtkern.demo.simulation import key_id_of
from tests.web.conftest import Site, log_in

TOWN = "kaiserslautern"
KIND = "bridge"  # five bridges, each with several streams reporting every few minutes
READINGS = """async (stream) => {
  const { shown } = await import('/static/web/js/environment-map.js');
  const parts = await shown;
  for (const readings of parts.readings.values()) {
    const found = readings.find((reading) => reading.id === stream);
    if (found) return found.text;
  }
  return null;
}"""


def _simulate(site: Site, stop: asyncio.Event, loop: list[asyncio.AbstractEventLoop]) -> None:
    """The bridges' simulator, sped up (every stream reports within seconds)."""
    fleet = dataclasses.replace(site.fleet, devices=site.fleet.of_kind(KIND))
    token = site.tokens[f"{TOWN}/demo-simulator"]
    publisher = Publisher(
        fleet, site.deployed, site.broker, username=key_id_of(token), password=token, rate=20.0
    )
    publisher.connect()

    async def run() -> None:
        loop.append(asyncio.get_running_loop())
        await publisher.run(stop)

    try:
        asyncio.run(run())
    finally:
        publisher.close()


def test_values_on_the_map_change_while_the_simulator_runs(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, site.base, TOWN, site.tokens[f"{TOWN}/demo-admin"])
    page.goto(f"{site.base}/{TOWN}/console?kind={KIND}&lang=en")
    page.wait_for_selector("#devices-map[data-ready=true]", timeout=30_000)
    page.locator(".live-state").filter(has_text="Values update live.").wait_for(timeout=30_000)
    cells = page.locator("table.readings [data-stream]")
    before = {
        int(cells.nth(n).get_attribute("data-stream") or "0"): cells.nth(n).inner_text()
        for n in range(cells.count())
    }
    assert before
    stop = asyncio.Event()
    loop: list[asyncio.AbstractEventLoop] = []
    simulator = threading.Thread(target=_simulate, args=(site, stop, loop), daemon=True)
    simulator.start()
    try:
        # Some value of the table changes: the simulator's new reading, live.
        changed = page.wait_for_function(
            """(before) => {
                for (const cell of document.querySelectorAll('table.readings [data-stream]')) {
                  const old = before[cell.dataset.stream];
                  if (old !== undefined && cell.textContent !== old) return cell.dataset.stream;
                }
                return null;
            }""",
            arg={str(stream): text for stream, text in before.items()},
            timeout=60_000,
        ).json_value()
        stream = int(changed)
        shown = page.locator(f"table.readings [data-stream='{stream}']").inner_text()
        # The map's reading of that stream (what its popup shows) changed with it.
        assert page.evaluate(READINGS, stream) == shown
        assert shown != before[stream]
    finally:
        if loop:
            loop[0].call_soon_threadsafe(stop.set)
        simulator.join(timeout=15)
        context.close()
    assert not errors, errors
