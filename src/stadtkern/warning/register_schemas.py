"""What the lantern register takes and shows: a new lantern, a change, the public view.

JSON names are camelCase. A lantern's place is `lon` and `lat`, or a GeoJSON Point as
`location`; its device key is Ed25519, 32 raw bytes as base64url without padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from shapely.geometry import Point

from stadtkern.core.schemas import RequestBody
from stadtkern.devices.lantern.protocol import public_key_from_text
from stadtkern.errors import InvalidInput
from stadtkern.geo import GeometryError, geometry_from_geojson
from stadtkern.warning.models import Lantern
from stadtkern.warning.readiness import Status

CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LIST = 5000


def check_public_key(value: str) -> str:
    """A lantern's device key: Ed25519, 32 raw bytes as base64url without padding."""
    try:
        public_key_from_text(value)
    except ValueError as exc:
        raise ValueError(
            "the public key must be an Ed25519 key: 32 bytes in base64url without padding "
            "(43 characters)"
        ) from exc
    return value


class LanternFields(RequestBody):
    """Fields shared by a new lantern and a change to one (camelCase in JSON)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=False)

    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    location: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Point, instead of lon and lat"
    )
    district: str | None = Field(default=None, max_length=120)
    siren_db: float | None = Field(
        default=None, alias="sirenSoundLevelDb", ge=0, le=200, allow_inf_nan=False
    )
    firmware: str | None = Field(default=None, max_length=40)
    heartbeat_s: int | None = Field(default=None, alias="heartbeatSeconds", ge=10, le=86_400)

    @field_validator("public_key", check_fields=False)
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        return None if value is None else check_public_key(value)

    @field_validator("location")
    @classmethod
    def _point(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            try:
                geometry_from_geojson(value, allowed=("Point",))
            except GeometryError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @model_validator(mode="after")
    def _one_place(self) -> Self:
        given = {"lon", "lat", "location"} & self.model_fields_set
        if "location" in given and given & {"lon", "lat"}:
            raise ValueError("give either lon and lat or location, not both")
        if given & {"lon", "lat"} and not {"lon", "lat"} <= given:
            raise ValueError("lon and lat go together")
        return self

    def point(self) -> Point | None:
        """Where the lantern stands, from lon/lat or the GeoJSON point (None: not given)."""
        if self.location is not None:
            point = geometry_from_geojson(self.location, allowed=("Point",))
            assert isinstance(point, Point)  # noqa: S101 - only points are allowed
            return point
        if self.lon is None or self.lat is None:
            return None
        return Point(self.lon, self.lat)


class LanternInput(LanternFields):
    """A lantern to register."""

    code: str = Field(pattern=CODE.pattern, description="Name on the lantern's MQTT topics")
    name: str = Field(min_length=1, max_length=255)
    public_key: str = Field(alias="publicKey", description="Ed25519, base64url, no padding")
    heartbeat_s: int = Field(default=60, alias="heartbeatSeconds", ge=10, le=86_400)

    @model_validator(mode="after")
    def _placed(self) -> Self:
        if self.location is None and (self.lon is None or self.lat is None):
            raise ValueError("a lantern needs lon and lat, or a GeoJSON Point as location")
        return self


class LanternUpdate(LanternFields):
    """Changes to a lantern; fields left out stay, null clears district, siren level, firmware."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    public_key: str | None = Field(default=None, alias="publicKey")

    @model_validator(mode="after")
    def _required_stay(self) -> Self:
        for name in ("name", "public_key", "heartbeat_s", "lon", "lat", "location"):
            if name in self.model_fields_set and getattr(self, name) is None:
                alias = type(self).model_fields[name].alias or name
                raise ValueError(f"{alias} cannot be null")
        return self


class LanternPublic(BaseModel):
    """A lantern as the API shows it."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    code: str
    name: str
    lon: float
    lat: float
    district: str | None
    siren_sound_level_db: float | None
    firmware: str | None
    public_key: str
    heartbeat_seconds: int
    thing_id: int | None
    streams: dict[str, int]
    status: Status
    last_heartbeat: datetime | None
    battery: float | None
    mains: bool | None
    tamper: bool
    speaker_ok: bool | None
    heard: bool | None
    created_at: datetime


@dataclass(frozen=True)
class LanternFilter:
    """Which lanterns a listing shows: by district, box, status; `after` a code, by code."""

    district: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    status: Status | None = None
    after: str | None = None
    limit: int = 1000


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """A box 'minLon,minLat,maxLon,maxLat' in WGS 84."""
    parts = text.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(-1e3 < n < 1e3 for n in numbers):
        raise InvalidInput("bbox: expected 'minLon,minLat,maxLon,maxLat' (four numbers)")
    west, south, east, north = numbers
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox: corners outside WGS 84, or min greater than max")
    return west, south, east, north


def to_public(lantern: Lantern, status: Status) -> LanternPublic:
    """The API representation of a lantern with its current status."""
    point = lantern.geom
    assert isinstance(point, Point)  # noqa: S101 - the column holds points
    return LanternPublic(
        code=lantern.code,
        name=lantern.name,
        lon=float(point.x),
        lat=float(point.y),
        district=lantern.district,
        siren_sound_level_db=lantern.siren_db,
        firmware=lantern.firmware,
        public_key=lantern.device_key,
        heartbeat_seconds=lantern.heartbeat_s,
        thing_id=lantern.thing_id,
        streams=dict(lantern.streams),
        status=status,
        last_heartbeat=lantern.last_heartbeat,
        battery=lantern.battery,
        mains=lantern.mains,
        tamper=lantern.tamper,
        speaker_ok=lantern.speaker_ok,
        heard=lantern.heard,
        created_at=lantern.created_at,
    )


def register_values(lantern_input: LanternFields) -> dict[str, Any]:
    """The lantern columns a new lantern or a change sets (only the fields given)."""
    given = lantern_input.model_fields_set
    columns = {"name": "name", "district": "district", "siren_db": "siren_db"}
    columns |= {"firmware": "firmware", "public_key": "device_key", "heartbeat_s": "heartbeat_s"}
    values = {
        column: getattr(lantern_input, field)
        for field, column in columns.items()
        if field in given or isinstance(lantern_input, LanternInput)
    }
    point = lantern_input.point()
    if point is not None:
        values["geom"] = point
    return values
