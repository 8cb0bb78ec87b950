"""Browser tests: a real platform on a port, Debian's Chromium driven by Playwright.

The platform runs in a thread (uvicorn) on SQLite with the embedded broker, with a small demo
town provisioned through the public API. Every page visit records console errors and failed
requests, keeps a screenshot (var/test-artifacts/screenshots/) and runs axe-core for the
WCAG 2.1 A and AA rules.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stadtkern.cli.demo_setup import prepare
from stadtkern.db import Database
from stadtkern.demo.backfill import backfill
from stadtkern.demo.client import Platform
from stadtkern.demo.fleet import build_fleet
from stadtkern.demo.geography import load_town
from stadtkern.demo.provision import provision
from stadtkern.demo.simulation import lantern_runner
from stadtkern.devices.lantern.runner import LanternRunner
from stadtkern.modules import discover_modules
from stadtkern.settings import Settings
from tests.conftest import free_port, make_settings, serving, unavailable
from tests.warning.conftest import make_town  # noqa: F401 - the warning towns' fixture, shared

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Site:
    """The running platform and the demo keys."""

    base: str
    tokens: dict[str, str]
    lanterns: list[str]
    broker: str = ""  # the embedded broker, mqtt://host:port
    fleet: Any = None  # the demo fleet and what provisioning made of it, for simulators
    deployed: Any = None


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Kaiserslautern with 12 lanterns and the rest of its fleet, two hours of history."""
    directory = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{directory / 'web.sqlite'}"
    port = free_port()
    settings = make_settings(url, "embedded", port=port)
    settings.mqtt.embedded_bind = f"127.0.0.1:{free_port()}"
    database = Database(url)
    try:
        tokens = prepare(database, settings, discover_modules(None), directory / "keys.json")
    finally:
        database.dispose()
    with serving(settings) as base:
        yield from _town_site(base, tokens, settings)


def _town_site(base: str, tokens: dict[str, str], settings: Settings) -> Iterator[Site]:
    """The fleet provisioned, its history written, its lanterns running."""
    token = tokens["kaiserslautern/demo-simulator"]
    fleet = build_fleet("kaiserslautern", load_town("kaiserslautern"), seed=1, lanterns=12)
    client = Platform(base, "kaiserslautern", token)
    try:
        deployed = provision(client, fleet)
    finally:
        client.close()
    backfill(
        lambda: Platform(base, "kaiserslautern", token),
        fleet,
        deployed,
        history=timedelta(hours=2),
        until=datetime.now(UTC),
    )
    lanterns = _lantern_firmware(base, token, settings.mqtt.embedded_bind, fleet)
    try:
        yield Site(
            base,
            tokens,
            [d.code for d in fleet.of_kind("lantern")],
            broker=f"mqtt://{settings.mqtt.embedded_bind}",
            fleet=fleet,
            deployed=deployed,
        )
    finally:
        lanterns.request_stop()


def _lantern_firmware(base: str, token: str, bind: str, fleet: Any) -> LanternRunner:
    """The town's lanterns on the reference firmware, answering commands fast (time scaled)."""
    client = Platform(base, "kaiserslautern", token)
    try:
        runner = lantern_runner(
            client, fleet, f"mqtt://{bind}", token=token, heartbeat_s=30.0,
            ack_spread_s=0.2, time_scale=600.0,
        )  # fmt: skip
    finally:
        client.close()
    assert runner is not None
    started = threading.Event()
    threading.Thread(
        target=lambda: asyncio.run(runner.run(on_started=started.set)), daemon=True
    ).start()
    assert started.wait(30), "the lanterns did not connect"
    return runner


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package."""
    if not Path(CHROMIUM).exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@dataclass
class Visit:
    """What one page load showed: console errors, failed requests, axe violations."""

    url: str
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    load_ms: float = 0.0

    def problems(self) -> list[str]:
        """Everything that should not have happened, as readable lines."""
        found = [f"console: {error}" for error in self.errors]
        found += [f"request failed: {request}" for request in self.failed]
        found += [
            f"axe {v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in self.violations
        ]
        return found


def log_in(page: Any, base: str, tenant: str, token: str) -> None:
    """Log in through the console's form, as a person would."""
    page.goto(f"{base}/{tenant}/console/login")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/{tenant}/console*")
    page.wait_for_load_state("networkidle")  # nothing of this page is left in flight


def visit(
    browser: Any,
    url: str,
    name: str,
    viewport: str,
    *,
    wait_for: str | None = None,
    token: str | None = None,
) -> Visit:
    """Open a page at a viewport size (logged in with `token`), check it, keep a screenshot."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="de-DE")
    page = context.new_page()
    if token is not None:
        base, _, rest = url.partition("://")[2].partition("/")
        log_in(page, f"{url.split('://')[0]}://{base}", rest.split("/")[0], token)
    result = Visit(url)
    page.on("console", lambda m: result.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: result.errors.append(str(error)))
    page.on("requestfailed", lambda r: result.failed.append(f"{r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: result.failed.append(f"{r.url} HTTP {r.status}") if r.status >= 400 else None,
    )
    started = time.monotonic()
    page.goto(url, wait_until="networkidle")
    if wait_for is not None:
        page.wait_for_selector(wait_for, timeout=15_000)
    result.load_ms = (time.monotonic() - started) * 1000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)
    # Evaluated through the DevTools protocol: the page's CSP rightly refuses inline scripts.
    page.evaluate(AXE_SOURCE + "\n;0")
    report = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    result.violations = report["violations"]
    context.close()
    return result


@pytest.fixture(scope="session", autouse=True)
def _no_proxy() -> None:
    # Playwright's requests to the loopback platform must not go through a proxy.
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
