"""Liveness, readiness, metrics, start-up refusals and structured logs."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stadtkern.app import create_app
from stadtkern.db import Database
from stadtkern.db.migrations import SchemaOutOfDate
from stadtkern.ops import logging_
from stadtkern.platform import InsecureSettings
from stadtkern.settings import Settings
from tests.conftest import TenantFixture, free_port, make_settings


def wait_ready(client: TestClient, timeout: float = 10.0) -> dict[str, object]:
    """Poll /readyz until the platform is ready (the broker connects in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            body: dict[str, object] = response.json()
            return body
        time.sleep(0.05)


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_everything_is_up(client: TestClient) -> None:
    body = wait_ready(client)
    assert body["status"] == "ready"
    assert body["checks"] == {"database": "ok", "schema": "ok", "broker": "ok"}


def test_readyz_reports_unreachable_broker(database: Database) -> None:
    settings = make_settings(
        database.url.render_as_string(hide_password=False), f"mqtt://127.0.0.1:{free_port()}"
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        checks = response.json()["checks"]
        assert checks["broker"] == "not connected"
        assert checks["database"] == "ok"
        # The platform serves everything else while the broker is away.
        assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_by_route_template(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant()
    client.get(f"/{tenant.slug}/auth/whoami", headers=tenant.headers)
    text = client.get("/metrics").text
    assert 'route="/{tenant}/auth/whoami"' in text
    assert tenant.slug not in text
    assert "stadtkern_http_request_seconds_bucket" in text
    assert "process_resident_memory_bytes" in text or "process_cpu_seconds_total" in text


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_start_refuses_out_of_date_schema(make_database: Callable[[str], Database]) -> None:
    fresh = make_database("sqlite")
    settings = make_settings(
        fresh.url.render_as_string(hide_password=False), f"mqtt://127.0.0.1:{free_port()}"
    )
    with (
        pytest.raises(SchemaOutOfDate, match="stadtkern db upgrade"),
        TestClient(create_app(settings)),
    ):
        pass


def test_start_refuses_default_secret_outside_dev_mode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    with pytest.raises(InsecureSettings, match="SECRET_KEY"):
        create_app(Settings(dev_mode=False, database_url=url))
    with pytest.raises(InsecureSettings, match="SECRET_KEY"):
        create_app(Settings(dev_mode=False, database_url=url, secret_key="short"))  # type: ignore[arg-type]
    app = create_app(Settings(dev_mode=False, database_url=url, secret_key="k" * 40))  # type: ignore[arg-type]
    assert app.state.platform.settings.dev_mode is False


def test_json_logs_carry_extra_fields() -> None:
    stream = io.StringIO()
    logging_.configure(level="INFO", json_format=True)
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "_stadtkern", False))
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        logging.getLogger("stadtkern.test").info("ingested %d", 5, extra={"tenant": "kl"})
    finally:
        logging.getLogger().removeHandler(handler)
    entry = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert entry["message"] == "ingested 5"
    assert entry["tenant"] == "kl"
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")
