"""Spatial predicates and distances: the same answers on SQLite and on PostGIS."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from shapely import LineString, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.expression import Executable

from stadtkern.core.models import Tenant
from stadtkern.db import Database, spatial
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import gist_name, rtree_name
from stadtkern.db.sqlite_functions import EARTH_RADIUS_M, distance_sphere
from tests.conftest import create_pg_database, drop_pg_database, unique_slug
from tests.db.conftest import Places, drop_places, make_places

# Kaiserslautern: an old town, a neighbourhood sharing its eastern border, a block inside it,
# a park with a pond (a hole), a two-part district, a lantern and a bus line.
ALTSTADT = box(7.760, 49.440, 7.780, 49.450)
NEIGHBOUR = box(7.780, 49.440, 7.790, 49.450)
INNER_BLOCK = box(7.765, 49.442, 7.770, 49.444)
PARK = Polygon(
    box(7.790, 49.425, 7.810, 49.435).exterior.coords,
    [box(7.798, 49.428, 7.802, 49.432).exterior.coords],
)
TWIN = MultiPolygon([box(7.700, 49.400, 7.710, 49.410), box(7.720, 49.400, 7.730, 49.410)])
LANTERN = Point(7.7725, 49.4475)
BUS_LINE = LineString([(7.750, 49.4455), (7.800, 49.4455)])

CITY: dict[str, BaseGeometry | None] = {
    "altstadt": ALTSTADT,
    "neighbour": NEIGHBOUR,
    "inner_block": INNER_BLOCK,
    "park": PARK,
    "twin": TWIN,
    "lantern": LANTERN,
    "bus_line": BUS_LINE,
    "nothing": None,
}

CENTRE = Point(7.7700, 49.4450)


def east(metres: float, origin: Point = CENTRE) -> float:
    """Longitude `metres` east of `origin` along its parallel."""
    return float(origin.x) + math.degrees(
        metres / (EARTH_RADIUS_M * math.cos(math.radians(origin.y)))
    )


def north(metres: float, origin: Point = CENTRE) -> float:
    """Latitude `metres` north of `origin`."""
    return float(origin.y) + math.degrees(metres / EARTH_RADIUS_M)


STOPS: dict[str, BaseGeometry | None] = {
    "p30": Point(east(30), CENTRE.y),
    "p70": Point(CENTRE.x, north(70)),
    "line2k": LineString([(east(-2000), 49.430), (east(-2000), 49.460)]),
    "poly3k": box(east(3000), 49.440, east(3000) + 0.01, 49.450),
    "p4k": Point(east(4000), CENTRE.y),
    "p6k": Point(CENTRE.x, north(-6000)),
    "nothing": None,
}
STOP_DISTANCES = {"p30": 30, "p70": 70, "line2k": 2000, "poly3k": 3000, "p4k": 4000, "p6k": 6000}


def close(actual: float, expected: float) -> bool:
    """Within the agreed tolerance: 0.5 % or 1 m, whichever is larger."""
    return abs(actual - expected) <= max(1.0, 0.005 * expected)


@pytest.fixture(scope="module")
def city(database: Database) -> Iterator[Places]:
    """The city's places, shared by the read-only tests of this module."""
    made = make_places(database)
    made.add(CITY)
    yield made
    drop_places(made)


@pytest.fixture(scope="module")
def stops(database: Database) -> Iterator[Places]:
    """Places at known distances from CENTRE."""
    made = make_places(database)
    made.add(STOPS)
    yield made
    drop_places(made)


