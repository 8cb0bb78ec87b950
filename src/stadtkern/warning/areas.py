"""Where a warning applies: zones, drawn polygons, circles and regional keys, made one area.

An `AreaSpec` is what an issuer sends; `resolve_area` turns it into a `ResolvedArea`: the
union as one MultiPolygon (circles approximated by 64-gons on the sphere, for maps and
the stored alert), one CAP <area> per zone or shape, and the exact shapes. Which lanterns
an area holds is decided on the exact shapes, never on the approximation: a polygon holds
the lanterns it intersects (a lantern on its border is warned), a circle those within its
radius on the sphere.

Regional keys (ARS, 12 digits): the town's own key is the town, by its boundary, or all its
lanterns when it has no boundary (the union is then empty); a zone's key is that zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import shapely
from pydantic import Field, model_validator
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from stadtkern.core.models import Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import RequestBody
from stadtkern.db import spatial
from stadtkern.errors import InvalidInput
from stadtkern.geo import GeometryError, geometry_from_geojson, geometry_to_geojson
from stadtkern.warning.cap_geo import (
    cap_circle,
    cap_polygon,
    circle_polygon,
    circle_to_cap,
    polygon_to_cap,
)
from stadtkern.warning.cap_model import CapInvalid
from stadtkern.warning.models import Lantern, Target, Zone
from stadtkern.warning.readiness import lantern_status, summary
from stadtkern.warning.settings import WarningSettings

MAX_MEMBERS = 100
MAX_RADIUS_KM = 1000.0
ARS_NAME = "ARS"
# Cuts needed to free a polygon of its holes grow with the holes; past this it is refused.
_MAX_CUT_DEPTH = 64


class CircleSpec(RequestBody):
    """A circle: centre in WGS 84 and radius in kilometres."""

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    radius_km: float = Field(alias="radiusKm", gt=0, le=MAX_RADIUS_KM, allow_inf_nan=False)


class GeocodeSpec(RequestBody):
    """A CAP geocode; Stadtkern knows the official regional key (valueName 'ARS')."""

    value_name: str = Field(alias="valueName", min_length=1, max_length=40)
    value: str = Field(min_length=1, max_length=40)


class AreaSpec(RequestBody):
    """Where to warn: any mix of zones, polygons, circles and geocodes, at least one."""

    zones: list[str] = Field(default_factory=list, max_length=MAX_MEMBERS)
    polygons: list[dict[str, Any] | str] = Field(
        default_factory=list,
        max_length=MAX_MEMBERS,
        description="GeoJSON Polygon/MultiPolygon, or CAP polygon 'lat,lon lat,lon ...'",
    )
    circles: list[CircleSpec | str] = Field(
        default_factory=list,
        max_length=MAX_MEMBERS,
        description="{lat, lon, radiusKm}, or CAP circle 'lat,lon radius_km'",
    )
    geocodes: list[GeocodeSpec] = Field(default_factory=list, max_length=MAX_MEMBERS)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.zones or self.polygons or self.circles or self.geocodes):
            raise ValueError("an area needs at least one zone, polygon, circle or geocode")
        return self


@dataclass(frozen=True)
class ResolvedArea:
    """An area made concrete: its union, its CAP <area> blocks and the exact shapes."""

    geometry: MultiPolygon
    cap_areas: list[dict[str, Any]]
    zone_keys: list[str]
    polygons: tuple[BaseGeometry, ...] = ()  # exact: zones, boundary, drawn polygons
    circles: tuple[tuple[float, float, float], ...] = ()  # exact: (lon, lat, radius_km)
    whole_tenant: bool = False  # every lantern of the town (its key, and it has no boundary)


def resolve_area(session: Session, tenant: TenantRef, spec: AreaSpec) -> ResolvedArea:
    """Resolve a spec; InvalidInput names every unknown zone or geocode and each bad shape."""
    builder = _Builder()
    _add_zones(session, tenant, spec.zones, builder)
    for index, polygon in enumerate(spec.polygons):
        builder.add_polygon(_polygon(polygon, f"polygons[{index}]"), f"Drawn area {index + 1}")
    for index, circle in enumerate(spec.circles):
        builder.add_circle(*_circle(circle, f"circles[{index}]"), where=f"circles[{index}]")
    for index, geocode in enumerate(spec.geocodes):
        _add_geocode(session, tenant, geocode, f"geocodes[{index}]", builder)
    union = unary_union(builder.shapes) if builder.shapes else MultiPolygon()
    return ResolvedArea(
        geometry=_multi(union),
        cap_areas=builder.cap_areas,
        zone_keys=builder.zone_keys,
        polygons=tuple(builder.polygons),
        circles=tuple(builder.circles),
        whole_tenant=builder.whole_tenant,
    )


def _in_area(tenant: TenantRef, area: ResolvedArea) -> list[ColumnElement[bool]] | None:
    """The conditions selecting the town's lanterns in the area (exact shapes); None: none."""
    mine = Lantern.tenant_id == tenant.id
    if area.whole_tenant:
        return [mine]
    tests: list[ColumnElement[bool]] = [
        spatial.intersects(Lantern.geom, polygon) for polygon in area.polygons
    ]
    tests += [
        spatial.within_distance(Lantern.geom, Point(lon, lat), radius_km * 1000.0)
        for lon, lat, radius_km in area.circles
    ]
    return [mine, or_(*tests)] if tests else None


