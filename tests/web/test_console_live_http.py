"""The console's live stream over real HTTP (uvicorn on a port), on both backends: the session,
the filter, a value arriving after an Observation is created, catch-up from Last-Event-ID,
the overview page that opens it, and a clean stop with a stream still open."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn

from stadtkern.app import create_app
from stadtkern.core import tenants
from stadtkern.db import Database
from stadtkern.demo.client import wait_until_up
from stadtkern.web import console_data
from stadtkern.web.live_feed import LiveFeed
from tests.conftest import TenantFixture, free_port, make_settings
from tests.sensorthings.conformance.conftest import (
    OM_MEASUREMENT,
    location_body,
    observed_property_body,
    point,
    sensor_body,
)

PM10 = {"name": "Mikrogramm je Kubikmeter", "symbol": "µg/m³", "definition": "urn:ugm3"}


@dataclass
class Server:
    """A platform serving on a port, and its application (to look at its live feed)."""

    base: str
    app: Any
    thread: threading.Thread
    uvicorn: uvicorn.Server

    def feed(self) -> LiveFeed:
        """The platform's live feed."""
        feed = self.app.state.platform.contexts["web"].extras["live_feed"]
        assert isinstance(feed, LiveFeed)
        return feed

    def stop(self) -> None:
        """Stop as on SIGTERM; the thread must end."""
        self.uvicorn.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "the server did not stop"


def _serve(database: Database, broker: str) -> Server:
    port = free_port()
    url = database.url.render_as_string(hide_password=False)
    settings = make_settings(url, broker, port=port, auth_failure_limit=100_000)
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, timeout=30)
    return Server(base, app, thread, server)


@pytest.fixture(scope="module")
def server(database: Database, mosquitto_url: str) -> Iterator[Server]:
    """The platform for this module's tests, per backend."""
    running = _serve(database, mosquitto_url)
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Town:
    """A town with two measuring places in two districts."""

    slug: str
    api: httpx.Client
    north: tuple[int, int]  # (Thing, Datastream)
    south: tuple[int, int]

    def observe(self, stream: int, value: float, minutes_ago: float = 0) -> None:
        """Create an Observation through the SensorThings API."""
        at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
        answer = self.api.post(
            f"/{self.slug}/v1.1/Datastreams({stream})/Observations",
            json={"phenomenonTime": at, "result": value},
        )
        assert answer.status_code == 201, answer.text


def _place(
    api: httpx.Client,
    slug: str,
    name: str,
    district: str,
    at: tuple[float, float],
    period: Any = None,
) -> tuple[int, int]:
    body = {
        "name": name,
        "description": f"Messstelle {name}",
        "properties": {"kind": "air", "district": district},
        "Locations": [location_body(f"Standort {name}", point(at))],
        "Datastreams": [
            {
                "name": f"PM10 {name}",
                "description": "Feinstaub",
                "unitOfMeasurement": PM10,
                "observationType": OM_MEASUREMENT,
                "Sensor": sensor_body(f"Sensor {name}"),
                "ObservedProperty": observed_property_body(f"PM10 {name}"),
                **({} if period is None else {"properties": {"periodSeconds": period}}),
            }
        ],
    }
    answer = api.post(f"/{slug}/v1.1/Things", json=body)
    assert answer.status_code == 201, answer.text
    thing = int(re.findall(r"\((\d+)\)", answer.headers["location"])[-1])
    streams = api.get(f"/{slug}/v1.1/Things({thing})/Datastreams").json()["value"]
    return thing, int(streams[0]["@iot.id"])


@pytest.fixture
def town(server: Server, make_tenant: Callable[..., TenantFixture]) -> Iterator[Town]:
    """A new town on the server, with a value at each place."""
    tenant = make_tenant(modules=["sensorthings", "web"])
    with httpx.Client(base_url=server.base, headers=tenant.headers, timeout=30) as api:
        north = _place(api, tenant.slug, "Nord", "Nord", (7.75, 49.45))
        south = _place(api, tenant.slug, "Süd", "Süd", (7.76, 49.43))
        made = Town(tenant.slug, api, north, south)
        made.observe(north[1], 10.0, minutes_ago=5)
        made.observe(south[1], 20.0, minutes_ago=5)
        yield made


@contextmanager
def _staff(server: Server, town: Town, token: str) -> Iterator[httpx.Client]:
    """A browser-like client logged in to the town's console."""
    with httpx.Client(base_url=server.base, timeout=httpx.Timeout(30, read=20)) as client:
        answer = client.post(
            f"/{town.slug}/console/login", data={"token": token}, headers={"Origin": server.base}
        )
        assert answer.status_code == 303, answer.text
        yield client


def _token(town: Town) -> str:
    return town.api.headers["Authorization"].removeprefix("Bearer ")