def names(places: Places, condition: ColumnElement[bool]) -> set[str]:
    """Names of the places matching a condition."""
    table = places.table
    with places.database.read() as session:
        return set(session.scalars(select(table.c.name).where(condition)))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(Point(7.775, 49.448), {"altstadt"}, id="point-inside"),
        pytest.param(Point(8.68, 50.11), set(), id="point-far-away"),
        pytest.param(Point(7.800, 49.430), set(), id="point-in-hole"),
        pytest.param(Point(7.795, 49.430), {"park"}, id="point-beside-hole"),
        pytest.param(Point(7.798, 49.430), {"park"}, id="point-on-hole-border"),
        pytest.param(Point(7.780, 49.448), {"altstadt", "neighbour"}, id="point-on-shared-border"),
        pytest.param(Point(7.725, 49.405), {"twin"}, id="point-in-second-part"),
        pytest.param(Point(7.715, 49.405), set(), id="point-between-parts"),
        pytest.param(Point(7.770, 49.4455), {"altstadt", "bus_line"}, id="point-on-line"),
        pytest.param(
            LineString([(7.775, 49.430), (7.775, 49.460)]),
            {"altstadt", "bus_line"},
            id="crossing-line",
        ),
        pytest.param(
            box(7.766, 49.443, 7.773, 49.448),
            {"altstadt", "inner_block", "lantern", "bus_line"},
            id="polygon",
        ),
    ],
)
def test_intersects(city: Places, query: BaseGeometry, expected: set[str]) -> None:
    assert names(city, spatial.intersects(city.table.c.geom, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(ALTSTADT, {"altstadt", "inner_block", "lantern"}, id="equal-and-inside"),
        pytest.param(
            box(7.755, 49.435, 7.795, 49.455),
            {"altstadt", "neighbour", "inner_block", "lantern"},
            id="around-several",
        ),
        pytest.param(box(7.799, 49.429, 7.801, 49.431), set(), id="inside-the-hole"),
        pytest.param(box(7.789, 49.424, 7.811, 49.436), {"park"}, id="around-park-and-hole"),
        pytest.param(box(7.715, 49.395, 7.735, 49.415), set(), id="around-one-part-only"),
        pytest.param(box(7.695, 49.395, 7.735, 49.415), {"twin"}, id="around-both-parts"),
        pytest.param(LANTERN, {"lantern"}, id="equal-point"),
    ],
)
def test_within(city: Places, query: BaseGeometry, expected: set[str]) -> None:
    assert names(city, spatial.within(city.table.c.geom, query)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(Point(7.775, 49.448), {"altstadt"}, id="point-inside"),
        pytest.param(
            box(7.766, 49.4425, 7.768, 49.4435), {"altstadt", "inner_block"}, id="nested-polygon"
        ),
        pytest.param(Point(7.780, 49.448), set(), id="point-on-border"),
        pytest.param(Point(7.800, 49.430), set(), id="point-in-hole"),
        pytest.param(Point(7.798, 49.430), set(), id="point-on-hole-border"),
        pytest.param(Point(7.725, 49.405), {"twin"}, id="point-in-second-part"),
        pytest.param(
            LineString([(7.761, 49.441), (7.779, 49.449)]), {"altstadt"}, id="line-inside"
        ),
        pytest.param(Point(7.770, 49.4455), {"altstadt", "bus_line"}, id="point-on-line"),
        pytest.param(box(7.770, 49.440, 7.785, 49.450), set(), id="polygon-across-border"),
    ],
)
def test_contains(city: Places, query: BaseGeometry, expected: set[str]) -> None:
    assert names(city, spatial.contains(city.table.c.geom, query)) == expected


def test_null_geometry_never_matches_even_negated(city: Places) -> None:
    column, query = city.table.c.geom, Point(7.775, 49.448)
    everything = set(CITY) - {"nothing"}
    assert names(city, ~spatial.intersects(column, query)) == everything - {"altstadt"}
    assert names(city, ~spatial.within_distance(column, query, 10)) == everything - {"altstadt"}
    with city.database.read() as session:
        statement = select(city.table.c.name, spatial.intersects(column, query))
        selected: dict[str, bool | None] = {n: v for n, v in session.execute(statement)}
    assert selected["nothing"] is None
    assert selected["altstadt"] is True
    assert selected["park"] is False


def test_cached_statement_binds_each_geometry(city: Places) -> None:
    column = city.table.c.geom
    first = names(city, spatial.intersects(column, Point(7.775, 49.448)))
    second = names(city, spatial.intersects(column, Point(7.725, 49.405)))
    assert (first, second) == ({"altstadt"}, {"twin"})


