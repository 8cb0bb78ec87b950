"""Write the demo towns' geometry: src/stadtkern/demo/data/{kaiserslautern,kusel}.json.

The layout is GENERATED, not surveyed. Centre coordinates, regional keys, district names and
most street names are real; the boundary, the district polygons (Voronoi cells of approximate
district centres, clipped to the boundary), the street courses and the place positions are
invented around them, plausible enough for a demo map and nothing more. Do not use the output
as geodata.

Run by hand after changing this file (`.venv/bin/python scripts/demo_geography.py`) and commit
the JSON with it; the output is deterministic, and a test checks that the committed files are
byte-identical to what `render` produces.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "stadtkern" / "demo" / "data"
EARTH_METRES_PER_DEGREE = 111_195.0  # mean Earth radius 6,371,009 m times pi/180
GRID = 1e-6  # coordinates are stored with 6 decimals (about 0.1 m)
NOTE = (
    "Generated layout (scripts/demo_geography.py), not surveyed: real centre, regional key and "
    "district names; invented boundary, district polygons, street courses and place positions."
)

XY = tuple[float, float]
Waypoint = XY | str  # metres east/north of the town centre, or the name of a district


@dataclass(frozen=True)
class PlaceSpec:
    """A place: at a position (metres) or on a street at a fraction of its length."""

    kind: str
    name: str
    at: XY | tuple[str, float]
    properties: dict[str, Any] = field(default_factory=dict)
    lonlat: XY | None = None  # a real position, which then wins over `at`


@dataclass(frozen=True)
class TownSpec:
    """Everything hand-written about one town; the rest is derived."""

    slug: str
    name: str
    ars: str
    centre: XY  # lon, lat
    districts: Sequence[tuple[str, XY]]  # name, approximate centre (lon, lat)
    outline: Callable[[dict[str, XY]], Polygon]  # base shape in metres, before the noise
    vertices: int
    streets: Sequence[tuple[str, Sequence[Waypoint]]]
    pedestrian_zone: Sequence[str]  # streets whose central parts form the zone
    pedestrian_radius: float  # metres around the centre
    places: Sequence[PlaceSpec]


def check(condition: bool, message: str) -> None:
    """Stop the script when the generated layout breaks an invariant the demo relies on."""
    if not condition:
        raise SystemExit(f"demo_geography: {message}")


def unit(key: str) -> float:
    """A uniform number in [0, 1) drawn from the key alone (so the output never varies)."""
    digest = hashlib.blake2b(f"demo-geography/{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def slug(name: str) -> str:
    """An ASCII key from a German name: 'Grübentälchen/Volkspark' -> 'gruebentaelchen-volkspark'."""
    text = name.lower()
    for umlaut, ascii_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, ascii_)
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text)
    return "-".join(part for part in out.split("-") if part)


class Frame:
    """A local plane around the town centre: metres east/north <-> lon/lat (equirectangular)."""

    def __init__(self, lon: float, lat: float) -> None:
        self.lon, self.lat = lon, lat
        self.kx = EARTH_METRES_PER_DEGREE * math.cos(math.radians(lat))
        self.ky = EARTH_METRES_PER_DEGREE

    def metres(self, lon: float, lat: float) -> XY:
        return ((lon - self.lon) * self.kx, (lat - self.lat) * self.ky)

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        moved = affinity.affine_transform(
            geom, [1 / self.kx, 0, 0, 1 / self.ky, self.lon, self.lat]
        )
        return shapely.set_precision(moved, GRID)


def noisy_outline(base: Polygon, vertices: int, key: str) -> Polygon:
    """Walk around the base shape from its centroid and vary the radius with smooth noise."""
    c = base.centroid
    reach = 4 * math.sqrt(base.area)
    harmonics = [(k, 0.05 / k**0.6, 2 * math.pi * unit(f"{key}/phase/{k}")) for k in range(2, 9)]
    points = []
    for i in range(vertices):
        angle = 2 * math.pi * i / vertices
        ray = LineString(
            [(c.x, c.y), (c.x + reach * math.cos(angle), c.y + reach * math.sin(angle))]
        )
        radius = ray.intersection(base.exterior).distance(c)  # the base shapes are star-shaped
        wobble = sum(a * math.sin(k * angle + phase) for k, a, phase in harmonics)
        wobble += 0.012 * (unit(f"{key}/vertex/{i}") - 0.5)
        r = radius * (1 + wobble)
        points.append((c.x + r * math.cos(angle), c.y + r * math.sin(angle)))
    return Polygon(points)


def curved(points: Sequence[XY], key: str) -> LineString:
    """Connect the waypoints with gently bowed segments (a vertex every ~100 m)."""
    out: list[XY] = [points[0]]
    for i, ((x0, y0), (x1, y1)) in enumerate(itertools.pairwise(points)):
        length = math.hypot(x1 - x0, y1 - y0)
        steps = max(1, math.ceil(length / 100))
        bow = (2 * unit(f"{key}/bow/{i}") - 1) * min(0.05 * length, 60.0)
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        for s in range(1, steps):
            t = s / steps
            lift = bow * math.sin(math.pi * t)
            out.append((x0 + t * (x1 - x0) + lift * nx, y0 + t * (y1 - y0) + lift * ny))
        out.append((x1, y1))
    return LineString(out)


def rounded(value: Any) -> Any:
    """Coordinates to 6 decimals (set_precision leaves binary noise such as 7.1234560000001)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def geojson(geom: BaseGeometry) -> dict[str, Any]:
    mapping = shapely.geometry.mapping(geom)
    return {"type": mapping["type"], "coordinates": rounded(mapping["coordinates"])}


