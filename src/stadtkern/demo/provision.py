"""Bring a tenant's devices up to the fleet: create what is missing, over the public API.

Provisioning is idempotent: it looks up what exists (Things by their device code, lanterns in
the register, warning zones by key) and creates only the rest, so a second start, or a start
against an installation that already has part of the fleet, changes nothing twice.
Lanterns are registered through the lantern register (which makes their Things, actuators
and status Datastreams); their environment Datastreams are added through SensorThings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stadtkern.demo.client import ApiError, Platform
from stadtkern.demo.fleet import LANTERN, Device, Fleet, Stream
from stadtkern.demo.geography import district_geojson
from stadtkern.demo.quantities import QUANTITIES, sensor_body
from stadtkern.devices.lantern.keys import device_key_from_seed, public_key_text

logger = logging.getLogger("stadtkern.demo")
BATCH = 40  # Things per $batch request: deep inserts of a few dozen entities each
LANTERN_FILE = 1000  # lanterns per import request (the register takes up to 5,000)

Progress = Callable[[str, int, int], None]


@dataclass
class Deployed:
    """Where the fleet lives in the platform: Thing and Datastream ids by device code."""

    things: dict[str, int] = field(default_factory=dict)
    streams: dict[str, dict[str, int]] = field(default_factory=dict)
    properties: dict[str, dict[str, Any]] = field(default_factory=dict)  # each Thing's, by code
    first: dict[int, datetime] = field(default_factory=dict)  # where each stream's data begins
    last: dict[int, datetime] = field(default_factory=dict)  # and where it ends

    def datastream(self, device: Device, stream: Stream) -> int | None:
        """The Datastream id of a device's stream, if it exists."""
        return self.streams.get(device.code, {}).get(stream.name)


def lantern_seed(fleet: Fleet) -> bytes:
    """The seed the simulated lanterns derive their device keys from."""
    return f"stadtkern-demo/{fleet.seed}".encode()


def lantern_public_key(fleet: Fleet, code: str) -> str:
    """The public device key of a simulated lantern (as simulated_fleet derives it)."""
    key = device_key_from_seed(lantern_seed(fleet) + f"\x00{fleet.tenant}\x00{code}".encode())
    return public_key_text(key.public_key())


def discover(platform: Platform) -> Deployed:
    """The demo devices that exist in the tenant, found by the code in their properties."""
    deployed = Deployed()
    query = (
        "/v1.1/Things?$select=id,properties&$top=1000"
        "&$expand=Datastreams($select=id,name,phenomenonTime)"
    )
    for thing in platform.pages(query):
        properties = thing.get("properties") or {}
        code = (properties.get("demo") or {}).get("code") or (properties.get("lantern") or {}).get(
            "code"
        )
        if not isinstance(code, str):
            continue
        deployed.things[code] = int(thing["@iot.id"])
        deployed.properties[code] = properties
        streams = thing.get("Datastreams", [])
        deployed.streams[code] = {str(s["name"]): int(s["@iot.id"]) for s in streams}
        for stream in streams:
            interval = _interval(stream.get("phenomenonTime"))
            if interval is not None:
                deployed.first[int(stream["@iot.id"])] = interval[0]
                deployed.last[int(stream["@iot.id"])] = interval[1]
    return deployed


def _interval(value: object) -> tuple[datetime, datetime] | None:
    """An ISO 8601 interval 'start/end' (or one instant) as datetimes."""
    if not isinstance(value, str) or not value:
        return None
    try:
        ends = [datetime.fromisoformat(part.replace("Z", "+00:00")) for part in value.split("/")]
    except ValueError:
        return None
    return ends[0], ends[-1]


def provision(platform: Platform, fleet: Fleet, *, progress: Progress | None = None) -> Deployed:
    """Create every missing part of the fleet; the ids of all of it."""
    report = progress or (lambda _step, _done, _total: None)
    shared = _shared_entities(platform, fleet)
    _zones(platform, fleet)
    lanterns = [d for d in fleet.devices if d.kind == LANTERN]
    _register_lanterns(platform, fleet, lanterns, report)
    deployed = discover(platform)
    _complete_lanterns(platform, lanterns, deployed, shared, report)
    others = [d for d in fleet.devices if d.kind != LANTERN and d.code not in deployed.things]
    for start in range(0, len(others), BATCH):
        chunk = others[start : start + BATCH]
        _batch(platform, [("POST", "Things", _thing(device, shared)) for device in chunk])
        report("devices", start + len(chunk), len(others))
    return discover(platform)


@dataclass(frozen=True)
class _Shared:
    """Ids of the Sensors (by name) and ObservedProperties (by quantity key) the fleet uses."""

    sensors: dict[str, int]
    properties: dict[str, int]