def test_orm_attribute_and_alias(database: Database) -> None:
    slugs = {"old": unique_slug("old"), "twin": unique_slug("twin")}
    with database.write() as session:
        for key, boundary in (("old", MultiPolygon([ALTSTADT])), ("twin", TWIN)):
            session.add(
                Tenant(
                    slug=slugs[key],
                    name=key,
                    ars="073120000000",
                    boundary=boundary,
                    timezone="Europe/Berlin",
                    locale="de",
                    modules=[],
                    module_settings={},
                )
            )
    mine = Tenant.slug.in_(slugs.values())
    other = aliased(Tenant)
    try:
        with database.read() as session:
            found = session.scalars(
                select(Tenant.slug).where(mine, spatial.contains(Tenant.boundary, LANTERN))
            )
            assert set(found) == {slugs["old"]}
            found = session.scalars(
                select(other.slug).where(
                    other.slug.in_(slugs.values()), spatial.intersects(other.boundary, TWIN)
                )
            )
            assert set(found) == {slugs["twin"]}
    finally:
        with database.write() as session:
            session.execute(delete(Tenant).where(mine))


@pytest.mark.parametrize(
    ("metres", "expected"),
    [
        pytest.param(29, set(), id="29m"),
        pytest.param(31, {"p30"}, id="31m"),
        pytest.param(50, {"p30"}, id="50m"),
        pytest.param(5000, {"p30", "p70", "line2k", "poly3k", "p4k"}, id="5km"),
        pytest.param(7000, set(STOP_DISTANCES), id="7km"),
    ],
)
def test_within_distance(stops: Places, metres: float, expected: set[str]) -> None:
    assert names(stops, spatial.within_distance(stops.table.c.geom, CENTRE, metres)) == expected


def test_within_distance_zero_means_touching(stops: Places) -> None:
    inside = Point(east(3100), 49.445)
    assert names(stops, spatial.within_distance(stops.table.c.geom, inside, 0)) == {"poly3k"}


def test_nearest_first(stops: Places) -> None:
    distance = spatial.distance_m(stops.table.c.geom, CENTRE)
    with stops.database.read() as session:
        rows = session.execute(
            select(stops.table.c.name, distance).order_by(distance.nulls_last())
        ).all()
    assert [name for name, _ in rows] == [
        "p30",
        "p70",
        "line2k",
        "poly3k",
        "p4k",
        "p6k",
        "nothing",
    ]
    measured: dict[str, float | None] = {name: metres for name, metres in rows}
    assert measured.pop("nothing") is None
    for name, metres in measured.items():
        assert metres is not None
        assert close(metres, STOP_DISTANCES[name]), (name, metres)


def test_distance_is_zero_inside(stops: Places) -> None:
    distance = spatial.distance_m(stops.table.c.geom, Point(east(3100), 49.445))
    with stops.database.read() as session:
        found = session.scalar(select(distance).where(stops.table.c.name == "poly3k"))
    assert found == 0


