"""The demo towns' geography: boundary, districts, streets and places, and where lanterns stand.

The geometry is package data (data/<slug>.json, lon/lat WGS 84, 6 decimals), generated once by
scripts/demo_geography.py around the real centres with real district names; it is a plausible
layout, not a survey. Everything here is a pure function of the data, the seed and the count.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

TOWNS: tuple[str, ...] = ("kaiserslautern", "kusel")

EARTH_METRES_PER_DEGREE = 111_195.0
# Lanterns stand closer together in the centre than on the roads out of town.
SPACING_CENTRE_M = 30.0
SPACING_OUTSKIRTS_M = 45.0
SPACING_REACH_M = 3_000.0  # distance from the centre at which the outskirts' spacing applies
KERB_OFFSET_M = (4.0, 7.0)  # lanterns stand beside the carriageway, not on its axis
CROSSING_CLEARANCE_M = 12.0  # two streets meeting do not get two lanterns on one spot


class UnknownTown(KeyError, ValueError):
    """A town slug without geography (a KeyError for lookups, a ValueError for arguments)."""


@dataclass(frozen=True)
class District:
    """A part of the town (Ortsbezirk, Stadtteil, Verbandsgemeinde)."""

    key: str
    name: str
    area: Polygon


@dataclass(frozen=True)
class Street:
    """A named street; `district` is the key of the district holding its midpoint."""

    name: str
    line: LineString
    district: str


@dataclass(frozen=True)
class Place:
    """A site of some kind (car park, school, bridge, ...) with kind-specific properties."""

    kind: str
    key: str
    name: str
    geometry: BaseGeometry
    properties: Mapping[str, Any]

    @property
    def point(self) -> Point:
        """The place as one point: itself, or a point guaranteed on a line or in a polygon."""
        if isinstance(self.geometry, Point):
            return self.geometry
        point: Point = self.geometry.representative_point()
        return point


@dataclass(frozen=True)
class TownGeography:
    """One town's geometry in lon/lat."""

    slug: str
    name: str
    ars: str
    centre: Point
    boundary: Polygon
    districts: tuple[District, ...]
    streets: tuple[Street, ...]
    places: tuple[Place, ...]

    def places_of(self, kind: str) -> tuple[Place, ...]:
        """The places of one kind, in the data's order."""
        return tuple(place for place in self.places if place.kind == kind)

    def district_at(self, point: Point) -> District | None:
        """The district covering the point (the first one on a shared edge), or None outside."""
        for district in self.districts:
            if district.area.covers(point):
                return district
        return None


@dataclass(frozen=True)
class LanternSite:
    """Where one street lantern stands; `district` is the key of the district holding it."""

    code: str
    point: Point
    street: str
    district: str


@functools.cache
def load_town(slug: str) -> TownGeography:
    """The geography of a town in TOWNS (read once, then cached)."""
    if slug not in TOWNS:
        raise UnknownTown(f"no demo geography for {slug!r}; known: {', '.join(TOWNS)}")
    text = resources.files("stadtkern.demo").joinpath("data", f"{slug}.json").read_text("utf-8")
    return _town(json.loads(text))


def _town(doc: Mapping[str, Any]) -> TownGeography:
    districts = tuple(
        District(f["properties"]["key"], f["properties"]["name"], shape(f["geometry"]))
        for f in doc["districts"]
    )
    for district in districts:
        shapely.prepare(district.area)  # district_at runs for every lantern candidate
    streets = tuple(
        Street(f["properties"]["name"], shape(f["geometry"]), f["properties"]["district"])
        for f in doc["streets"]
    )
    places = []
    for f in doc["places"]:
        props = dict(f["properties"])
        kind, key, name = props.pop("kind"), props.pop("key"), props.pop("name")
        places.append(Place(kind, key, name, shape(f["geometry"]), MappingProxyType(props)))
    boundary = shape(doc["boundary"])
    shapely.prepare(boundary)
    return TownGeography(
        slug=doc["slug"],
        name=doc["name"],
        ars=doc["ars"],
        centre=shape(doc["centre"]),
        boundary=boundary,
        districts=districts,
        streets=streets,
        places=tuple(places),
    )


def boundary_geojson(town: TownGeography) -> dict[str, Any]:
    """The town boundary as a GeoJSON geometry (Polygon)."""
    return _geojson(town.boundary)


def district_geojson(district: District) -> dict[str, Any]:
    """A district's area as a GeoJSON geometry (Polygon)."""
    return _geojson(district.area)


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return data


