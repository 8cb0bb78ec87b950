"""`stadtkern serve` as an operator runs it: embedded default, readiness, graceful SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port

STADTKERN = Path(sys.executable).parent / "stadtkern"


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_on_embedded_default_and_stop_gracefully(tmp_path: Path) -> None:
    port, broker = free_port(), free_port()
    env = {
        **os.environ,
        "STADTKERN_DEV_MODE": "true",
        "STADTKERN_DATABASE_URL": f"sqlite:///{tmp_path / 'stadtkern.sqlite'}",
        "STADTKERN_MQTT__URL": "embedded",
        "STADTKERN_MQTT__EMBEDDED_BIND": f"127.0.0.1:{broker}",
        "STADTKERN_LOG_FORMAT": "json",
    }
    upgrade = subprocess.run(
        [str(STADTKERN), "db", "upgrade"], env=env, capture_output=True, text=True, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(STADTKERN), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"{base}/readyz")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200, body
        assert body["checks"] == {"database": "ok", "schema": "ok", "broker": "ok"}
        server.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal after its graceful shutdown, the conventional exit.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
    output = log_path.read_text()
    assert f"http://127.0.0.1:{port}" in output
    assert "platform stopped" in output
    assert "Application shutdown complete" in output
