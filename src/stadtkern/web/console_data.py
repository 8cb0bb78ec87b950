"""What the staff console shows: the town's Things with their latest values, and their health.

Reads the latest-value table and the Things (no Observation is scanned). Filtering by kind
and district happens on the Things' properties (`kind`; `demo.district`, `lantern.district`
or `district`) in Python: a town has thousands of Things, not millions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.catalogue import DATASTREAM, THING
from stadtkern.sensorthings.latest import LATEST_OBSERVATION, location_of
from stadtkern.sensorthings.models import ResultType

DEFAULT_PERIOD_S = 900  # a stream that states no period is expected at least this often
MISSED_PERIODS = 3  # silent for this many periods: offline
Reading_ = tuple[str, float | bool | None, str]  # name, value, unit


@dataclass(frozen=True)
class Value:
    """The newest value of one Datastream."""

    stream: str
    value: float | bool | None
    unit: str
    at: datetime
    datastream_id: int
    observation_id: int = 0


@dataclass
class Device:
    """A Thing as the console lists it."""

    thing_id: int
    name: str
    kind: str
    district: str | None
    gateway: str | None
    code: str | None
    lon: float | None
    lat: float | None
    values: list[Value] = field(default_factory=list)
    period_s: int = DEFAULT_PERIOD_S

    @property
    def newest(self) -> datetime | None:
        """When the device last reported anything."""
        return max((value.at for value in self.values), default=None)

    def offline(self, now: datetime) -> bool:
        """Silent for MISSED_PERIODS of its shortest reporting period, or never heard."""
        newest = self.newest
        return newest is None or now - newest > timedelta(seconds=MISSED_PERIODS * self.period_s)


def devices(session: Session, tenant_id: int) -> list[Device]:
    """Every Thing of the town with its latest values, by kind and name."""
    found = things(session, tenant_id)
    _attach_values(session, tenant_id, found)
    return sorted(found.values(), key=lambda device: (device.kind, device.name))


def things(session: Session, tenant_id: int) -> dict[int, Device]:
    """Every Thing of the town by id, without values (what the filters choose from)."""
    thing = THING.table
    found: dict[int, Device] = {}
    for thing_id, name, properties, location in session.execute(
        select(thing.c.id, thing.c.name, thing.c.properties, location_of(thing.c.id)).where(
            thing.c.tenant_id == tenant_id
        )
    ):
        props = properties if isinstance(properties, dict) else {}
        lon, lat = point_of(location)
        found[int(thing_id)] = Device(
            thing_id=int(thing_id),
            name=str(name),
            kind=str(props.get("kind") or "other"),
            district=_first_text(
                props, ("demo", "district"), ("lantern", "district"), ("district",)
            ),
            gateway=_first_text(props, ("demo", "gateway"), ("gateway",)),
            code=_first_text(props, ("demo", "code"), ("lantern", "code"), ("code",)),
            lon=lon,
            lat=lat,
        )
    return found


def _attach_values(session: Session, tenant_id: int, found: dict[int, Device]) -> None:
    latest, stream = LATEST_OBSERVATION, DATASTREAM.table
    periods: dict[int, list[int]] = defaultdict(list)
    query = (
        select(
            stream.c.id,
            stream.c.thing_id,
            stream.c.name,
            # Two fields extracted by the database: decoding both JSON documents of every
            # Datastream in Python was half of the overview's time on the server.
            stream.c.unit_of_measurement["symbol"].as_string(),
            stream.c.properties["periodSeconds"].as_string(),
            latest.c.result_type,
            latest.c.result_number,
            latest.c.result_boolean,
            latest.c.phenomenon_time_start,
            latest.c.observation_id,
        )
        .select_from(latest)
        .join(stream, stream.c.id == latest.c.datastream_id)
        .where(latest.c.tenant_id == tenant_id)
        .order_by(stream.c.thing_id, stream.c.name)
    )
    for row in session.execute(query):
        stream_id, thing_id, name, symbol, period, kind, number, boolean, at, observation = row
        device = found.get(int(thing_id))
        if device is None:
            continue
        value: float | bool | None = None
        if kind == ResultType.NUMBER:
            value = number
        elif kind == ResultType.BOOLEAN:
            value = boolean
        device.values.append(
            Value(str(name), value, str(symbol or ""), _aware(at), int(stream_id), int(observation))
        )
        seconds = _whole_seconds(period)  # SQLite answers a number, PostgreSQL text
        if seconds is not None:
            periods[int(thing_id)].append(seconds)
    for thing_id, known in periods.items():
        found[thing_id].period_s = min(known)


@dataclass(frozen=True)
class Health:
    """The town's devices that need attention."""

    total: int
    offline: list[Device]
    failed_gateways: list[tuple[Device, list[Device]]]
    lanterns: list[dict[str, Any]]


