"""The demo towns' geography: valid, consistent data and deterministic lantern sites."""

from __future__ import annotations

import functools
import importlib.util
import itertools
import math
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, shape

from stadtkern.demo.geography import (
    TOWNS,
    LanternSite,
    TownGeography,
    boundary_geojson,
    district_geojson,
    lantern_sites,
    load_town,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "stadtkern" / "demo" / "data"
# Coordinates are stored with 6 decimals; clipping after rounding may stick out by that much.
GRID = 1e-6


def metres(a: Point, b: Point) -> float:
    """Distance in metres on the local plane (good enough over a few kilometres)."""
    kx = 111_195 * math.cos(math.radians((a.y + b.y) / 2))
    return math.hypot((a.x - b.x) * kx, (a.y - b.y) * 111_195)


def length_m(line: LineString) -> float:
    coords = [Point(c) for c in line.coords]
    return sum(metres(p, q) for p, q in itertools.pairwise(coords))


@functools.cache
def script() -> ModuleType:
    """scripts/demo_geography.py as a module (scripts/ is no package)."""
    path = ROOT / "scripts" / "demo_geography.py"
    spec = importlib.util.spec_from_file_location("demo_geography_script", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kl() -> TownGeography:
    return load_town("kaiserslautern")


@pytest.fixture(scope="module")
def kusel() -> TownGeography:
    return load_town("kusel")


@pytest.fixture(scope="module")
def sites(kl: TownGeography) -> list[LanternSite]:
    return lantern_sites(kl, 500, seed=7)


@pytest.mark.parametrize("slug", TOWNS)
def test_the_json_is_what_the_script_writes(slug: str) -> None:
    committed = (DATA / f"{slug}.json").read_bytes()
    assert committed == script().render(slug).encode("utf-8")
    assert len(committed) < 300_000


def test_towns_load_and_unknown_ones_are_refused(kl: TownGeography, kusel: TownGeography) -> None:
    assert (kl.slug, kl.ars, kl.centre) == ("kaiserslautern", "073120000000", Point(7.769, 49.4447))
    assert (kusel.slug, kusel.ars) == ("kusel", "073360000000")
    assert load_town("kaiserslautern") is kl
    for error in (KeyError, ValueError):
        with pytest.raises(error, match="atlantis"):
            load_town("atlantis")


@pytest.mark.parametrize("slug", TOWNS)
def test_every_geometry_is_valid_and_inside_the_boundary(slug: str) -> None:
    town = load_town(slug)
    assert town.boundary.is_valid
    assert town.boundary.contains(town.centre)
    inside = town.boundary.buffer(GRID)
    geometries = [
        *(d.area for d in town.districts),
        *(s.line for s in town.streets),
        *(p.geometry for p in town.places),
    ]
    for geom in geometries:
        assert geom.is_valid
        assert not geom.is_empty
        assert inside.contains(geom)
    for place in town.places:
        assert town.boundary.contains(place.point)


@pytest.mark.parametrize("slug", TOWNS)
def test_districts_partition_the_boundary(slug: str) -> None:
    town = load_town(slug)
    for a, b in itertools.combinations(town.districts, 2):
        assert a.area.intersection(b.area).area < 1e-9 * town.boundary.area, (a.key, b.key)
    covered = shapely.union_all([d.area for d in town.districts])
    assert covered.intersection(town.boundary).area >= 0.99 * town.boundary.area
    keys = [d.key for d in town.districts]
    assert len(keys) == len(set(keys))
    assert all(k.isascii() and k == k.lower() and " " not in k for k in keys)


def test_kaiserslautern_districts_streets_and_size(kl: TownGeography) -> None:
    keys = {d.key for d in kl.districts}
    assert len(keys) == 18
    assert {"innenstadt-nord-kaiserberg", "gruebentaelchen-volkspark", "einsiedlerhof"} <= keys
    kx = 111_195 * math.cos(math.radians(kl.centre.y))
    area_km2 = kl.boundary.area * kx * 111_195 / 1e6
    assert 120 < area_km2 < 160
    assert 40 <= len(kl.streets) <= 70
    assert sum(length_m(s.line) for s in kl.streets) >= 25_000
    names = {s.name for s in kl.streets}
    assert len(names) == len(kl.streets)
    assert {"Fackelstraße", "Marktstraße", "Kerststraße", "Pariser Straße"} <= names
    # Densest in the centre: more streets have their middle in the Innenstadt than anywhere.
    by_district = Counter(s.district for s in kl.streets)
    assert by_district.most_common(1)[0][0] == "innenstadt"


@pytest.mark.parametrize("slug", TOWNS)
def test_streets_cross_every_district_and_know_their_district(slug: str) -> None:
    town = load_town(slug)
    for district in town.districts:
        assert any(s.line.intersects(district.area) for s in town.streets), district.key
    # The midpoint is halfway in metres, not in degrees.
    kx, ky = 111_195 * math.cos(math.radians(town.centre.y)), 111_195
    for street in town.streets:
        flat = affinity.scale(street.line, xfact=kx, yfact=ky, origin=(0, 0))
        halfway = flat.interpolate(0.5, normalized=True)
        found = town.district_at(Point(halfway.x / kx, halfway.y / ky))
        assert found is not None
        assert street.district == found.key, street.name


def test_kaiserslautern_places(kl: TownGeography) -> None:
    kinds = Counter(p.kind for p in kl.places)
    assert kinds == {
        "pedestrian_zone": 1,
        "car_park": 3,
        "school": 8,
        "bridge": 5,
        "stadium": 1,
        "gateway_site": 12,
    }
    assert sum(p.properties["spaces"] for p in kl.places_of("car_park")) == 300
    assert all(4 <= p.properties["classrooms"] <= 8 for p in kl.places_of("school"))
    assert [p.properties["degrading"] for p in kl.places_of("bridge")].count(True) == 1
    technologies = Counter(p.properties["technology"] for p in kl.places_of("gateway_site"))
    assert technologies == {"fibre": 4, "lorawan": 5, "5g": 3}
    (stadium,) = kl.places_of("stadium")
    assert stadium.name == "Fritz-Walter-Stadion"
    assert stadium.point == Point(7.7764, 49.4345)
    assert kl.district_at(stadium.point).key == "betzenberg"  # type: ignore[union-attr]
    (zone,) = kl.places_of("pedestrian_zone")
    assert isinstance(zone.geometry, Polygon)
    fackel = next(s for s in kl.streets if s.name == "Fackelstraße")
    assert zone.geometry.intersects(fackel.line)
    assert zone.geometry.contains(zone.point)
    keys = [p.key for p in kl.places]
    assert len(keys) == len(set(keys))


def test_kusel_places_and_districts(kusel: TownGeography) -> None:
    assert {d.name for d in kusel.districts} == {
        "Kusel-Altenglan",
        "Lauterecken-Wolfstein",
        "Oberes Glantal",
    }
    assert 10 <= len(kusel.streets) <= 20
    kinds = Counter(p.kind for p in kusel.places)
    assert kinds == {
        "pedestrian_zone": 1,
        "car_park": 1,
        "school": 2,
        "bridge": 1,
        "gateway_site": 4,
    }
    assert kusel.places_of("car_park")[0].properties["spaces"] == 40
    assert kusel.places_of("stadium") == ()


def test_geojson_of_boundary_and_districts(kl: TownGeography) -> None:
    boundary = boundary_geojson(kl)
    assert boundary["type"] == "Polygon"
    assert shape(boundary).equals(kl.boundary)
    district = district_geojson(kl.districts[0])
    assert district["type"] == "Polygon"
    assert shape(district).equals(kl.districts[0].area)


def test_lantern_sites_are_unique_and_inside_their_district(
    kl: TownGeography, sites: list[LanternSite]
) -> None:
    assert len(sites) == 500
    assert [s.code for s in sites] == [f"L-{n:04d}" for n in range(1, 501)]
    districts = {d.key: d for d in kl.districts}
    streets = {s.name for s in kl.streets}
    for site in sites:
        assert kl.boundary.contains(site.point)
        assert districts[site.district].area.contains(site.point)
        assert site.street in streets
    # Codes run by street, then along it.
    assert [s.street for s in sites] == sorted(s.street for s in sites)
    # The centre fills first.
    assert Counter(s.district for s in sites).most_common(1)[0][0] == "innenstadt"


def test_lanterns_on_one_street_stand_apart(kl: TownGeography, sites: list[LanternSite]) -> None:
    lines = {s.name: s.line for s in kl.streets}
    gaps = []
    for street, group in itertools.groupby(sites, key=lambda s: s.street):
        points = list(group)
        along = [lines[street].project(p.point) for p in points]
        assert along == sorted(along)
        gaps += [metres(a.point, b.point) for a, b in itertools.pairwise(points)]
        for site in points:  # beside the street, a few metres from its axis
            assert lines[street].distance(site.point) * 111_195 < 12
    assert min(gaps) >= 15
    assert 25 < sorted(gaps)[len(gaps) // 2] < 50


def test_lantern_sites_are_deterministic_per_seed(
    kl: TownGeography, sites: list[LanternSite]
) -> None:
    assert lantern_sites(kl, 500, seed=7) == sites
    other = lantern_sites(kl, 500, seed=8)
    assert len(other) == 500
    assert [s.point for s in other] != [s.point for s in sites]
    assert lantern_sites(kl, 20, seed=7) == lantern_sites(kl, 20, seed=7)
    assert lantern_sites(kl, 0, seed=7) == []
    with pytest.raises(ValueError, match="negative"):
        lantern_sites(kl, -1, seed=7)


def test_a_short_network_packs_lanterns_closer(kusel: TownGeography) -> None:
    total_m = sum(length_m(s.line) for s in kusel.streets)
    count = int(total_m / 20)  # more than the 30-45 m spacing allows
    sites = lantern_sites(kusel, count, seed=3)
    assert len(sites) == count
    assert len({s.point.coords[0] for s in sites}) == count
    districts = {d.key: d for d in kusel.districts}
    assert all(districts[s.district].area.contains(s.point) for s in sites)
