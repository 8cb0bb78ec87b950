"""CAP text and geometry helpers: times, references, group lists, polygons and circles."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from stadtkern.warning.cap import (
    CapArea,
    CapInvalid,
    CapReference,
    area_geometry,
    cap_circle,
    cap_polygon,
    circle_polygon,
    circle_to_cap,
    format_cap_time,
    format_reference,
    parse_cap_time,
    parse_references,
    polygon_to_cap,
)
from stadtkern.warning.cap_text import format_group, parse_group
from tests.warning.test_cap_samples import SENDER, alert, info_de, info_en

LMT_BERLIN = timezone(timedelta(minutes=53, seconds=28))


def test_cap_time_keeps_the_offset_and_drops_fractions() -> None:
    moment = datetime(2026, 3, 29, 3, 15, 7, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert format_cap_time(moment) == "2026-03-29T03:15:07+02:00"
    assert format_cap_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00-00:00"
    assert format_cap_time(datetime(2026, 1, 1, tzinfo=timezone(-timedelta(hours=5)))).endswith(
        "-05:00"
    )


def test_offsets_with_seconds_are_written_in_utc() -> None:
    moment = datetime(1890, 1, 1, 12, 0, tzinfo=LMT_BERLIN)
    assert format_cap_time(moment) == "1890-01-01T11:06:32-00:00"


@pytest.mark.parametrize(
    "text", ["2026-12-01T15:00:00Z", "2026-12-01T15:00:00.5+01:00", "2026-12-01T15:00:00", ""]
)
def test_parse_cap_time_refuses_other_forms(text: str) -> None:
    with pytest.raises(CapInvalid, match="is not a CAP time"):
        parse_cap_time(text)


def test_parse_cap_time_refuses_impossible_dates() -> None:
    with pytest.raises(CapInvalid, match="is not a valid time"):
        parse_cap_time("2026-02-30T12:00:00+01:00")


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - bounds of a strategy with timezones
        max_value=datetime(2200, 1, 1),  # noqa: DTZ001
        timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
    )
)
def test_cap_time_round_trip(moment: datetime) -> None:
    parsed = parse_cap_time(format_cap_time(moment))
    assert parsed == moment.replace(microsecond=0)
    assert parsed.utcoffset() == moment.utcoffset()


def test_references_round_trip() -> None:
    first = CapReference(sender=SENDER, identifier="A-1", sent=datetime(2026, 1, 1, tzinfo=UTC))
    second = CapReference(
        sender="bbk@bund.de",
        identifier="mow.DE-1",
        sent=datetime(2026, 1, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))),
    )
    text = " ".join(format_reference(ref) for ref in (first, second))
    assert text == (
        f"{SENDER},A-1,2026-01-01T00:00:00-00:00 bbk@bund.de,mow.DE-1,2026-01-02T09:30:00+01:00"
    )
    assert parse_references(text) == (first, second)
    assert parse_references(text.replace(" ", "\n   ")) == (first, second)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sender,id", "is not 'sender,identifier,sent'"),
        (",id,2026-01-01T00:00:00+00:00", "is not 'sender,identifier,sent'"),
        ("s,id,2026-01-01", "is not a CAP time"),
    ],
)
def test_parse_references_refuses_malformed(text: str, message: str) -> None:
    with pytest.raises(CapInvalid, match=message):
        parse_references(text)


def test_format_reference_refuses_commas() -> None:
    ref = CapReference(sender="a,b", identifier="x", sent=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(CapInvalid, match="referenced sender 'a,b' contains"):
        format_reference(ref)


def test_group_lists_quote_entries_with_spaces() -> None:
    entries = ("leitstelle@kaiserslautern.de", "Feuerwehr Kaiserslautern")
    text = format_group(entries)
    assert text == 'leitstelle@kaiserslautern.de "Feuerwehr Kaiserslautern"'
    assert parse_group(text) == entries
    with pytest.raises(CapInvalid, match="double quote"):
        format_group(['Sag "Hallo"'])


def test_polygon_round_trip_turns_the_axis_order() -> None:
    shape = Polygon([(7.75, 49.43), (7.79, 49.43), (7.79, 49.45), (7.75, 49.43)])
    text = polygon_to_cap(shape)
    assert text == "49.43,7.75 49.43,7.79 49.45,7.79 49.43,7.75"
    assert cap_polygon(text).equals(shape)


@given(
    st.lists(
        st.tuples(st.floats(-180, 180), st.floats(-90, 90)), min_size=3, max_size=20, unique=True
    )
)
def test_polygon_text_round_trip(points: list[tuple[float, float]]) -> None:
    text = polygon_to_cap(Polygon(points))
    assert polygon_to_cap(cap_polygon(text)) == text
    for (lon, lat), (lon2, lat2) in zip(points, cap_polygon(text).exterior.coords, strict=False):
        assert math.isclose(lon, lon2, abs_tol=1e-7)
        assert math.isclose(lat, lat2, abs_tol=1e-7)


def test_polygon_with_hole_is_refused() -> None:
    outer = [(0, 0), (10, 0), (10, 10), (0, 10)]
    inner = [(2, 2), (3, 2), (3, 3)]
    with pytest.raises(CapInvalid, match="holes"):
        polygon_to_cap(Polygon(outer, [inner]))


def test_polygon_outside_wgs84_is_refused() -> None:
    with pytest.raises(CapInvalid, match="latitude '95'"):
        polygon_to_cap(Polygon([(0, 0), (1, 95), (1, 0)]))


@pytest.mark.parametrize(
    "text",
    [
        "49.43,7.75 49.45,7.75 49.45,7.79 49.43,7.75",
        "  49.43,7.75\n49.45,7.75 49.45,7.79 49.43,7.75 ",
    ],
)
def test_cap_polygon_is_lon_lat(text: str) -> None:
    assert list(cap_polygon(text).exterior.coords)[1] == (7.75, 49.45)


@pytest.mark.parametrize(
    "bad", ["49,7 50,7 50,8 49,7,1", "49;7 50,7 50,8 49;7", "nan,7 1,1 2,2 nan,7"]
)
def test_cap_polygon_refuses_bad_points(bad: str) -> None:
    with pytest.raises(CapInvalid):
        cap_polygon(bad)


def test_circle_is_lon_lat_radius() -> None:
    assert cap_circle("49.4447,7.7690 1.5") == (7.769, 49.4447, 1.5)
    assert cap_circle("49.4447,7.7690 0") == (7.769, 49.4447, 0.0)
    assert circle_to_cap(7.769, 49.4447, 1.5) == "49.4447,7.769 1.5"


@pytest.mark.parametrize("bad", ["49.4,7.7", "49.4,7.7 -1", "49.4,7.7 1 2", "91,7 1", "49,7 1e3"])
def test_cap_circle_refuses(bad: str) -> None:
    with pytest.raises(CapInvalid):
        cap_circle(bad)


def test_circle_polygon_keeps_the_radius() -> None:
    lon, lat, radius = 7.769, 49.4447, 1.5
    shape = circle_polygon(lon, lat, radius)
    assert shape.geom_type == "Polygon"
    assert len(shape.exterior.coords) == 65
    for vertex_lon, vertex_lat in shape.exterior.coords:
        assert math.isclose(_haversine_km(lon, lat, vertex_lon, vertex_lat), radius, rel_tol=1e-4)
    assert circle_polygon(lon, lat, 0).equals(Point(lon, lat))


def test_area_geometry_collects_polygons_and_circles() -> None:
    polygon = "49.43,7.75 49.45,7.75 49.45,7.79 49.43,7.75"
    assert area_geometry(CapArea(description="nur Geocode")) is None
    single = area_geometry(CapArea(description="a", polygons=(polygon,)))
    assert single is not None
    assert single.geom_type == "Polygon"
    both = area_geometry(CapArea(description="b", polygons=(polygon,), circles=("49,7 1",)))
    assert both is not None
    assert both.geom_type == "MultiPolygon"
    point = area_geometry(CapArea(description="c", polygons=(polygon,), circles=("49,7 0",)))
    assert point is not None
    assert point.geom_type == "GeometryCollection"


def test_info_for_prefers_exact_then_primary_language() -> None:
    message = alert(infos=(info_en(), info_de(), info_de(language="de-AT", event="Österreich")))
    assert message.info_for("de-AT").event == "Österreich"  # type: ignore[union-attr]
    assert message.info_for("de").language == "de-DE"  # type: ignore[union-attr]
    assert message.info_for("fr").language == "en-US"  # type: ignore[union-attr]
    assert alert(infos=()).info_for("de") is None


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))
