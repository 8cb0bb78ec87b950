"""What the citizen portal shows, gathered from the modules' service layers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import NotFound
from stadtkern.sensorthings.readings import Reading, latest_readings
from stadtkern.sensorthings.tenant_settings import anonymous_read
from stadtkern.web.console_data import map_points, point_of
from stadtkern.web.settings import WebSettings
from stadtkern.web.stream_data import StreamInfo, stream_info


@dataclass(frozen=True)
class Warning_:
    """One published warning in the visitor's language."""

    identifier: str
    status: str
    msg_type: str
    sent: datetime
    event: str
    headline: str
    description: str
    instruction: str
    areas: str
    severity: str


@dataclass(frozen=True)
class Place:
    """A Thing with its latest environment readings."""

    thing_id: int
    name: str
    kind: str | None
    lon: float | None
    lat: float | None
    readings: tuple[Reading, ...]


def public_warnings(session: Session, tenant: TenantRef, language: str) -> list[Warning_]:
    """The town's warnings of the last days (real alerts only), newest first."""
    if not tenant.has_module("warning"):
        return []
    from stadtkern.warning.public_alerts import published_alerts

    warnings = []
    for alert in published_alerts(session, tenant.id, datetime.now(UTC), exercises=False):
        info = alert.info_for(language)
        if info is None:
            continue
        warnings.append(
            Warning_(
                identifier=alert.identifier,
                status=alert.status,
                msg_type=alert.msg_type,
                sent=alert.sent,
                event=info.event,
                headline=info.headline or info.event,
                description=info.description or "",
                instruction=info.instruction or "",
                areas=", ".join(area.description for area in info.areas),
                severity=info.severity,
            )
        )
    return warnings


def environment(session: Session, tenant: TenantRef, settings: WebSettings) -> list[Place] | None:
    """Environment readings by place; None when the town does not publish its sensor data."""
    if not tenant.has_module("sensorthings") or not anonymous_read(session, tenant.id):
        return None
    by_thing: dict[int, list[Reading]] = defaultdict(list)
    for reading in latest_readings(session, tenant.id, settings.environment_properties):
        by_thing[reading.thing_id].append(reading)
    places = []
    for readings in by_thing.values():
        first = readings[0]
        lon, lat = point_of(first.location)
        places.append(
            Place(first.thing_id, first.thing_name, first.kind, lon, lat, tuple(readings))
        )
    return sorted(places, key=lambda place: place.name)


def places_geojson(places: list[Place]) -> dict[str, Any]:
    """The places as a GeoJSON FeatureCollection for the map (the page's table has the same)."""
    return map_points(
        (
            p.thing_id,
            p.name,
            p.kind,
            p.lon,
            p.lat,
            [(r.property_name, r.value, r.unit_symbol) for r in p.readings],
        )
        for p in places
    )


def reading_rows(places: list[Place]) -> list[dict[str, Any]]:
    """One row per reading, as the downloads write them."""
    return [
        {
            "place": place.name,
            "kind": place.kind or "",
            "lon": place.lon,
            "lat": place.lat,
            "quantity": reading.property_name,
            "definition": reading.definition,
            "value": reading.value,
            "unit": reading.unit_symbol,
            "time": reading.at,
            "datastream": reading.datastream_id,
        }
        for place in places
        for reading in place.readings
    ]


def published_stream(
    session: Session, tenant: TenantRef, settings: WebSettings, datastream_id: int
) -> StreamInfo:
    """A Datastream the environment page publishes (open data of a published property);
    NotFound for any other, so the portal never shows what the town keeps to itself."""
    if not tenant.has_module("sensorthings") or not anonymous_read(session, tenant.id):
        raise NotFound(f"no published Datastream {datastream_id}")
    info = stream_info(session, tenant.id, datastream_id)
    if info.definition not in settings.environment_properties:
        raise NotFound(f"no published Datastream {datastream_id}")
    return info


def town_geojson(session: Session, tenant: TenantRef) -> dict[str, Any]:
    """The town's boundary and its districts: the offline base layer of the maps."""
    from shapely.geometry import mapping
    from sqlalchemy import select

    from stadtkern.core.models import Tenant

    features: list[dict[str, Any]] = []
    boundary = session.scalar(select(Tenant.boundary).where(Tenant.id == tenant.id))
    if boundary is not None:
        features.append(
            {"type": "Feature", "geometry": mapping(boundary), "properties": {"role": "town"}}
        )
    if tenant.has_module("warning"):
        from stadtkern.warning.zones import list_zones

        for zone in list_zones(session=session, tenant=tenant):
            if zone.kind != "district" or zone.geom is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": mapping(zone.geom),
                    "properties": {"role": "district", "name": zone.name},
                }
            )
    return {"type": "FeatureCollection", "features": features}