def _unit(seed: int, key: str, bucket: int | str) -> float:
    """A uniform number in [0, 1) from (seed, key, bucket), the same in every process."""
    digest = hashlib.blake2b(f"{seed}/{key}/{bucket}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class _Candidate:
    street: str
    along: float  # metres from the street's start
    x: float  # metres east of the centre
    y: float  # metres north of the centre
    rank: float  # smaller is chosen first: distance from the centre, jittered


def lantern_sites(town: TownGeography, count: int, *, seed: int) -> list[LanternSite]:
    """`count` lantern sites along the streets, ~30-45 m apart, filling the centre first.

    Deterministic in (town, count, seed). When the streets are too short for `count` lanterns
    at that spacing, the spacing shrinks until they fit. Codes L-0001, ... run by street name,
    then along the street.
    """
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    kx = EARTH_METRES_PER_DEGREE * math.cos(math.radians(town.centre.y))
    ky = EARTH_METRES_PER_DEGREE
    lines = {
        street.name: affinity.affine_transform(
            street.line, [kx, 0, 0, ky, -town.centre.x * kx, -town.centre.y * ky]
        )
        for street in town.streets
    }
    scale = 1.0
    while True:
        chosen = _choose(town, lines, count, seed, scale, kx, ky)
        if len(chosen) >= count:
            break
        # Too few spots: a network that is too short, or one squeezed by the clearance rule.
        scale *= 0.85
        if scale < 1e-3:
            raise ValueError(f"the streets of {town.slug} cannot hold {count} lanterns")
    ordered = sorted(chosen, key=lambda pair: (pair[0].street, pair[0].along))
    return [
        LanternSite(f"L-{number:04d}", point, candidate.street, district)
        for number, (candidate, (point, district)) in enumerate(ordered, start=1)
    ]


def _choose(
    town: TownGeography,
    lines: Mapping[str, LineString],
    count: int,
    seed: int,
    scale: float,
    kx: float,
    ky: float,
) -> list[tuple[_Candidate, tuple[Point, str]]]:
    """The `count` best-ranked candidates that stand inside a district, clear of each other."""
    candidates = sorted(
        (c for name in sorted(lines) for c in _candidates(name, lines[name], seed, scale)),
        key=lambda c: (c.rank, c.street, c.along),
    )
    taken: dict[tuple[int, int], list[tuple[float, float]]] = {}
    chosen: list[tuple[_Candidate, tuple[Point, str]]] = []
    clearance = CROSSING_CLEARANCE_M * min(1.0, scale)
    for c in candidates:
        if len(chosen) == count:
            break
        cell = (int(c.x // CROSSING_CLEARANCE_M), int(c.y // CROSSING_CLEARANCE_M))
        near = (
            (x, y)
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for x, y in taken.get((cell[0] + dx, cell[1] + dy), ())
        )
        if any(math.hypot(c.x - x, c.y - y) < clearance for x, y in near):
            continue
        point = Point(round(town.centre.x + c.x / kx, 6), round(town.centre.y + c.y / ky, 6))
        district = town.district_at(point)
        if district is None or not district.area.contains(point):
            continue  # outside the town, or exactly on a district edge
        taken.setdefault(cell, []).append((c.x, c.y))
        chosen.append((c, (point, district.key)))
    return chosen


def _candidates(name: str, line: LineString, seed: int, scale: float) -> list[_Candidate]:
    """Spots along one street (in metres around the centre), spaced by distance from the centre."""
    length = line.length
    side = 1.0 if _unit(seed, name, "side") < 0.5 else -1.0
    out: list[_Candidate] = []
    along = 0.5 * SPACING_CENTRE_M * scale * (0.5 + _unit(seed, name, "start"))
    index = 0
    while along < length:
        here = line.interpolate(along)
        spacing = scale * _spacing(math.hypot(here.x, here.y))
        # +-10 % along the street keeps neighbours at least 0.8 spacing apart.
        at = min(
            max(along + (_unit(seed, name, f"along/{index}") - 0.5) * 0.2 * spacing, 0), length
        )
        before = line.interpolate(max(at - 1.0, 0.0))
        after = line.interpolate(min(at + 1.0, length))
        spot = line.interpolate(at)
        dx, dy = after.x - before.x, after.y - before.y
        norm = math.hypot(dx, dy) or 1.0
        low, high = KERB_OFFSET_M
        offset = side * (low + (high - low) * _unit(seed, name, f"offset/{index}")) * min(1, scale)
        x, y = spot.x - dy / norm * offset, spot.y + dx / norm * offset
        rank = math.hypot(x, y) * (0.85 + 0.3 * _unit(seed, name, f"rank/{index}"))
        out.append(_Candidate(name, at, x, y, rank))
        along += spacing
        index += 1
    return out


def _spacing(distance_from_centre: float) -> float:
    share = min(distance_from_centre / SPACING_REACH_M, 1.0)
    return SPACING_CENTRE_M + (SPACING_OUTSKIRTS_M - SPACING_CENTRE_M) * share