def lanterns_in(session: Session, tenant: TenantRef, area: ResolvedArea) -> list[Lantern]:
    """The town's lanterns in the area (exact shapes), ordered by code."""
    conditions = _in_area(tenant, area)
    if conditions is None:
        return []
    return list(session.scalars(select(Lantern).where(*conditions).order_by(Lantern.code)))


def targets_in(session: Session, tenant: TenantRef, area: ResolvedArea) -> list[Target]:
    """Only id and code of the lanterns in the area: what a dispatch needs, without loading
    ten thousand lanterns with their geometry."""
    conditions = _in_area(tenant, area)
    if conditions is None:
        return []
    query = select(Lantern.id, Lantern.code).where(*conditions).order_by(Lantern.code)
    return [Target(*row) for row in session.execute(query)]


def preview(
    session: Session,
    tenant: TenantRef,
    spec: AreaSpec,
    now: datetime,
    settings: WarningSettings,
) -> dict[str, Any]:
    """What an alert to this area would reach: counts, the lanterns, and map data (GeoJSON)."""
    area = resolve_area(session, tenant, spec)
    reached = [
        (lantern, lantern_status(lantern, now, settings))
        for lantern in lanterns_in(session, tenant, area)
    ]
    counts = summary([status for _, status in reached])
    area_feature = {
        "type": "Feature",
        "geometry": None if area.geometry.is_empty else geometry_to_geojson(area.geometry),
        "properties": {"kind": "area", "zones": area.zone_keys, "wholeTown": area.whole_tenant},
    }
    lantern_features = [
        {
            "type": "Feature",
            "geometry": geometry_to_geojson(lantern.geom),
            "properties": {"kind": "lantern", "code": lantern.code, "status": status},
        }
        for lantern, status in reached
    ]
    return {
        "count": counts["lanterns"],
        "ready": counts["ready"],
        "readiness": counts["readiness"],
        "statuses": counts["statuses"],
        "zones": area.zone_keys,
        "capAreas": area.cap_areas,
        "lanterns": [
            {"code": lantern.code, "name": lantern.name, "district": lantern.district, "status": s}
            for lantern, s in reached
        ],
        "map": {"type": "FeatureCollection", "features": [area_feature, *lantern_features]},
    }


class _Builder:
    """The pieces of an area as they are resolved."""

    def __init__(self) -> None:
        self.shapes: list[BaseGeometry] = []
        self.polygons: list[BaseGeometry] = []
        self.circles: list[tuple[float, float, float]] = []
        self.cap_areas: list[dict[str, Any]] = []
        self.zone_keys: list[str] = []
        self.whole_tenant = False

    def add_polygon(
        self,
        geometry: BaseGeometry,
        description: str,
        geocodes: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.shapes.append(geometry)
        self.polygons.append(geometry)
        self.cap_areas.append(_cap_area(description, cap_polygons(geometry), [], geocodes))

    def add_circle(self, lon: float, lat: float, radius_km: float, *, where: str) -> None:
        shape = circle_polygon(lon, lat, radius_km)
        if not shape.is_valid or shape.area <= 0:
            raise InvalidInput(
                f"{where}: the circle is too small to be drawn (radius {radius_km} km)"
            )
        self.shapes.append(shape)
        self.circles.append((lon, lat, radius_km))
        text = circle_to_cap(lon, lat, radius_km)
        self.cap_areas.append(
            _cap_area(f"Circle of {radius_km:g} km around {lat:g},{lon:g}", [], [text], [])
        )

    def add_zone(self, zone: Zone) -> None:
        if zone.key in self.zone_keys:
            return
        self.zone_keys.append(zone.key)
        codes = [(ARS_NAME, zone.ars)] if zone.ars else []
        self.add_polygon(zone.geom, zone.name, codes)


def cap_polygons(geometry: BaseGeometry) -> list[str]:
    """CAP polygon strings ("lat,lon ...", closed) covering a (multi)polygon exactly.

    CAP polygons have no holes, so a polygon with holes is cut into pieces without them.
    """
    parts = list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]
    return [polygon_to_cap(piece) for part in parts for piece in _hole_free(part, 0)]