def feature(geom: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geojson(geom)}


def layout(spec: TownSpec) -> dict[str, Any]:
    """The town's JSON document, checked for the invariants the demo relies on."""
    frame = Frame(*spec.centre)
    centres = {name: frame.metres(*lonlat) for name, lonlat in spec.districts}

    base = spec.outline(centres)
    boundary_m = noisy_outline(base, spec.vertices, f"{spec.slug}/boundary")
    boundary = frame.to_lonlat(boundary_m)
    check(boundary.is_valid, f"{spec.slug}: boundary invalid")

    # Voronoi cells in metres (an affine map keeps them Voronoi cells in lon/lat only if the
    # axes scale alike, which they do not, so the cells are made before the conversion).
    cells = shapely.voronoi_polygons(
        MultiPoint(list(centres.values())), extend_to=boundary_m.envelope.buffer(5000)
    )
    districts = []
    for name, (x, y) in centres.items():
        check(boundary_m.buffer(-300).contains(Point(x, y)), f"{name} too close to the edge")
        cell = next(c for c in cells.geoms if c.contains(Point(x, y)))
        area = shapely.set_precision(frame.to_lonlat(cell).intersection(boundary), GRID)
        check(isinstance(area, Polygon) and area.is_valid, f"district {name} broken")
        districts.append((slug(name), name, area))

    def district_of(point: BaseGeometry) -> str:
        return next(key for key, _, area in districts if area.covers(point))

    lines: dict[str, LineString] = {}
    for name, waypoints in spec.streets:
        check(name not in lines, f"street {name} twice")
        points = [centres[w] if isinstance(w, str) else w for w in waypoints]
        line = curved(points, f"{spec.slug}/street/{name}")
        check(boundary_m.buffer(-40).contains(line), f"street {name} leaves the town")
        lines[name] = line
    streets = {name: frame.to_lonlat(line) for name, line in lines.items()}
    midpoints = {
        n: frame.to_lonlat(line.interpolate(0.5, normalized=True)) for n, line in lines.items()
    }
    total = sum(line.length for line in lines.values())
    for _, name, area in districts:
        check(any(area.intersects(s) for s in streets.values()), f"no street in {name}")

    near = Point(0, 0).buffer(spec.pedestrian_radius)
    zone_m = shapely.union_all(
        [lines[s].intersection(near).buffer(12, quad_segs=2) for s in spec.pedestrian_zone]
    ).simplify(1.0)
    check(isinstance(zone_m, Polygon), "pedestrian zone in pieces")
    places: list[tuple[str, str, str, BaseGeometry, dict[str, Any]]] = [
        (
            "pedestrian_zone",
            slug(f"Fußgängerzone {spec.name}"),
            f"Fußgängerzone {spec.name}",
            frame.to_lonlat(zone_m),
            {"streets": list(spec.pedestrian_zone)},
        ),
    ]
    for place in spec.places:
        if place.lonlat is not None:
            point = Point(place.lonlat)
        elif isinstance(place.at[0], str):
            street, fraction = place.at
            point = frame.to_lonlat(
                lines[str(street)].interpolate(float(fraction), normalized=True)
            )
        else:
            point = frame.to_lonlat(Point(place.at))
        places.append((place.kind, slug(place.name), place.name, point, dict(place.properties)))
    keys = [key for _, key, _, _, _ in places]
    check(len(keys) == len(set(keys)), "place keys not unique")
    for _, key, _, geom, _ in places:
        check(boundary.contains(geom), f"place {key} outside")

    return {
        "slug": spec.slug,
        "name": spec.name,
        "ars": spec.ars,
        "note": NOTE,
        "centre": geojson(Point(spec.centre)),
        "street_length_m": round(total),
        "boundary": geojson(boundary),
        "districts": [feature(area, {"key": key, "name": name}) for key, name, area in districts],
        "streets": [
            feature(line, {"name": name, "district": district_of(midpoints[name])})
            for name, line in streets.items()
        ],
        "places": [
            feature(geom, {"kind": kind, "key": key, "name": name, **extra})
            for kind, key, name, geom, extra in places
        ],
    }


