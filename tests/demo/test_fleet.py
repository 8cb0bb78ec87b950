"""The simulated fleet and its history: what stands where, deterministic, gaps filled once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stadtkern.demo.backfill import _documents, gaps, parse_duration
from stadtkern.demo.fleet import (
    BRIDGE,
    CLASSROOM,
    GATEWAY,
    KINDS,
    LANTERN,
    NETWORKS,
    PARKING_SPACE,
    PEDESTRIAN_COUNTER,
    build_fleet,
)
from stadtkern.demo.geography import load_town
from stadtkern.demo.live import is_down, natural_rate
from stadtkern.demo.provision import Deployed, lantern_public_key
from stadtkern.demo.quantities import QUANTITIES, SENSORS


def test_kaiserslautern_has_the_fleet_the_issue_asks_for() -> None:
    fleet = build_fleet("kaiserslautern", load_town("kaiserslautern"), seed=1)
    counts = {kind: len(fleet.of_kind(kind)) for kind in KINDS}
    assert counts[LANTERN] == 500
    assert counts[PARKING_SPACE] == 300
    assert counts[PEDESTRIAN_COUNTER] == 10
    assert counts[BRIDGE] == 5
    assert len({d.properties["site"] for d in fleet.of_kind(CLASSROOM)}) == 8
    technologies = {d.properties["technology"] for d in fleet.of_kind(GATEWAY)}
    assert technologies == {"fibre", "lorawan", "5g"}
    small_cells = [d for d in fleet.of_kind(LANTERN) if d.properties.get("smallCell")]
    assert 25 <= len(small_cells) <= 80  # about one lantern in ten
    assert sum(bool(d.properties.get("degrading")) for d in fleet.of_kind(BRIDGE)) == 1
    codes = [device.code for device in fleet.devices]
    assert len(codes) == len(set(codes))


def test_every_device_depends_on_a_gateway_of_its_network() -> None:
    fleet = build_fleet("kaiserslautern", load_town("kaiserslautern"), seed=1)
    gateways = {g.code: g.properties["technology"] for g in fleet.of_kind(GATEWAY)}
    for device in fleet.devices:
        if device.kind == GATEWAY:
            assert device.gateway is None
            continue
        assert device.gateway in gateways, device.code
        assert gateways[device.gateway] in NETWORKS[device.kind], device.code


def test_streams_name_known_quantities_and_sensors() -> None:
    fleet = build_fleet("kusel", load_town("kusel"), seed=3)
    for device, stream in fleet.streams():
        assert stream.quantity in QUANTITIES
        assert stream.sensor in SENSORS
        assert stream.behaviour.key == f"kusel/{device.code}/{stream.quantity}"
        names = [s.name for s in device.streams]
        assert len(names) == len(set(names)), device.code
    assert 0 < natural_rate(fleet) < 20


def test_same_seed_same_city_other_seed_other_city() -> None:
    town = load_town("kaiserslautern")
    one = build_fleet("kaiserslautern", town, seed=5, lanterns=50)
    again = build_fleet("kaiserslautern", town, seed=5, lanterns=50)
    other = build_fleet("kaiserslautern", town, seed=6, lanterns=50)
    assert one == again
    assert [d.point for d in one.devices] != [d.point for d in other.devices]
    assert lantern_public_key(one, "L-0001") == lantern_public_key(again, "L-0001")
    assert lantern_public_key(one, "L-0001") != lantern_public_key(other, "L-0001")


def test_a_down_gateway_takes_its_devices_down() -> None:
    fleet = build_fleet("kaiserslautern", load_town("kaiserslautern"), seed=1, lanterns=100)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    # Walk through a month until some gateway is down, then all its devices are.
    for minute in range(0, 31 * 24 * 60, 10):
        t = start + timedelta(minutes=minute)
        for gateway in fleet.of_kind(GATEWAY):
            served = [d for d in fleet.devices if d.gateway == gateway.code]
            if served and is_down(fleet, gateway, t):
                assert all(is_down(fleet, device, t) for device in served)
                return
    pytest.fail("no gateway serving devices was down in a month")


def test_durations() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("0") == timedelta(0)
    for wrong in ("", "7", "d7", "7y", "-1d"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(wrong)


def test_history_fills_only_what_is_missing() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    until = since + timedelta(days=7)
    deployed = Deployed()
    assert gaps(deployed, 1, since, until) == [(since, until)]
    deployed.first[1] = since + timedelta(days=2)
    deployed.last[1] = since + timedelta(days=3)
    assert gaps(deployed, 1, since, until) == [
        (since, since + timedelta(days=2)),
        (since + timedelta(days=3), until),
    ]
    deployed.first[1], deployed.last[1] = since - timedelta(days=1), until
    assert gaps(deployed, 1, since, until) == []


def test_history_documents_are_create_observations_bodies() -> None:
    fleet = build_fleet("kusel", load_town("kusel"), seed=1, lanterns=2)
    deployed = Deployed()
    for number, (device, stream) in enumerate(fleet.streams(), start=1):
        deployed.streams.setdefault(device.code, {})[stream.name] = number
    until = datetime(2026, 11, 20, 12, tzinfo=UTC)
    documents = list(_documents(fleet, deployed, until - timedelta(hours=6), until, timedelta(0)))
    rows = 0
    for body, count in documents:
        assert count == sum(len(part["dataArray"]) for part in body)
        rows += count
        for part in body:
            assert part["components"] == ["phenomenonTime", "result"]
            times = [row[0] for row in part["dataArray"]]
            assert times == sorted(times)
            assert all(t.endswith("Z") for t in times)
    assert rows > 0
    again = list(_documents(fleet, deployed, until - timedelta(hours=6), until, timedelta(0)))
    assert again == documents  # the same history every time
