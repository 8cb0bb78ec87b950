"""The module contract: discovery through entry points, loading limits, lifecycle, MQTT."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from stadtkern_example import ExampleModule

from stadtkern.app import create_app
from stadtkern.db import Database
from stadtkern.modules import ENTRY_POINT_GROUP, ModuleError, StadtkernModule, discover_modules
from stadtkern.modules.registry import _load
from tests.conftest import TenantFixture, free_port, issue_token, make_settings


def test_installed_modules_are_discovered_in_dependency_order() -> None:
    names = [module.name for module in discover_modules()]
    assert names[0] == "core"
    assert "example" in names
    assert all(isinstance(module, StadtkernModule) for module in discover_modules())


def test_modules_setting_limits_loading() -> None:
    assert [m.name for m in discover_modules([])] == ["core"]
    assert [m.name for m in discover_modules(["example"])] == ["core", "example"]
    with pytest.raises(ModuleError, match="not installed"):
        discover_modules(["lanterns-from-mars"])


def test_entry_point_must_name_a_contract_object() -> None:
    wrong_name = EntryPoint(name="other", value="stadtkern_example:module", group=ENTRY_POINT_GROUP)
    with pytest.raises(ModuleError, match="must agree"):
        _load(wrong_name)
    not_a_module = EntryPoint(
        name="example", value="stadtkern_example:ExampleSettings", group=ENTRY_POINT_GROUP
    )
    with pytest.raises(ModuleError, match="contract"):
        _load(not_a_module)
    broken = EntryPoint(name="example", value="stadtkern_nowhere:module", group=ENTRY_POINT_GROUP)
    with pytest.raises(ModuleError, match="failed to import"):
        _load(broken)


def test_unloaded_module_has_no_routes(database: Database, mosquitto_url: str) -> None:
    settings = make_settings(
        database.url.render_as_string(hide_password=False), mosquitto_url, modules=["core"]
    )
    app = create_app(settings)
    paths = app.openapi()["paths"]
    assert "/{tenant}/example/greetings" not in paths
    assert "/{tenant}/admin/keys" in paths


def test_platform_runs_module_hooks_and_background_tasks(
    database: Database, mosquitto_url: str
) -> None:
    settings = make_settings(database.url.render_as_string(hide_password=False), mosquitto_url)
    app = create_app(settings)
    example = next(m for m in app.state.platform.modules if m.name == "example")
    assert isinstance(example, ExampleModule)
    with TestClient(app):
        assert example.started
        deadline = time.monotonic() + 5
        while example.heartbeats == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert example.heartbeats >= 1
    assert not example.started
    assert app.state.platform._tasks == []


@pytest.fixture(params=["embedded", "mosquitto"])
def broker_app(
    request: pytest.FixtureRequest, database: Database, mosquitto_url: str
) -> Iterator[tuple[TestClient, str]]:
    """A running platform on the embedded broker or on Mosquitto, with the broker's URL."""
    if request.param == "embedded":
        port = free_port()
        settings = make_settings(database.url.render_as_string(hide_password=False), "embedded")
        settings.mqtt.embedded_bind = f"127.0.0.1:{port}"
        url = f"mqtt://127.0.0.1:{port}"
    else:
        settings = make_settings(database.url.render_as_string(hide_password=False), mosquitto_url)
        url = mosquitto_url
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield client, url


def test_module_topic_handler_answers_through_the_outbox(
    broker_app: tuple[TestClient, str],
    make_tenant: Callable[..., TenantFixture],
    database: Database,
) -> None:
    client, url = broker_app
    assert client.get("/readyz").status_code == 200
    tenant = make_tenant(modules=["example"])
    parts = urlsplit(url)
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    device = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"device-{tenant.slug}")
    device.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    device.on_subscribe = lambda *_args: subscribed.put(True)
    # The embedded broker admits tenant API keys (the session's Mosquitto is open to all).
    device.username_pw_set("device", issue_token(database, tenant=tenant.slug, roles=["operator"]))
    device.connect(parts.hostname or "127.0.0.1", parts.port or 1883)
    device.loop_start()
    try:
        device.subscribe(f"{tenant.slug}/example/pong", qos=1)
        assert subscribed.get(timeout=5)
        device.publish(f"{tenant.slug}/example/ping", b"hallo", qos=1).wait_for_publish(5)
        topic, payload = received.get(timeout=10)
        assert topic == f"{tenant.slug}/example/pong"
        assert payload == b"hallo"
    finally:
        device.loop_stop()
        device.disconnect()
