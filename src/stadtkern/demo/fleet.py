"""The simulated city's devices: what stands where, what it reports, which gateway it needs.

A fleet is a pure function of the town's geography, the seed and the number of lanterns:
the same arguments give the same devices, codes, positions and behaviours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point

from stadtkern.demo.behaviour import Behaviour
from stadtkern.demo.geography import Place, TownGeography, lantern_sites

LANTERN = "lantern"
PARKING_SPACE = "parking_space"
PEDESTRIAN_COUNTER = "pedestrian_counter"
BRIDGE = "bridge"
CLASSROOM = "classroom"
GATEWAY = "gateway"
KINDS = (LANTERN, PARKING_SPACE, PEDESTRIAN_COUNTER, BRIDGE, CLASSROOM, GATEWAY)

# Which gateway technologies a kind of device can use (its nearest such gateway serves it).
NETWORKS: dict[str, tuple[str, ...]] = {
    LANTERN: ("fibre", "5g"),
    PARKING_SPACE: ("lorawan",),
    PEDESTRIAN_COUNTER: ("5g", "fibre"),
    BRIDGE: ("lorawan",),
    CLASSROOM: ("fibre", "lorawan"),
}
LANTERNS_PER_TOWN = {"kaiserslautern": 500, "kusel": 60}
SMALL_CELL_SHARE = 0.1


@dataclass(frozen=True)
class Stream:
    """One Datastream of a device: its name on the Thing, quantity, behaviour, period."""

    name: str
    quantity: str
    sensor: str
    behaviour: Behaviour
    period_s: int


@dataclass(frozen=True)
class Device:
    """One simulated Thing."""

    code: str
    kind: str
    name: str
    point: Point
    district: str
    gateway: str | None
    streams: tuple[Stream, ...]
    properties: Mapping[str, Any] = field(default_factory=dict)

    def thing_properties(self) -> dict[str, Any]:
        """What the Thing's properties say about the device (kind, gateway, site)."""
        demo = {"code": self.code, "district": self.district, "gateway": self.gateway}
        return {"kind": self.kind, "demo": {**demo, **self.properties}}


@dataclass(frozen=True)
class Fleet:
    """Every device of one town."""

    tenant: str
    town: TownGeography
    seed: int
    devices: tuple[Device, ...]

    def of_kind(self, kind: str) -> tuple[Device, ...]:
        """The devices of one kind, in code order."""
        return tuple(device for device in self.devices if device.kind == kind)

    def streams(self) -> list[tuple[Device, Stream]]:
        """Every (device, stream) pair."""
        return [(device, stream) for device in self.devices for stream in device.streams]


def draw(seed: int, *parts: object) -> float:
    """A uniform number in [0, 1) that depends only on the seed and the parts."""
    text = "/".join([str(seed), *(str(part) for part in parts)])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def build_fleet(
    tenant: str, town: TownGeography, *, seed: int, lanterns: int | None = None
) -> Fleet:
    """The town's fleet; `lanterns` defaults to the town's usual number."""
    count = LANTERNS_PER_TOWN.get(town.slug, 100) if lanterns is None else lanterns
    gateways = _gateways(tenant, town)
    builder = _Builder(tenant, town, seed, gateways)
    devices = [
        *gateways,
        *builder.lanterns(count),
        *builder.parking_spaces(),
        *builder.pedestrian_counters(),
        *builder.bridges(),
        *builder.classrooms(),
    ]
    return Fleet(tenant=tenant, town=town, seed=seed, devices=tuple(devices))


def _gateways(tenant: str, town: TownGeography) -> list[Device]:
    prefixes = {"fibre": "GW-FIB", "lorawan": "GW-LORA", "5g": "GW-5G"}
    devices: list[Device] = []
    counters: dict[str, int] = {}
    for place in town.places_of("gateway_site"):
        technology = str(place.properties["technology"])
        counters[technology] = counters.get(technology, 0) + 1
        code = f"{prefixes[technology]}-{counters[technology]:02d}"
        uptime = Stream(
            "Betriebszeit",
            "uptime",
            "Gateway",
            Behaviour("gateway_heartbeat", f"{tenant}/{code}/uptime"),
            60,
        )
        devices.append(
            Device(
                code=code,
                kind=GATEWAY,
                name=f"Gateway {place.name}",
                point=place.point,
                district=_district(town, place.point),
                gateway=None,
                streams=(uptime,),
                properties={"technology": technology, "site": place.name},
            )
        )
    return devices