def _hole_free(polygon: Polygon, depth: int) -> list[Polygon]:
    if not polygon.interiors:
        return [polygon]
    if depth > _MAX_CUT_DEPTH:
        raise InvalidInput("an area has too many holes to be written as CAP polygons")
    # A cut through the first hole's centre opens it; both halves have fewer holes.
    cut = polygon.interiors[0].centroid.x
    minx, miny, maxx, maxy = polygon.bounds
    pieces: list[Polygon] = []
    for half in (box(minx - 1, miny - 1, cut, maxy + 1), box(cut, miny - 1, maxx + 1, maxy + 1)):
        part = polygon.intersection(half)
        for piece in getattr(part, "geoms", [part]):
            if isinstance(piece, Polygon) and not piece.is_empty and piece.area > 0:
                pieces.extend(_hole_free(piece, depth + 1))
    return pieces


def _cap_area(
    description: str,
    polygons: list[str],
    circles: list[str],
    geocodes: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    return {
        "areaDesc": description,
        "polygons": polygons,
        "circles": circles,
        "geocodes": list(geocodes),
    }


def _add_zones(session: Session, tenant: TenantRef, keys: list[str], builder: _Builder) -> None:
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return
    found = {
        zone.key: zone
        for zone in session.scalars(
            select(Zone).where(Zone.tenant_id == tenant.id, Zone.key.in_(wanted))
        )
    }
    unknown = [key for key in wanted if key not in found]
    if unknown:
        raise InvalidInput(f"zones: unknown zone(s) {', '.join(repr(k) for k in unknown)}")
    for key in wanted:
        builder.add_zone(found[key])


def _add_geocode(
    session: Session, tenant: TenantRef, geocode: GeocodeSpec, where: str, builder: _Builder
) -> None:
    if geocode.value_name != ARS_NAME:
        raise InvalidInput(f"{where}: unknown geocode {geocode.value_name!r}; Stadtkern knows ARS")
    if not (len(geocode.value) == 12 and geocode.value.isascii() and geocode.value.isdigit()):
        raise InvalidInput(f"{where}: an ARS has 12 digits")
    town = session.get(Tenant, tenant.id)
    if town is not None and town.ars == geocode.value:
        codes = [(ARS_NAME, geocode.value)]
        if town.boundary is not None:
            builder.add_polygon(town.boundary, town.name, codes)
        elif not builder.whole_tenant:
            builder.whole_tenant = True
            builder.cap_areas.append(_cap_area(town.name, [], [], codes))
        return
    zone = session.scalars(
        select(Zone).where(Zone.tenant_id == tenant.id, Zone.ars == geocode.value)
    ).first()
    if zone is None:
        raise InvalidInput(f"{where}: unknown geocode ARS {geocode.value} in this town")
    builder.add_zone(zone)


def _polygon(value: dict[str, Any] | str, where: str) -> BaseGeometry:
    if isinstance(value, str):
        try:
            polygon: BaseGeometry = cap_polygon(value)
        except CapInvalid as exc:
            raise InvalidInput(f"{where}: {'; '.join(exc.errors)}") from exc
        if not polygon.is_valid:
            reason = shapely.is_valid_reason(polygon)
            raise InvalidInput(f"{where}: invalid polygon: {reason} (position as lon lat)")
        return polygon
    try:
        return geometry_from_geojson(value, allowed=("Polygon", "MultiPolygon"))
    except GeometryError as exc:
        raise InvalidInput(f"{where}: {exc}") from exc


def _circle(value: CircleSpec | str, where: str) -> tuple[float, float, float]:
    if isinstance(value, CircleSpec):
        return value.lon, value.lat, value.radius_km
    try:
        lon, lat, radius_km = cap_circle(value)
    except CapInvalid as exc:
        raise InvalidInput(f"{where}: {'; '.join(exc.errors)}") from exc
    if not (0 < radius_km <= MAX_RADIUS_KM and math.isfinite(radius_km)):
        raise InvalidInput(f"{where}: the radius must be more than 0 and at most 1000 km")
    return lon, lat, radius_km


def _multi(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    return MultiPolygon(
        [part for part in getattr(geometry, "geoms", []) if isinstance(part, Polygon)]
    )
