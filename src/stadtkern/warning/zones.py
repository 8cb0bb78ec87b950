"""Warning zones: districts (Ortsbezirke) and areas drawn by staff, to warn by name.

A zone's geometry is a GeoJSON Polygon or MultiPolygon in WGS 84, stored as a MultiPolygon.
Invalid geometry (a self-intersecting ring, a hole outside its shell, ...) is refused with
the reason and where it is; it is never repaired behind the sender's back, since a repaired
shape may cover other streets than the one drawn. A zone may carry an official regional key
(ARS), which CAP alerts use as a geocode; two zones of a town cannot share one.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from shapely.geometry import MultiPolygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import TenantRef
from stadtkern.core.schemas import Boundary, RegionalKey, RequestBody
from stadtkern.errors import Conflict, InvalidInput, NotFound
from stadtkern.geo import GeometryError, geometry_from_geojson, geometry_to_geojson
from stadtkern.warning.areas import cap_polygons
from stadtkern.warning.models import Zone

ZONE_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ZoneKind = Literal["district", "drawn"]


class ZoneReplace(RequestBody):
    """A zone's name, kind, regional key and geometry (PUT replaces all of them)."""

    name: str = Field(min_length=1, max_length=255)
    kind: ZoneKind = Field(description="district (Ortsbezirk) or drawn by staff")
    ars: RegionalKey | None = Field(default=None, description="Regional key for CAP geocodes")
    geometry: Boundary = Field(description="GeoJSON Polygon or MultiPolygon in WGS 84")


class ZoneInput(ZoneReplace):
    """A new zone."""

    key: str = Field(
        pattern=ZONE_KEY.pattern,
        description="Short name used in areas: lower-case letters, digits, '-' and '_'",
    )


class ZonePublic(BaseModel):
    """A zone as the API shows it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    key: str
    name: str
    kind: str
    ars: str | None
    geometry: dict[str, Any]
    created_at: datetime


def zone_geometry(data: object) -> MultiPolygon:
    """A zone's geometry from GeoJSON; InvalidInput says why it cannot be one."""
    try:
        geometry = geometry_from_geojson(data, allowed=("MultiPolygon",), promote_to_multi=True)
    except GeometryError as exc:
        raise InvalidInput(str(exc)) from exc  # it names the geometry and where
    assert isinstance(geometry, MultiPolygon)  # noqa: S101 - only MultiPolygons are allowed
    try:
        cap_polygons(geometry)  # alerts to the zone must be able to describe it in CAP
    except InvalidInput as exc:
        raise InvalidInput(f"geometry: {exc.detail}") from exc
    return geometry


def to_public(zone: Zone) -> ZonePublic:
    """The API representation of a zone."""
    return ZonePublic(
        key=zone.key,
        name=zone.name,
        kind=zone.kind,
        ars=zone.ars,
        geometry=geometry_to_geojson(zone.geom),
        created_at=zone.created_at,
    )


def list_zones(*, session: Session, tenant: TenantRef) -> list[Zone]:
    """The town's zones by key."""
    return list(session.scalars(select(Zone).where(Zone.tenant_id == tenant.id).order_by(Zone.key)))


def get_zone(*, session: Session, tenant: TenantRef, key: str) -> Zone:
    """The town's zone with this key; NotFound otherwise."""
    zone = session.scalars(select(Zone).where(Zone.tenant_id == tenant.id, Zone.key == key)).first()
    if zone is None:
        raise NotFound(f"no zone '{key}'")
    return zone


def create_zone(*, session: Session, tenant: TenantRef, zone_input: ZoneInput, actor: str) -> Zone:
    """Add a zone; Conflict when its key or regional key is taken."""
    geometry = zone_geometry(zone_input.geometry)
    taken = select(Zone.id).where(Zone.tenant_id == tenant.id, Zone.key == zone_input.key)
    if session.scalars(taken).first() is not None:
        raise Conflict(f"a zone '{zone_input.key}' exists already")
    _check_ars(session, tenant, zone_input.ars, key=zone_input.key)
    zone = Zone(
        tenant_id=tenant.id,
        key=zone_input.key,
        name=zone_input.name,
        kind=zone_input.kind,
        ars=zone_input.ars,
        geom=geometry,
    )
    session.add(zone)
    session.flush()
    _audit(session, tenant, actor, "create", zone)
    return zone


def replace_zone(
    *, session: Session, tenant: TenantRef, key: str, zone_replace: ZoneReplace, actor: str
) -> Zone:
    """Replace an existing zone's name, kind, regional key and geometry."""
    geometry = zone_geometry(zone_replace.geometry)
    zone = get_zone(session=session, tenant=tenant, key=key)
    _check_ars(session, tenant, zone_replace.ars, key=key)
    zone.name = zone_replace.name
    zone.kind = zone_replace.kind
    zone.ars = zone_replace.ars
    zone.geom = geometry
    session.flush()
    _audit(session, tenant, actor, "update", zone)
    return zone


def delete_zone(*, session: Session, tenant: TenantRef, key: str, actor: str) -> None:
    """Remove a zone (alerts keep the area they were sent to)."""
    zone = get_zone(session=session, tenant=tenant, key=key)
    session.delete(zone)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="warning.zone.delete",
        target=f"zone:{key}",
        tenant_slug=tenant.slug,
    )


def _check_ars(session: Session, tenant: TenantRef, ars: str | None, *, key: str) -> None:
    if ars is None:
        return
    other = session.scalars(
        select(Zone.key).where(Zone.tenant_id == tenant.id, Zone.ars == ars, Zone.key != key)
    ).first()
    if other is not None:
        raise Conflict(f"the zone '{other}' has the regional key {ars} already")


def _audit(session: Session, tenant: TenantRef, actor: str, verb: str, zone: Zone) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"warning.zone.{verb}",
        target=f"zone:{zone.key}",
        tenant_slug=tenant.slug,
        payload={
            "key": zone.key,
            "name": zone.name,
            "kind": zone.kind,
            "ars": zone.ars,
            "geometry": geometry_to_geojson(zone.geom),
        },
    )