class Explain(Executable, ClauseElement):
    """EXPLAIN (QUERY PLAN) of a statement, with its parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain)
def _explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    prefix = "EXPLAIN QUERY PLAN" if compiler.dialect.name == "sqlite" else "EXPLAIN"
    return f"{prefix} {compiler.process(element.statement, **kw)}"


def test_the_index_is_used(city: Places) -> None:
    database, table = city.database, city.table
    query = select(table.c.id).where(spatial.intersects(table.c.geom, Point(7.775, 49.448)))
    with database.read() as session:
        if database.backend == "sqlite":
            plan = " | ".join(str(row[-1]) for row in session.execute(Explain(query)))
            assert f"SCAN {rtree_name(table.name, 'geom')} VIRTUAL TABLE INDEX" in plan
            assert f"SEARCH {table.name} USING INTEGER PRIMARY KEY" in plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(str(row[0]) for row in session.execute(Explain(query)))
            assert gist_name(table.name, "geom") in plan


def _rtree_ids(places: Places) -> set[int]:
    with places.database.read() as session:
        rtree = rtree_name(places.table.name, "geom")
        return set(session.scalars(text(f"SELECT id FROM {rtree}")))  # noqa: S608


def test_index_follows_update_and_delete(places: Places) -> None:
    table, column, sqlite = places.table, places.table.c.geom, places.database.is_sqlite
    ids = places.add({"kiosk": Point(7.775, 49.448), "bench": None})
    kiosk, bench = ids["kiosk"], ids["bench"]
    here, there = Point(7.775, 49.448), Point(7.725, 49.405)

    def found_at(point: Point) -> set[str]:
        return names(places, spatial.intersects(column, point))

    def write(statement: Executable) -> None:
        with places.database.write() as session:
            session.execute(statement)

    assert (found_at(here), found_at(there)) == ({"kiosk"}, set())
    assert not sqlite or _rtree_ids(places) == {kiosk}
    write(update(table).where(table.c.id == kiosk).values(geom=there))
    assert (found_at(here), found_at(there)) == (set(), {"kiosk"})
    write(update(table).where(table.c.id == bench).values(geom=here))
    assert found_at(here) == {"bench"}
    assert not sqlite or _rtree_ids(places) == {kiosk, bench}
    write(update(table).where(table.c.id == kiosk).values(geom=None))
    assert found_at(there) == set()
    assert not sqlite or _rtree_ids(places) == {bench}
    write(update(table).where(table.c.id == bench).values(id=bench + 1000))
    assert found_at(here) == {"bench"}
    assert not sqlite or _rtree_ids(places) == {bench + 1000}
    write(update(table).where(table.c.id == bench + 1000).values(rank=3))
    assert found_at(here) == {"bench"}
    write(delete(table).where(table.c.id == bench + 1000))
    assert found_at(here) == set()
    assert not sqlite or _rtree_ids(places) == set()


def test_index_follows_insert_or_replace(make_database: Callable[[str], Database]) -> None:
    database = make_database("sqlite")
    places = make_places(database)
    kiosk = places.add({"kiosk": Point(7.775, 49.448)})["kiosk"]
    with database.write() as session:
        statement = insert(places.table).prefix_with("OR REPLACE")
        session.execute(statement.values(id=kiosk, name="kiosk", geom=Point(7.725, 49.405)))
    assert _rtree_ids(places) == {kiosk}
    assert names(places, spatial.intersects(places.table.c.geom, Point(7.725, 49.405))) == {"kiosk"}
    assert names(places, spatial.intersects(places.table.c.geom, Point(7.775, 49.448))) == set()


def test_empty_geometry_is_stored_but_not_indexed(places: Places) -> None:
    places.add({"empty": Point(), "kiosk": Point(7.775, 49.448)})
    column = places.table.c.geom
    assert names(places, spatial.intersects(column, box(-180, -90, 180, 90))) == {"kiosk"}
    with places.database.read() as session:
        count = session.scalar(select(func.count()).where(column.is_not(None)))
    assert count == 2


def test_sqlite_column_without_index_fails_loudly(
    make_database: Callable[[str], Database],
) -> None:
    database = make_database("sqlite")
    places = make_places(database, indexed=False)
    places.add({"kiosk": Point(7.775, 49.448)})
    rtree = rtree_name(places.table.name, "geom")
    with pytest.raises(OperationalError, match=f"no such table: {rtree}"):
        names(places, spatial.intersects(places.table.c.geom, Point(7.775, 49.448)))


def test_rejects_what_cannot_be_searched() -> None:
    with pytest.raises(spatial.SpatialIndexError, match="Geometry column"):
        spatial.intersects(Tenant.slug, ALTSTADT)
    with pytest.raises(ValueError, match="empty geometry"):
        spatial.intersects(Tenant.boundary, Point())
    with pytest.raises(ValueError, match="finite number of metres"):
        spatial.within_distance(Tenant.boundary, ALTSTADT, -1)
    with pytest.raises(ValueError, match="finite number of metres"):
        spatial.within_distance(Tenant.boundary, ALTSTADT, math.inf)
    with pytest.raises(TypeError, match="shapely geometry"):
        spatial.distance_m(Tenant.boundary, "POINT (1 2)")


@pytest.fixture(scope="module")
def postgis() -> Iterator[Database]:
    """A PostGIS database to compare the Python functions with, whatever the backend."""
    url = create_pg_database()
    made = Database(url)
    yield made
    made.dispose()
    drop_pg_database(url)


# Pairs at German latitudes whose PostGIS distance the Python implementation must match.
AGREEMENT_PAIRS: list[tuple[str, BaseGeometry, BaseGeometry]] = [
    ("point-point", CENTRE, Point(7.80, 49.45)),
    ("point-long-diagonal-line", Point(7.77, 49.44), LineString([(7.70, 49.40), (7.90, 49.50)])),
    ("point-line-across-germany", Point(9.0, 51.0), LineString([(6.0, 47.5), (14.0, 54.5)])),
    ("point-polygon", CENTRE, box(7.80, 49.46, 7.82, 49.48)),
    ("point-in-hole", Point(7.800, 49.4301), PARK),
    ("point-multipolygon", CENTRE, TWIN),
    ("polygon-polygon", ALTSTADT, PARK),
    ("line-polygon", BUS_LINE, TWIN),
    ("line-line-crossing", BUS_LINE, LineString([(7.775, 49.430), (7.775, 49.460)])),
    ("point-inside", LANTERN, ALTSTADT),
    ("kaiserslautern-berlin", CENTRE, Point(13.405, 52.52)),
    ("across-the-antimeridian", Point(179.99, -16.5), Point(-179.99, -16.6)),
]


@pytest.mark.parametrize(
    ("a", "b"), [(a, b) for _, a, b in AGREEMENT_PAIRS], ids=[n for n, *_ in AGREEMENT_PAIRS]
)
def test_python_distance_agrees_with_postgis(
    postgis: Database, a: BaseGeometry, b: BaseGeometry
) -> None:
    with postgis.read() as session:
        expected = session.scalar(select(func.ST_DistanceSphere(_value(a), _value(b))))
    assert expected is not None
    actual = distance_sphere(a, b)
    assert actual is not None
    # Gnomonic nearest points land on the same great-circle arcs PostGIS uses: the two agree
    # far inside the 0.5 % / 1 m promised for the backends, so regressions show here first.
    assert abs(actual - expected) <= 0.01, (actual, expected)


def _value(geometry: BaseGeometry) -> ColumnElement[Any]:
    return literal(geometry, Geometry())


@pytest.mark.parametrize(
    ("geometry", "metres"),
    [
        pytest.param(CENTRE, 50, id="lantern-50m"),
        pytest.param(ALTSTADT, 5000, id="altstadt-5km"),
        pytest.param(Point(10.0, 55.0), 100_000, id="north-sea-100km"),
        pytest.param(Point(0.0, 88.0), 10_000, id="near-pole"),
    ],
)
def test_search_box_holds_the_whole_circle(geometry: BaseGeometry, metres: float) -> None:
    minx, miny, maxx, maxy = spatial.search_box(geometry, metres)
    for lon, lat in geometry.exterior.coords if isinstance(geometry, Polygon) else geometry.coords:
        for bearing in range(0, 360, 5):
            x, y = _destination(lon, lat, bearing, metres)
            assert minx <= x <= maxx
            assert miny <= y <= maxy


def test_search_box_edges() -> None:
    assert spatial.search_box(Point(0.0, 89.99), 5000)[::2] == (-180.0, 180.0)
    assert spatial.search_box(Point(179.999, 0.0), 1000)[::2] == (-180.0, 180.0)
    minx, miny, _maxx, _maxy = spatial.search_box(CENTRE, 1000)
    # About 1 km plus the slack for great-circle edges, no more.
    assert 0.009 < CENTRE.y - miny < 0.0095
    assert 0.0138 < CENTRE.x - minx < 0.0145


def _destination(lon: float, lat: float, bearing: float, metres: float) -> tuple[float, float]:
    phi, lam, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    delta = metres / EARTH_RADIUS_M
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(lam2), math.degrees(phi2)