def _district(town: TownGeography, point: Point) -> str:
    district = town.district_at(point)
    return district.key if district is not None else town.districts[0].key


@dataclass
class _Builder:
    tenant: str
    town: TownGeography
    seed: int
    gateways: list[Device]

    def _gateway(self, kind: str, point: Point) -> str | None:
        allowed = NETWORKS[kind]
        candidates = [g for g in self.gateways if g.properties["technology"] in allowed]
        if not candidates:
            candidates = self.gateways
        if not candidates:
            return None
        return min(candidates, key=lambda g: g.point.distance(point)).code

    def _stream(
        self,
        code: str,
        name: str,
        quantity: str,
        sensor: str,
        model: str,
        period_s: int,
        **params: float,
    ) -> Stream:
        key = f"{self.tenant}/{code}/{quantity}"
        return Stream(name, quantity, sensor, Behaviour(model, key, params), period_s)

    def lanterns(self, count: int) -> list[Device]:
        pack = "Lantern environment pack"
        lat, lon = float(self.town.centre.y), float(self.town.centre.x)
        devices = []
        for site in lantern_sites(self.town, count, seed=self.seed):
            code = site.code
            traffic = 0.4 + 0.6 * draw(self.seed, self.tenant, code, "traffic")
            streams = [
                self._stream(
                    code, "Lichtstärke", "light-level", pack, "light_level", 300, lat=lat, lon=lon
                ),
                self._stream(
                    code, "Lufttemperatur", "air-temperature", pack, "air_temperature", 300
                ),
                self._stream(
                    code, "Schallpegel", "noise-level", pack, "noise_level", 60, traffic=traffic
                ),
                self._stream(code, "PM2.5", "pm25", pack, "pm25", 120, traffic=traffic),
                self._stream(code, "PM10", "pm10", pack, "pm10", 120, traffic=traffic),
            ]
            properties: dict[str, Any] = {"street": site.street}
            if draw(self.seed, self.tenant, code, "small-cell") < SMALL_CELL_SHARE:
                streams.append(
                    self._stream(
                        code,
                        "5G-Kleinzelle",
                        "small-cell-users",
                        "5G small cell",
                        "small_cell_users",
                        60,
                    )
                )
                properties["smallCell"] = True
            devices.append(
                Device(
                    code=code,
                    kind=LANTERN,
                    name=f"Laterne {code} {site.street}",
                    point=site.point,
                    district=site.district,
                    gateway=self._gateway(LANTERN, site.point),
                    streams=tuple(streams),
                    properties=properties,
                )
            )
        return devices

    def parking_spaces(self) -> list[Device]:
        devices = []
        for number, car_park in enumerate(self.town.places_of("car_park"), start=1):
            spaces = int(car_park.properties.get("spaces", 50))
            base = 0.5 + 0.4 * draw(self.seed, self.tenant, car_park.key, "base")
            event = float(bool(car_park.properties.get("eventSensitive", False)))
            for space in range(1, spaces + 1):
                code = f"P{number}-{space:03d}"
                point = _spread(car_park, space, spaces)
                devices.append(
                    Device(
                        code=code,
                        kind=PARKING_SPACE,
                        name=f"{car_park.name}, Stellplatz {space}",
                        point=point,
                        district=_district(self.town, point),
                        gateway=self._gateway(PARKING_SPACE, point),
                        streams=(
                            self._stream(
                                code,
                                "Belegung",
                                "space-occupied",
                                "Parking space sensor",
                                "space_occupied",
                                60,
                                base=base,
                                event_sensitive=event,
                            ),
                        ),
                        properties={"site": car_park.name, "space": space},
                    )
                )
        return devices

    def pedestrian_counters(self) -> list[Device]:
        zones = self.town.places_of("pedestrian_zone")
        if not zones:
            return []
        zone = zones[0]
        count = 10 if self.town.slug == "kaiserslautern" else 2
        stadium = float(bool(self.town.places_of("stadium")))
        devices = []
        for number in range(1, count + 1):
            code = f"PC-{number:02d}"
            point = _along(zone, number, count)
            scale = 120 + 280 * draw(self.seed, self.tenant, code, "scale")
            devices.append(
                Device(
                    code=code,
                    kind=PEDESTRIAN_COUNTER,
                    name=f"Passantenzähler {zone.name} {number}",
                    point=point,
                    district=_district(self.town, point),
                    gateway=self._gateway(PEDESTRIAN_COUNTER, point),
                    streams=(
                        self._stream(
                            code,
                            "Passanten",
                            "pedestrians",
                            "Pedestrian counter",
                            "pedestrians",
                            300,
                            scale=round(scale),
                            event_sensitive=stadium,
                        ),
                    ),
                    properties={"site": zone.name},
                )
            )
        return devices

    def bridges(self) -> list[Device]:
        unit = "Bridge monitoring unit"
        devices = []
        for number, bridge in enumerate(self.town.places_of("bridge"), start=1):
            code = f"BR-{number:02d}"
            degrading = float(bool(bridge.properties.get("degrading", False)))
            base_hz = 2.5 + 1.5 * draw(self.seed, self.tenant, code, "hz")
            streams = (
                self._stream(
                    code, "Dehnung", "strain", unit, "bridge_strain", 60, degrading=degrading
                ),
                self._stream(
                    code, "Neigung", "tilt", unit, "bridge_tilt", 600, degrading=degrading
                ),
                self._stream(
                    code, "Rissbreite", "crack-width", unit, "crack_width", 600, degrading=degrading
                ),
                self._stream(
                    code,
                    "Bauwerkstemperatur",
                    "structure-temperature",
                    unit,
                    "bridge_temperature",
                    600,
                ),
                self._stream(
                    code,
                    "Eigenfrequenz",
                    "natural-frequency",
                    unit,
                    "natural_frequency",
                    600,
                    base_hz=round(base_hz, 2),
                    degrading=degrading,
                ),
            )
            devices.append(
                Device(
                    code=code,
                    kind=BRIDGE,
                    name=bridge.name,
                    point=bridge.point,
                    district=_district(self.town, bridge.point),
                    gateway=self._gateway(BRIDGE, bridge.point),
                    streams=streams,
                    properties={"site": bridge.name, "degrading": bool(degrading)},
                )
            )
        return devices

    def classrooms(self) -> list[Device]:
        sensor = "Classroom climate sensor"
        devices = []
        for number, school in enumerate(self.town.places_of("school"), start=1):
            rooms = int(school.properties.get("classrooms", 4))
            for room in range(1, rooms + 1):
                code = f"S{number}-R{room:02d}"
                ventilation = float(draw(self.seed, self.tenant, code, "air") < 0.5)
                point = _spread(school, room, rooms)
                devices.append(
                    Device(
                        code=code,
                        kind=CLASSROOM,
                        name=f"{school.name}, Raum {room}",
                        point=point,
                        district=_district(self.town, point),
                        gateway=self._gateway(CLASSROOM, point),
                        streams=(
                            self._stream(
                                code, "CO₂", "co2", sensor, "co2", 120, ventilation=ventilation
                            ),
                            self._stream(
                                code,
                                "Raumtemperatur",
                                "room-temperature",
                                sensor,
                                "room_temperature",
                                300,
                            ),
                            self._stream(
                                code, "Luftfeuchte", "room-humidity", sensor, "room_humidity", 300
                            ),
                        ),
                        properties={"site": school.name, "room": room},
                    )
                )
        return devices


def _spread(place: Place, index: int, total: int) -> Point:
    """Spots of a site (spaces of a car park, rooms of a school) a few metres apart."""
    columns = max(1, int(total**0.5))
    row, column = divmod(index - 1, columns)
    centre = place.point
    return Point(
        round(centre.x + (column - columns / 2) * 0.00004, 6),
        round(centre.y + (row - total / columns / 2) * 0.00003, 6),
    )


def _along(place: Place, index: int, total: int) -> Point:
    """Evenly spaced points along a place's line (or boundary) geometry."""
    geometry = place.geometry
    line = geometry.exterior if geometry.geom_type == "Polygon" else geometry
    if line.geom_type not in ("LineString", "LinearRing"):
        return place.point
    point = line.interpolate((index - 0.5) / total, normalized=True)
    return Point(round(point.x, 6), round(point.y, 6))