def health(session: Session, tenant: Any, now: datetime, lantern_settings: Any | None) -> Health:
    """Offline devices, failed gateways with the devices they take down, lanterns' faults."""
    every = devices(session, tenant.id)
    offline = [device for device in every if device.offline(now)]
    by_code = defaultdict(list)
    for device in every:
        if device.gateway:
            by_code[device.gateway].append(device)
    gateways = [
        (device, by_code.get(device.code or "", []))
        for device in offline
        if device.kind == "gateway"
    ]
    return Health(len(every), offline, gateways, _lanterns(session, tenant, now, lantern_settings))


def _lanterns(
    session: Session, tenant: TenantRef, now: datetime, settings: BaseModel | None
) -> list[dict[str, Any]]:
    """Lanterns whose status is not ready, from the warning module's register."""
    if settings is None or not tenant.has_module("warning"):
        return []
    from stadtkern.warning.register import list_lanterns
    from stadtkern.warning.register_schemas import LanternFilter
    from stadtkern.warning.settings import WarningSettings

    assert isinstance(settings, WarningSettings)  # noqa: S101 - the warning module's settings

    found = list_lanterns(
        session=session, tenant=tenant, lantern_filter=LanternFilter(limit=5000), now=now,
        settings=settings,
    )  # fmt: skip
    return [
        {
            "code": lantern.code,
            "name": lantern.name,
            "status": status,
            "battery": lantern.battery,
            "mains": lantern.mains,
            "last_heartbeat": lantern.last_heartbeat,
        }
        for lantern, status in found
        if status != "ready"
    ]


def _whole_seconds(period: Any) -> int | None:
    """A positive whole number of seconds, else None."""
    text = str(period) if isinstance(period, int | str) and not isinstance(period, bool) else ""
    return int(text) if text.isdigit() and int(text) > 0 else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _first_text(properties: dict[str, Any], *paths: tuple[str, ...]) -> str | None:
    for path in paths:
        value: Any = properties
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def point_of(location: Any) -> tuple[float | None, float | None]:
    """(lon, lat) of a GeoJSON Point, else (None, None)."""
    if not isinstance(location, dict) or location.get("type") != "Point":
        return None, None
    coordinates = location.get("coordinates") or []
    if len(coordinates) < 2:
        return None, None
    return float(coordinates[0]), float(coordinates[1])


def map_points(
    points: Iterable[tuple[int, str, str | None, float | None, float | None, list[Reading_]]],
) -> dict[str, Any]:
    """Things as a GeoJSON FeatureCollection for the pages' maps: (id, name, kind, lon, lat,
    readings as (name, value, unit)); Things without a place are left out (the pages' tables
    list them)."""
    features = [
        {
            "type": "Feature",
            "id": thing_id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "name": name,
                "kind": kind,
                "readings": [
                    {"name": what, "value": value, "unit": unit} for what, value, unit in readings
                ],
            },
        }
        for thing_id, name, kind, lon, lat, readings in points
        if lon is not None and lat is not None
    ]
    return {"type": "FeatureCollection", "features": features}