def _shared_entities(platform: Platform, fleet: Fleet) -> _Shared:
    sensors = {
        str(s["name"]): int(s["@iot.id"])
        for s in platform.pages("/v1.1/Sensors?$select=id,name&$top=1000")
    }
    by_definition = {
        str(p["definition"]): int(p["@iot.id"])
        for p in platform.pages("/v1.1/ObservedProperties?$select=id,definition&$top=1000")
    }
    needed_sensors = sorted({stream.sensor for _, stream in fleet.streams()})
    for name in needed_sensors:
        if name not in sensors:
            created = platform.request("POST", "/v1.1/Sensors", sensor_body(name))
            sensors[name] = int(created["@iot.id"])
    properties: dict[str, int] = {}
    for key in sorted({stream.quantity for _, stream in fleet.streams()}):
        body = QUANTITIES[key].observed_property()
        found = by_definition.get(body["definition"])
        if found is None:
            found = int(platform.request("POST", "/v1.1/ObservedProperties", body)["@iot.id"])
        properties[key] = found
    return _Shared(sensors, properties)


def _zones(platform: Platform, fleet: Fleet) -> None:
    existing = {str(zone["key"]) for zone in platform.request("GET", "/warning/zones")}
    for district in fleet.town.districts:
        if district.key in existing:
            continue
        body = {
            "key": district.key,
            "name": district.name,
            "kind": "district",
            "geometry": district_geojson(district),
        }
        platform.request("POST", "/warning/zones", body)


def _registered_lanterns(platform: Platform) -> set[str]:
    codes: set[str] = set()
    after = ""
    while True:
        page = platform.request("GET", f"/warning/lanterns?limit=5000{after}")
        codes.update(str(lantern["code"]) for lantern in page)
        if len(page) < 5000:
            return codes
        after = f"&after={page[-1]['code']}"


def _register_lanterns(
    platform: Platform, fleet: Fleet, lanterns: Sequence[Device], report: Progress
) -> None:
    registered = _registered_lanterns(platform)
    missing = [device for device in lanterns if device.code not in registered]
    for start in range(0, len(missing), LANTERN_FILE):
        chunk = missing[start : start + LANTERN_FILE]
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [device.point.x, device.point.y]},
                "properties": {
                    "code": device.code,
                    "name": device.name,
                    "publicKey": lantern_public_key(fleet, device.code),
                    "district": device.district,
                    "sirenSoundLevelDb": 118,
                    "firmware": "stadtkern-reference",
                    "heartbeatSeconds": 60,
                },
            }
            for device in chunk
        ]
        document = json.dumps({"type": "FeatureCollection", "features": features}).encode()
        platform.request(
            "POST",
            "/warning/lanterns/import",
            raw=document,
            content_type="application/geo+json",
        )
        report("lanterns", start + len(chunk), len(missing))


def _complete_lanterns(
    platform: Platform,
    lanterns: Sequence[Device],
    deployed: Deployed,
    shared: _Shared,
    report: Progress,
) -> None:
    """Give each registered lantern's Thing its environment Datastreams and demo properties."""
    requests: list[tuple[str, str, dict[str, Any]]] = []
    for device in lanterns:
        thing_id = deployed.things.get(device.code)
        if thing_id is None:
            continue
        present = deployed.streams.get(device.code, {})
        for stream in device.streams:
            if stream.name not in present:
                body = {**_datastream(device, stream, shared), "Thing": {"@iot.id": thing_id}}
                requests.append(("POST", "Datastreams", body))
        registered = deployed.properties.get(device.code, {})
        if "demo" not in registered:  # the register made it: tag the Thing as a demo device
            properties = {**registered, **device.thing_properties()}
            requests.append(("PATCH", f"Things({thing_id})", {"properties": properties}))
    for start in range(0, len(requests), BATCH * 4):
        _batch(platform, requests[start : start + BATCH * 4])
        report("lantern sensors", min(start + BATCH * 4, len(requests)), len(requests))


def _batch(platform: Platform, requests: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
    document = {
        "requests": [
            {"id": str(number), "method": method.lower(), "url": url, "body": body}
            for number, (method, url, body) in enumerate(requests)
        ]
    }
    answer = platform.request("POST", "/v1.1/$batch", document)
    failed = [r for r in answer.get("responses", []) if int(r.get("status", 0)) >= 400]
    if failed:
        raise ApiError("POST", "$batch", int(failed[0]["status"]), json.dumps(failed[0]).encode())


def _datastream(device: Device, stream: Stream, shared: _Shared) -> dict[str, Any]:
    quantity = QUANTITIES[stream.quantity]
    return {
        "name": stream.name,
        "description": f"{quantity.description}: {device.name}",
        **quantity.datastream_fields(),
        "properties": {"periodSeconds": stream.period_s, "quantity": stream.quantity},
        "Sensor": {"@iot.id": shared.sensors[stream.sensor]},
        "ObservedProperty": {"@iot.id": shared.properties[stream.quantity]},
    }


def _thing(device: Device, shared: _Shared) -> dict[str, Any]:
    return {
        "name": device.name,
        "description": f"Simulated {device.kind.replace('_', ' ')} {device.code}",
        "properties": device.thing_properties(),
        "Locations": [
            {
                "name": device.name,
                "description": f"Where {device.code} stands",
                "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [device.point.x, device.point.y]},
            }
        ],
        "Datastreams": [_datastream(device, stream, shared) for stream in device.streams],
    }
