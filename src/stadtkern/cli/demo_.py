"""`stadtkern demo`: the platform with a living demo city, in one command.

The platform runs in this process (embedded SQLite and MQTT broker unless told otherwise);
each town's fleet runs as a `stadtkern simulate` child process with the town's simulator
key, started once the platform answers. The children read a pipe from us and stop when it
closes, so they never outlive the demo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer

from stadtkern.cli.common import console, err, load_settings
from stadtkern.cli.demo_setup import FIRST_TOWN, SECOND_TOWN, demo_accounts, prepare, reset_database
from stadtkern.cli.serve import run_app
from stadtkern.cli.simulate_ import TOKEN_VARIABLE
from stadtkern.db import Database
from stadtkern.demo.client import wait_until_up
from stadtkern.modules import discover_modules
from stadtkern.ops import logging_
from stadtkern.settings import Settings

STATE_DIR = Path("var/demo")


def demo(
    database: Annotated[
        str | None, typer.Option(help="Database URL (default: SQLite in var/demo/)")
    ] = None,
    broker: Annotated[
        str | None, typer.Option(help="MQTT broker URL, e.g. mqtt://user:pass@host:1883")
    ] = None,
    reset: Annotated[
        bool, typer.Option(help="Start from scratch: delete the demo database's contents")
    ] = False,
    history: Annotated[
        str, typer.Option(help="History to fill in at start (or the gap since the last run)")
    ] = "1d",
    seed: Annotated[int, typer.Option(help="Seed of the simulated city")] = 1,
    lanterns: Annotated[
        int | None, typer.Option(min=1, help="Lanterns in Kaiserslautern (default 500)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port to listen on")] = None,
    state_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files")] = STATE_DIR,
) -> None:
    """Run the platform with the simulated towns Kaiserslautern and Landkreis Kusel."""
    os.environ.setdefault("STADTKERN_DEV_MODE", "true")
    os.environ.setdefault("STADTKERN_SESSION_COOKIE_SECURE", "false")
    if database is not None:
        os.environ["STADTKERN_DATABASE_URL"] = database
    else:
        os.environ.setdefault(
            "STADTKERN_DATABASE_URL", f"sqlite:///{(state_dir / 'stadtkern.sqlite').resolve()}"
        )
    if broker is not None:
        os.environ["STADTKERN_MQTT__URL"] = broker
    settings = load_settings()
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    logging_.configure(level="WARNING", json_format=settings.log_format == "json")
    state_dir.mkdir(parents=True, exist_ok=True)
    if reset:
        reset_database(settings.database_url)
        console.print("demo database reset")
    console.print("preparing the database (schema, towns, demo keys) ...")
    db = Database(settings.database_url)
    try:
        tokens = prepare(db, settings, discover_modules(None), state_dir / "credentials.json")
    finally:
        db.dispose()
    from stadtkern.app import create_app
    from stadtkern.platform import InsecureSettings

    try:
        app = create_app(settings)
    except InsecureSettings as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    base = f"http://{settings.host}:{settings.port}"
    fleets = _Fleets(settings, base, tokens, seed=seed, history=history, lanterns=lanterns)
    threading.Thread(target=fleets.start_when_up, daemon=True).start()
    try:
        run_app(app, settings)
    finally:
        fleets.stop()


def simulator_broker(settings: Settings) -> str:
    """The broker URL the fleets use: the platform's, without the platform's own login."""
    if "://" not in settings.mqtt.url:
        return f"mqtt://{settings.mqtt.embedded_bind}"
    parts = urlsplit(settings.mqtt.url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, "", "", ""))


class _Fleets:
    """The two towns' simulator processes."""

    def __init__(
        self,
        settings: Settings,
        base: str,
        tokens: dict[str, str],
        *,
        seed: int,
        history: str,
        lanterns: int | None,
    ) -> None:
        self.settings = settings
        self.base = base
        self.tokens = tokens
        self.seed = seed
        self.history = history
        self.lanterns = lanterns
        self.children: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._stopped = False

    def start_when_up(self) -> None:
        try:
            wait_until_up(self.base, timeout=120)
        except TimeoutError as exc:
            err.print(f"[red]{exc}[/red]")
            return
        self._banner()
        for town in (FIRST_TOWN, SECOND_TOWN):
            self._spawn(town)

    def _spawn(self, town: str) -> None:
        command = [
            sys.executable,
            "-m",
            "stadtkern",
            "simulate",
            "--tenant",
            town,
            "--url",
            self.base,
            "--broker",
            simulator_broker(self.settings),
            "--seed",
            str(self.seed),
            "--history",
            self.history,
            "--stop-on-stdin-eof",
        ]
        if self.lanterns is not None:
            count = self.lanterns if town == FIRST_TOWN else max(1, self.lanterns // 8)
            command += ["--lanterns", str(count)]
        env = {**os.environ, TOKEN_VARIABLE: self.tokens[f"{town}/demo-simulator"]}
        with self._lock:
            if self._stopped:
                return
            self.children.append(subprocess.Popen(command, stdin=subprocess.PIPE, env=env))  # noqa: S603

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            children, self.children = self.children, []
        for child in children:
            if child.stdin is not None:
                child.stdin.close()  # the child stops when its pipe closes
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()

    def _banner(self) -> None:
        base = self.base
        lines = [
            "",
            "[bold]Stadtkern demo city is running[/bold]",
            f"  SensorThings API   {base}/kaiserslautern/v1.1   (open data: no login to read)",
            f"  Things with values {base}/kaiserslautern/v1.1/Things?$expand=Datastreams",
            f"  Lanterns           {base}/kaiserslautern/warning/lanterns   (needs a key)",
            f"  Public warnings    {base}/kaiserslautern/warning/public/feed.atom",
            f"  Second town        {base}/kusel/v1.1",
            f"  OpenAPI            {base}/openapi.json",
            f"  Health             {base}/healthz",
            f"  MQTT               {simulator_broker(self.settings)}"
            "   (user: key id, password: key)",
            "",
            "Demo keys (use as 'Authorization: Bearer <key>'):",
        ]
        for account in demo_accounts():
            label = f"{account.tenant or 'platform'}/{account.name}"
            lines.append(f"  {label:<34} {account.purpose:<30} {self.tokens[label]}")
        lines += ["", "The fleets start now; the first values arrive within a minute.", ""]
        console.print("\n".join(lines), highlight=False, soft_wrap=True)
