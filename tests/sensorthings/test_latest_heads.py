"""`Datastreams/$latest` entries stay true when the Datastream, its Thing or Location change.

The constant part of each entry is kept rendered in `sta_latest_head` by triggers; every
test compares the whole page with what the entities' own GETs say at that moment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from stadtkern.db import Database
from stadtkern.sensorthings.derived import LatestHead
from tests.conftest import TenantFixture
from tests.sensorthings.fast_reads import HOST, Town, fill_latest
from tests.sensorthings.test_partitions import _fill as fill_before_heads
from tests.sensorthings.test_partitions import upgrade_to

HEAD = LatestHead.__table__

MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MARKT = (7.768912345678901, 49.44471234567891)  # 16-17 significant digits: kept exactly
KUSEL = (7.3990, 49.5380)


@pytest.fixture
def town(client: TestClient, make_tenant: Callable[..., TenantFixture], database: Database) -> Town:
    """Two lanterns with one Datastream each, and one Observation on each Datastream."""
    town = Town.make(client, make_tenant, database)
    for name in ("Lantern 1", "Lantern 2"):
        thing, (stream,) = town.stream(name, kind="lantern", at=MARKT)
        town.observe(stream, [(MORNING, 19.5)])
        town.ids = {**getattr(town, "ids", {}), name: (thing, stream)}  # type: ignore[attr-defined]
    fill_latest(town)
    return town


def _patch(town: Town, path: str, body: dict[str, Any]) -> None:
    answer = town.client.patch(f"{town.base}/{path}", json=body, headers=town.tenant.headers)
    assert answer.status_code == 200, answer.text


def _delete(town: Town, path: str) -> None:
    answer = town.client.delete(f"{town.base}/{path}", headers=town.tenant.headers)
    assert answer.status_code == 200, answer.text


def _expected(town: Town, stream: int) -> dict[str, Any]:
    """The entry's Datastream, Thing and location as the entities' GETs tell them."""
    datastream = town.json(f"Datastreams({stream})")
    thing = town.json(f"Datastreams({stream})/Thing")
    places = town.json(f"Things({thing['@iot.id']})/Locations", [("$orderby", "id")])["value"]
    return {
        "Datastream": {
            "@iot.id": stream,
            "name": datastream["name"],
            "unitOfMeasurement": datastream["unitOfMeasurement"],
            "@iot.selfLink": f"{HOST}{town.base}/Datastreams({stream})",
        },
        "Thing": {"@iot.id": thing["@iot.id"], "name": thing["name"]},
        "location": places[0]["location"] if places else None,
    }


def _assert_page_is_true(town: Town) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = town.json("Datastreams/$latest")["value"]
    for entry in entries:
        head = {key: entry[key] for key in ("Datastream", "Thing", "location")}
        assert head == _expected(town, entry["Datastream"]["@iot.id"])
    return entries


def test_names_units_and_coordinates_read_as_written(town: Town) -> None:
    entries = _assert_page_is_true(town)
    assert [entry["location"]["coordinates"] for entry in entries] == [list(MARKT)] * 2


def test_a_renamed_datastream_and_thing_and_a_new_unit_show_at_once(town: Town) -> None:
    thing, stream = town.ids["Lantern 1"]  # type: ignore[attr-defined]
    unit = {"name": "Lux", "symbol": "lx", "definition": "ucum:lx"}
    _patch(
        town, f"Datastreams({stream})", {"name": 'Helligkeit "Süd" \\ 1', "unitOfMeasurement": unit}
    )
    _patch(town, f"Things({thing})", {"name": "Laterne Marktstraße\n17"})
    entries = _assert_page_is_true(town)
    assert entries[0]["Datastream"]["name"] == 'Helligkeit "Süd" \\ 1'
    assert entries[0]["Datastream"]["unitOfMeasurement"] == unit
    assert entries[0]["Thing"]["name"] == "Laterne Marktstraße\n17"
    assert entries[1]["Thing"]["name"] == "Lantern 2"


def test_a_datastream_given_to_another_thing_shows_that_thing(town: Town) -> None:
    _thing_1, stream_1 = town.ids["Lantern 1"]  # type: ignore[attr-defined]
    thing_2, _stream_2 = town.ids["Lantern 2"]  # type: ignore[attr-defined]
    _patch(town, f"Datastreams({stream_1})", {"Thing": {"@iot.id": thing_2}})
    entries = _assert_page_is_true(town)
    assert [entry["Thing"]["@iot.id"] for entry in entries] == [thing_2, thing_2]


def test_a_moved_location_and_a_new_location_show_at_once(town: Town) -> None:
    thing, _stream = town.ids["Lantern 1"]  # type: ignore[attr-defined]
    (place,) = town.json(f"Things({thing})/Locations")["value"]
    _patch(
        town,
        f"Locations({place['@iot.id']})",
        {"location": {"type": "Point", "coordinates": list(KUSEL)}},
    )
    entries = _assert_page_is_true(town)
    assert entries[0]["location"]["coordinates"] == list(KUSEL)
    # A Thing's new current Location replaces the old one (HistoricalLocations keep it).
    depot = town.post(
        "Locations",
        {
            "name": "Depot",
            "description": "stored",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [7.7, 49.4]},
        },
    )
    assert depot.status_code == 201, depot.text
    moved = {"Locations": [{"@iot.id": depot.json()["@iot.id"]}]}
    _patch(town, f"Things({thing})", moved)
    entries = _assert_page_is_true(town)
    assert entries[0]["location"]["coordinates"] == [7.7, 49.4]
    assert entries[1]["location"]["coordinates"] == list(MARKT)


def test_a_deleted_location_leaves_no_location_and_a_deleted_datastream_no_entry(
    town: Town,
) -> None:
    thing, _stream = town.ids["Lantern 1"]  # type: ignore[attr-defined]
    (place,) = town.json(f"Things({thing})/Locations")["value"]
    _delete(town, f"Locations({place['@iot.id']})")
    entries = _assert_page_is_true(town)
    assert entries[0]["location"] is None
    _thing_2, stream_2 = town.ids["Lantern 2"]  # type: ignore[attr-defined]
    _delete(town, f"Datastreams({stream_2})")
    assert len(_assert_page_is_true(town)) == 1
    _delete(town, f"Things({thing})")
    assert town.json("Datastreams/$latest")["value"] == []


def test_the_base_url_is_the_requests(town: Town) -> None:
    _thing, stream = town.ids["Lantern 1"]  # type: ignore[attr-defined]
    answer = town.client.get(
        f"{town.base}/Datastreams/$latest",
        headers={**town.tenant.headers, "host": "karte.example.org"},
    )
    assert answer.status_code == 200, answer.text
    first = answer.json()["value"][0]["Datastream"]["@iot.selfLink"]
    assert first == f"http://karte.example.org{town.base}/Datastreams({stream})"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_migration_renders_the_heads_of_existing_datastreams(
    backend: str, make_database: Callable[[str], Database]
) -> None:
    database = make_database(backend)
    upgrade_to(database, "sensorthings_0003")
    stream, _ids = fill_before_heads(database)
    upgrade_to(database, "sensorthings_0004")
    with database.read() as session:
        head, tail = session.execute(
            select(HEAD.c.head, HEAD.c.tail).where(HEAD.c.datastream_id == stream)
        ).one()
    entry = json.loads(f'{head}https://x.example/t/v1.1{tail}{{"@iot.id":1}}}}')
    assert entry["Datastream"] == {
        "@iot.id": stream,
        "name": "x",
        "unitOfMeasurement": {},
        "@iot.selfLink": f"https://x.example/t/v1.1/Datastreams({stream})",
    }
    assert entry["Thing"]["name"] == "x"
    assert entry["location"] is None