def _events(lines: Iterator[str]) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(id, data) of each `values` event; comments and `retry` are skipped."""
    event_id, data = None, None
    for line in lines:
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and data is not None:
            yield event_id, data
            event_id, data = None, None


def _until(found: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not found():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_stream_needs_a_session(server: Server, town: Town) -> None:
    answer = httpx.get(f"{server.base}/{town.slug}/console/live", timeout=10)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_new_observation_arrives_as_the_page_writes_it(server: Server, town: Town) -> None:
    with _staff(server, town, _token(town)) as staff:
        with staff.stream("GET", f"/{town.slug}/console/live?lang=en") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            town.observe(town.north[1], 12.25)
            event_id, data = next(_events(stream.iter_lines()))
        (value,) = data["values"]
        assert value["datastream"] == town.north[1]
        assert value["thing"] == town.north[0]
        assert value["value"] == 12.25
        assert value["text"] == "12.2 µg/m³"  # one digit, as the table writes it
        assert value["unit"] == "µg/m³"
        assert value["when"]
        assert event_id is not None
        assert int(event_id) > 0
        _until(lambda: not server.feed().watching(), "the stream's watcher was not removed")


def test_the_filter_keeps_its_district_only(server: Server, town: Town) -> None:
    with _staff(server, town, _token(town)) as staff:
        url = f"/{town.slug}/console/live?district=Nord&lang=de"
        with staff.stream("GET", url) as stream:
            town.observe(town.south[1], 30.0)
            town.observe(town.north[1], 11.5)
            events = _events(stream.iter_lines())
            seen: list[dict[str, Any]] = []
            while not any(v["datastream"] == town.north[1] for v in seen):
                seen += next(events)[1]["values"]
        assert {value["thing"] for value in seen} == {town.north[0]}
        assert seen[-1]["text"] == "11,5 µg/m³"  # German numbers in a German stream


def test_a_reconnect_catches_up_from_last_event_id(server: Server, town: Town) -> None:
    with _staff(server, town, _token(town)) as staff:
        url = f"/{town.slug}/console/live?lang=en"
        with staff.stream("GET", url) as stream:
            town.observe(town.north[1], 13.0)
            last_id, _data = next(_events(stream.iter_lines()))
        assert last_id is not None
        town.observe(town.south[1], 21.0)  # while nobody listens
        town.observe(town.north[1], 14.0, minutes_ago=60)  # older: not the latest value
        with staff.stream("GET", url, headers={"Last-Event-ID": last_id}) as stream:
            _next_id, data = next(_events(stream.iter_lines()))
        assert [(v["datastream"], v["value"]) for v in data["values"]] == [(town.south[1], 21.0)]
        refused = staff.get(url, headers={"Last-Event-ID": "yesterday"})
        assert refused.status_code == 422


def test_the_overview_opens_the_stream_from_its_cursor(server: Server, town: Town) -> None:
    with _staff(server, town, _token(town)) as staff:
        page = staff.get(f"/{town.slug}/console?district=Nord&lang=en")
        assert page.status_code == 200
        live = re.search(r'data-live="([^"]+)"', page.text)
        assert live is not None
        url = live.group(1).replace("&amp;", "&")
        assert url.startswith(f"/{town.slug}/console/live?kind=&district=Nord&after=")
        block = re.search(r'id="devices-places">(.*?)</script>', page.text, re.S)
        assert block is not None
        places = json.loads(block.group(1))
        assert [feature["id"] for feature in places["features"]] == [town.north[0]]
        (reading,) = places["features"][0]["properties"]["readings"]
        assert (reading["id"], reading["text"]) == (town.north[1], "10 µg/m³")
        assert f'data-stream="{town.north[1]}"' in page.text
        assert 'data-town="#town-shape"' in page.text  # the base layer is embedded too
        assert re.search(r'id="town-shape">\{"type":"FeatureCollection"', page.text)
        town.observe(town.north[1], 15.0)  # after the page, before the stream opens
        with staff.stream("GET", url + "&lang=en") as stream:
            _id, data = next(_events(stream.iter_lines()))
        assert [v["value"] for v in data["values"]] == [15.0]
        assert staff.get(f"/{town.slug}/console?page=0").status_code == 422


def test_the_server_stops_with_a_stream_open(
    database: Database, mosquitto_url: str, make_tenant: Callable[..., TenantFixture]
) -> None:
    own = _serve(database, mosquitto_url)
    tenant = make_tenant(modules=["sensorthings", "web"])
    with httpx.Client(base_url=own.base, timeout=httpx.Timeout(30, read=20)) as staff:
        answer = staff.post(
            f"/{tenant.slug}/console/login",
            data={"token": tenant.admin_token},
            headers={"Origin": own.base},
        )
        assert answer.status_code == 303
        with staff.stream("GET", f"/{tenant.slug}/console/live") as stream:
            assert stream.status_code == 200
            _until(lambda: bool(own.feed().watching()), "the stream did not join the feed")
            own.stop()  # uvicorn cancels the open stream after its grace; the feed closes
            assert own.feed().closed
            assert not own.feed().watching()


def test_the_overview_reads_each_streams_period_in_the_database(
    server: Server, town: Town, database: Database
) -> None:
    for number, period in enumerate((60, "120", "x", 0, 30.5)):
        _thing, stream = _place(town.api, town.slug, f"P{number}", "Nord", (7.7, 49.4), period)
        town.observe(stream, 1.0)  # the period is read with the latest values
    with database.read() as session:
        tenant = tenants.find_active(session=session, slug=town.slug)
        assert tenant is not None
        found = {d.name: d.period_s for d in console_data.devices(session, tenant.id)}
    assert found["P0"] == 60
    assert found["P1"] == 120  # a number written as text counts too
    assert {found[f"P{n}"] for n in (2, 3, 4)} == {console_data.DEFAULT_PERIOD_S}
