"""Black-box: the Fraunhofer Python client (frost-sta-client) against a running Stadtkern.

The server runs as `stadtkern serve` in its own process, on the session's database of each
backend; the client talks HTTP with Basic auth (the only scheme it offers), as a city's
data team would use it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import frost_sta_client as fsc
import pytest
import requests
from frost_sta_client.model.ext.unitofmeasurement import UnitOfMeasurement
from geojson import Point

from stadtkern.db import Database
from tests.conftest import TenantFixture, free_port, issue_token

STADTKERN = Path(sys.executable).parent / "stadtkern"


@pytest.fixture(scope="module")
def server_url(
    database: Database, mosquitto_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`stadtkern serve` on a free port, on the session's database of this backend."""
    port = free_port()
    env = {
        **os.environ,
        "STADTKERN_DEV_MODE": "true",
        "STADTKERN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "STADTKERN_MQTT__URL": mosquitto_url,
        "STADTKERN_MQTT__CLIENT_ID": f"frost-test-{port}",
    }
    log_path = tmp_path_factory.mktemp("frost") / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(STADTKERN), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"stadtkern serve did not become ready: {log_path.read_text()[-2000:]}")
    yield base
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20)


@pytest.fixture
def service(
    server_url: str, database: Database, make_tenant: Callable[..., TenantFixture]
) -> fsc.SensorThingsService:
    """A client bound to a fresh tenant, with an operator's key as the Basic password."""
    tenant = make_tenant(modules=["sensorthings"])
    key = issue_token(database, tenant=tenant.slug, roles=["operator"])
    auth = fsc.service.auth_handler.AuthHandler(username="lantern-team", password=key)
    return fsc.SensorThingsService(f"{server_url}/{tenant.slug}/v1.1", auth_handler=auth)


def _lantern(name: str) -> fsc.Thing:
    location = fsc.Location(
        name="Stiftsplatz",
        description="Lantern mast at the Stiftsplatz",
        encoding_type="application/geo+json",
        location=Point((7.7689, 49.4447)),
    )
    sensor = fsc.Sensor(
        name="Noise sensor",
        description="Class 2 sound level meter",
        encoding_type="application/pdf",
        metadata="https://example.org/noise.pdf",
    )
    noise = fsc.ObservedProperty(
        name="Noise level",
        definition="https://qudt.org/vocab/quantitykind/SoundPressureLevel",
        description="A-weighted sound pressure level",
    )
    unit = UnitOfMeasurement(
        name="decibel", symbol="dB(A)", definition="https://qudt.org/vocab/unit/DeciB_A"
    )
    datastream = fsc.Datastream(
        name=f"{name} noise",
        description="Noise at the lantern",
        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        unit_of_measurement=unit,
        sensor=sensor,
        observed_property=noise,
    )
    thing = fsc.Thing(
        name=name, description="Smart street lantern", properties={"district": "Innenstadt"}
    )
    thing.locations = [location]
    thing.datastreams = [datastream]
    return thing


# The client itself calls a deprecated part of its URL library.
@pytest.mark.filterwarnings("ignore:furl.pathstr is deprecated:DeprecationWarning")
def test_frost_client_drives_the_whole_life_cycle(service: fsc.SensorThingsService) -> None:
    """Deep insert, one-by-one and dataArray observations, queries, paging, JSON-Patch, delete."""
    thing = _lantern("Lantern 17")
    service.create(thing)
    assert isinstance(thing.id, int)

    things = (
        service.things()
        .query()
        .filter("name eq 'Lantern 17'")
        .expand("Datastreams,Locations")
        .list()
    )
    found = things.entities[0]
    assert found.id == thing.id
    datastream = found.datastreams.entities[0]
    assert datastream.name == "Lantern 17 noise"
    assert found.locations.entities[0].name == "Stiftsplatz"

    reference = fsc.Datastream(id=datastream.id)
    for minute, level in enumerate((41.5, 43.0, 57.25)):
        observation = fsc.Observation(
            result=level,
            phenomenon_time=f"2026-12-01T10:0{minute}:00Z",
            datastream=reference,
        )
        service.create(observation)
        assert isinstance(observation.id, int)

    array = fsc.model.ext.data_array_value.DataArrayValue()
    array.datastream = reference
    array.components = {
        fsc.model.ext.data_array_value.DataArrayValue.Property.PHENOMENON_TIME,
        fsc.model.ext.data_array_value.DataArrayValue.Property.RESULT,
    }
    for minute in range(3, 9):
        array.add_observation(
            fsc.Observation(result=40 + minute, phenomenon_time=f"2026-12-01T10:0{minute}:00Z")
        )
    document = fsc.model.ext.data_array_document.DataArrayDocument()
    document.add_data_array_value(array)
    created = service.observations().create(document)
    assert len(created) == 6
    assert all("/Observations(" in entity.self_link for entity in created)

    loud = (
        service.observations()
        .query()
        .filter(f"Datastream/id eq {datastream.id} and result ge 45")
        .orderby("phenomenonTime", "DESC")
        .select("result", "phenomenonTime")
        .list()
    )
    assert [o.result for o in loud.entities] == [48, 47, 46, 45, 57.25]

    paged = service.observations().query().filter(f"Datastream/id eq {datastream.id}").top(4).list()
    seen = [observation.result for observation in paged]  # iterating follows @iot.nextLink
    assert len(seen) == 9

    service.things().patch(
        thing, [{"op": "replace", "path": "/properties/district", "value": "Betzenberg"}]
    )
    assert service.things().find(thing.id).properties == {"district": "Betzenberg"}

    service.things().delete(thing)
    remaining = service.observations().query().filter(f"Datastream/id eq {datastream.id}").list()
    assert list(remaining) == []
    with pytest.raises(requests.HTTPError) as missing:
        service.things().find(thing.id)
    assert missing.value.response.status_code == 404