def render(slug_: str) -> str:
    """The exact text of data/<slug>.json: one feature per line, so diffs stay readable."""
    doc = layout(TOWNS[slug_])

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    parts = []
    for key, value in doc.items():
        if isinstance(value, list):
            rows = ",\n".join(f"  {dump(item)}" for item in value)
            parts.append(f" {dump(key)}: [\n{rows}\n ]")
        else:
            parts.append(f" {dump(key)}: {dump(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def car_park(name: str, at: XY, spaces: int, *, event_sensitive: bool = False) -> PlaceSpec:
    extra = {"eventSensitive": True} if event_sensitive else {}
    return PlaceSpec("car_park", name, at, {"spaces": spaces, **extra})


def school(name: str, at: XY, classrooms: int) -> PlaceSpec:
    return PlaceSpec("school", name, at, {"classrooms": classrooms})


def bridge(name: str, street: str, fraction: float, *, degrading: bool = False) -> PlaceSpec:
    return PlaceSpec("bridge", name, (street, fraction), {"street": street, "degrading": degrading})


def gateway(name: str, at: XY, technology: str) -> PlaceSpec:
    return PlaceSpec("gateway_site", name, at, {"technology": technology})


def ellipse(width: float, height: float, shift: XY) -> Callable[[dict[str, XY]], Polygon]:
    """A base outline: an ellipse of the given size (metres), its centre shifted from the town's."""

    def make(_: dict[str, XY]) -> Polygon:
        circle = Point(shift).buffer(1.0, quad_segs=32)
        return affinity.scale(circle, width / 2, height / 2, origin=Point(shift))

    return make


def hull(margin: float) -> Callable[[dict[str, XY]], Polygon]:
    """A base outline: the district centres' convex hull grown by a margin (metres)."""

    def make(centres: dict[str, XY]) -> Polygon:
        shape: Polygon = MultiPoint(list(centres.values())).convex_hull.buffer(margin, quad_segs=8)
        return shape

    return make


KAISERSLAUTERN = TownSpec(
    slug="kaiserslautern",
    name="Kaiserslautern",
    ars="073120000000",
    centre=(7.7690, 49.4447),
    districts=[
        ("Innenstadt", (7.769, 49.444)),
        ("Innenstadt-Ost", (7.785, 49.445)),
        ("Innenstadt-West/Kotten", (7.752, 49.442)),
        ("Innenstadt-Nord/Kaiserberg", (7.770, 49.455)),
        ("Betzenberg", (7.775, 49.433)),
        ("Grübentälchen/Volkspark", (7.790, 49.432)),
        ("Lämmchesberg/Uniwohnstadt", (7.755, 49.425)),
        ("Bännjerrück/Karl-Pfaff-Siedlung", (7.735, 49.430)),
        ("Kaiserslautern-West", (7.720, 49.445)),
        ("Kaiserslautern-Ost", (7.810, 49.450)),
        ("Dansenberg", (7.745, 49.405)),
        ("Hohenecken", (7.713, 49.421)),
        ("Erfenbach", (7.723, 49.479)),
        ("Siegelbach", (7.700, 49.487)),
        ("Morlautern", (7.785, 49.478)),
        ("Erlenbach", (7.798, 49.476)),
        ("Mölschbach", (7.788, 49.402)),
        ("Einsiedlerhof", (7.662, 49.435)),
    ],
    # ~143 km², like the real city; shifted west and south, where Einsiedlerhof and the
    # forest districts lie.
    outline=ellipse(14_400, 12_600, (-1_950, -150)),
    vertices=96,
    streets=[
        # The old town: short streets, densest network.
        ("Fackelstraße", [(-120, 260), (-100, 60), (-60, -140)]),
        ("Marktstraße", [(-100, 60), (120, 40), (330, 10)]),
        ("Kerststraße", [(-60, -140), (150, -120), (300, -90)]),
        ("Riesenstraße", [(-380, 120), (-120, 150), (60, 190)]),
        ("Eisenbahnstraße", [(-60, -140), (-30, -420), (-10, -700)]),
        ("Mühlstraße", [(330, 10), (360, 260), (420, 480)]),
        ("Fruchthallstraße", [(-300, -260), (0, -250), (260, -230)]),
        ("Burgstraße", [(60, 190), (200, 330), (260, 520)]),
        ("Steinstraße", [(-250, -40), (-240, 320)]),
        ("Schillerstraße", [(120, 40), (140, -330)]),
        ("Königstraße", [(-330, -60), (-700, -100), (-1100, -160)]),
        ("Logenstraße", [(-200, -420), (150, -440), (450, -400)]),
        ("Rudolf-Breitscheid-Straße", [(-650, -520), (-250, -620), (300, -650), (750, -560)]),
        ("Lauterstraße", [(-380, 120), (-700, 250), (-1050, 300)]),
        ("Barbarossastraße", [(-50, 450), (80, 800), (150, 1200)]),
        ("Pfaffstraße", [(-800, -150), (-1000, 150), (-1300, 400)]),
        ("Altenwoogstraße", [(600, -200), (1000, -500), (1400, -900)]),
        ("Entersweilerstraße", [(450, 200), (900, 150), (1300, 100)]),
        ("Zollamtstraße", [(300, -650), (350, -900), (250, -1050)]),
        ("Donnersbergstraße", [(-400, 900), (200, 1000), (700, 1100)]),
        ("Kaiserbergring", [(0, 1400), (400, 1600), (800, 1400)]),
        ("Goethestraße", [(-300, 600), (-200, 1100)]),
        ("Richard-Wagner-Straße", [(700, -100), (1000, 300), (1200, 600)]),
        ("Friedenstraße", [(900, -300), (1500, -200), (2000, 0)]),
        ("Fritz-Walter-Straße", [(200, -700), (450, -950), (620, -1150), (700, -1450)]),
        # Arterial roads out to the districts.
        (
            "Pariser Straße",
            [
                (-600, -420),
                (-1400, -350),
                (-2400, -150),
                "Kaiserslautern-West",
                (-4800, -300),
                (-6300, -800),
                (-7500, -1000),
            ],
        ),
        (
            "Mainzer Straße",
            [(600, 50), (1200, 150), (2100, 350), "Kaiserslautern-Ost", (3700, 800)],
        ),
        (
            "Trippstadter Straße",
            [(-100, -700), (-500, -1300), "Lämmchesberg/Uniwohnstadt", (-1300, -3000)],
        ),
        (
            "Hohenecker Straße",
            [
                (-1400, -350),
                (-1900, -900),
                (-2700, -1300),
                (-3300, -2100),
                "Hohenecken",
                (-4500, -3000),
            ],
        ),
        (
            "Dansenberger Straße",
            ["Lämmchesberg/Uniwohnstadt", (-1300, -3200), "Dansenberg", (-1900, -4900)],
        ),
        ("Erfenbacher Straße", [(-400, 500), (-1200, 1300), (-2300, 2600), "Erfenbach"]),
        ("Siegelbacher Straße", ["Erfenbach", (-4100, 4300), "Siegelbach"]),
        ("Morlauterer Straße", [(150, 1200), (500, 2200), "Morlautern", (1300, 4300)]),
        ("Erlenbacher Straße", ["Kaiserslautern-Ost", (2700, 1800), "Erlenbach", (1900, 4000)]),
        (
            "Mölschbacher Straße",
            ["Grübentälchen/Volkspark", (1500, -2800), "Mölschbach", (1300, -5300)],
        ),
        # Streets within the districts.
        ("Volksparkstraße", [(1000, -1100), "Grübentälchen/Volkspark", (2000, -1700)]),
        ("Karl-Pfaff-Straße", [(-2100, -1500), (-2458, -1800), (-2700, -2200)]),
        ("Bännjerstraße", [(-1700, -1200), (-2300, -1500), (-2900, -1600)]),
        ("Gottlieb-Daimler-Straße", [(-700, -2000), (-1200, -2400), (-1600, -2300)]),
        ("Paul-Ehrlich-Straße", [(-800, -2600), (-1300, -2700)]),
        ("Vogelwehstraße", [(-3000, -500), (-3600, -700), (-4300, -700)]),
        ("Kaiserstraße", [(-7000, -600), (-7700, -900), (-8300, -1200)]),
        ("Merkurstraße", [(2400, 1000), (2900, 800), (3500, 500)]),
        ("Eselsfürth", [(2600, 200), (3200, 100), (3800, 300)]),
        ("Benzinoring", [(3300, 900), (3700, 1300), (3500, 1700)]),
        ("Hirschsprungstraße", [(-1500, -4200), (-1735, -4700), (-2200, -4900)]),
        ("Burgherrenstraße", [(-3700, -2400), (-4049, -2900), (-4400, -2400)]),
        ("Sambachstraße", [(-3000, 3600), (-3326, 4100), (-3700, 4000)]),
        ("Kapellenstraße", [(-4700, 4500), (-4989, 4900), (-5300, 4650)]),
        ("Otterberger Straße", [(900, 3500), (1157, 3900), (1500, 4200)]),
        ("Mölschbacher Hauptstraße", [(1100, -4600), (1374, -4900), (1700, -4700)]),
        ("Opelkreisel", [(-7500, -1400), (-7736, -1200), (-8000, -1400)]),
    ],
    pedestrian_zone=["Fackelstraße", "Kerststraße", "Marktstraße"],
    pedestrian_radius=280,
    places=[
        car_park("Parkhaus Altstadt", (-220, 220), 120),
        car_park("Parkhaus Rathaus", (60, -60), 110),
        # Fans park here on match days (the behaviour model's event-sensitive car park).
        car_park("Parkplatz Messeplatz", (560, 430), 70, event_sensitive=True),
        school("Burggymnasium", (200, 420), 6),
        school("Gymnasium am Rittersberg", (-500, -330), 7),
        school("Albert-Schweitzer-Gymnasium", (900, 700), 8),
        school("Hohenstaufen-Gymnasium", (-700, 420), 6),
        school("Heinrich-Heine-Gymnasium", (-2500, -1400), 5),
        school("IGS Goethe", (-3600, 300), 7),
        school("Grundschule Stresemann", (600, -300), 4),
        school("Berufsbildende Schule I", (1300, -850), 6),
        bridge("Lauterbrücke Pfaffstraße", "Pfaffstraße", 0.5),
        bridge("Bahnbrücke Pariser Straße", "Pariser Straße", 0.2),
        bridge("Brücke Hohenecker Straße", "Hohenecker Straße", 0.6),
        bridge("Kaiserbrücke", "Kaiserstraße", 0.5, degrading=True),
        bridge("Waschmühlbrücke", "Lauterstraße", 0.8),
        PlaceSpec("stadium", "Fritz-Walter-Stadion", (0, 0), lonlat=(7.7764, 49.4345)),
        gateway("RAINBOW-Glasfaserknoten Rathaus", (40, -100), "fibre"),
        gateway("RAINBOW-Glasfaserknoten Hauptbahnhof", (-20, -880), "fibre"),
        gateway("RAINBOW-Glasfaserknoten Universität", (-1050, -2350), "fibre"),
        gateway("RAINBOW-Glasfaserknoten Einsiedlerhof", (-7600, -700), "fibre"),
        gateway("LoRaWAN-Gateway Kaiserberg", (250, 1350), "lorawan"),
        gateway("LoRaWAN-Gateway Erfenbach", (-3200, 3700), "lorawan"),
        gateway("LoRaWAN-Gateway Dansenberg", (-1600, -4300), "lorawan"),
        gateway("LoRaWAN-Gateway Hohenecken", (-3900, -2600), "lorawan"),
        gateway("LoRaWAN-Gateway Erlenbach", (2000, 3400), "lorawan"),
        gateway("5G-Small-Cell Marktstraße", (200, 60), "5g"),
        gateway("5G-Small-Cell Betzenberg", (450, -1250), "5g"),
        gateway("5G-Small-Cell Kaiserslautern-Ost", (2900, 650), "5g"),
    ],
)

KUSEL = TownSpec(
    slug="kusel",
    name="Landkreis Kusel",
    ars="073360000000",
    centre=(7.3985, 49.5347),
    # One point per Verbandsgemeinde, between its main towns, so that Kusel and Altenglan,
    # Lauterecken and Wolfstein, and Schönenberg-Kübelberg fall into the right cell.
    districts=[
        ("Kusel-Altenglan", (7.430, 49.540)),
        ("Lauterecken-Wolfstein", (7.600, 49.615)),
        ("Oberes Glantal", (7.370, 49.430)),
    ],
    # Grown enough to hold the real towns (Lauterecken in the north-east, Schönenberg-Kübelberg
    # in the south): about 25 km x 35 km.
    outline=hull(6_500),
    vertices=120,
    streets=[
        # Kusel (the Marktplatz is the centre).
        ("Trierer Straße", [(-900, -250), (-400, -100), (0, 0)]),
        ("Marktstraße", [(0, 0), (250, 60), (500, 150)]),
        ("Bahnhofstraße", [(0, 0), (100, -300), (150, -650)]),
        ("Fritz-Wunderlich-Straße", [(-200, 300), (200, 350), (600, 500)]),
        ("Landstuhler Straße", [(150, -650), (600, -1200), (1000, -2000)]),
        ("Kuseler Straße", [(500, 150), (2000, 700), (3500, 1300), (4943, 1701)]),
        # Altenglan, Lauterecken, Wolfstein.
        ("Talstraße", [(4500, 1400), (4943, 1701), (5400, 2100)]),
        (
            "Glantalstraße",
            [(4943, 1701), (7000, 4000), (10000, 7500), (12500, 10500), (14397, 12821)],
        ),
        ("Veldenzstraße", [(14000, 12500), (14397, 12821), (14800, 13200)]),
        ("Hauptstraße", [(14397, 12821), (14500, 12300), (14700, 11800)]),
        ("Lautertalstraße", [(15046, 5482), (15300, 8000), (14900, 10500), (14700, 11800)]),
        ("Burgstraße", [(14800, 5300), (15046, 5482), (15300, 5700)]),
        # Schönenberg-Kübelberg and the road north.
        ("Schönenberger Straße", [(-2400, -14800), (-1912, -14422), (-1400, -14000)]),
        ("Ohmbachstraße", [(-1912, -14422), (-2000, -13800), (-2300, -13200)]),
        ("Glanstraße", [(1000, -2000), (300, -6000), (-800, -10500), (-1912, -14422)]),
    ],
    pedestrian_zone=["Trierer Straße", "Marktstraße"],
    pedestrian_radius=250,
    places=[
        car_park("Parkplatz Festplatz", (300, -200), 40),
        school("Siebenpfeiffer-Gymnasium", (-400, 500), 6),
        school("Veldenz-Gymnasium Lauterecken", (14600, 13050), 5),
        bridge("Glanbrücke Altenglan", "Talstraße", 0.5),
        gateway("RAINBOW-Glasfaserknoten Kusel", (100, -120), "fibre"),
        gateway("LoRaWAN-Gateway Lauterecken", (14300, 12600), "lorawan"),
        gateway("LoRaWAN-Gateway Wolfstein", (15000, 5600), "lorawan"),
        gateway("5G-Small-Cell Schönenberg-Kübelberg", (-1850, -14300), "5g"),
    ],
)

TOWNS = {town.slug: town for town in (KAISERSLAUTERN, KUSEL)}


def main(argv: Sequence[str]) -> int:
    """Write the JSON of every town (or of those named) into the package's data folder."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name in argv or TOWNS:
        path = DATA_DIR / f"{name}.json"
        path.write_text(render(name), encoding="utf-8")
        print(f"{path}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
