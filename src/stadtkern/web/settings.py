"""Settings of the web pages (`STADTKERN_MODULE_SETTINGS='{"web": {...}}'`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

DEMO = "https://stadtkern.org/def/demo/"
HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")


class WebSettings(BaseModel):
    """What the portal shows, where its contacts go, and which base map the maps draw."""

    model_config = {"extra": "forbid"}

    environment_properties: list[str] = Field(
        default_factory=lambda: [
            DEMO + key
            for key in (
                "pm25",
                "pm10",
                "noise-level",
                "air-temperature",
                "co2",
                "room-temperature",
                "room-humidity",
            )
        ],
        description="ObservedProperty definitions the environment page publishes",
    )
    feedback_email: str = Field(
        default="",
        description="Where the accessibility statement sends feedback (BITV 2.0 requires one)",
    )
    feedback_phone: str = Field(default="", description="Phone number for accessibility feedback")
    enforcement_body: str = Field(
        default=(
            "Landesbeauftragte für die Belange von Menschen mit Behinderungen Rheinland-Pfalz, "
            "Bauhofstraße 9, 55116 Mainz"
        ),
        description="The enforcement procedure's body named in the accessibility statement",
    )
    privacy_contact: str = Field(
        default="", description="Data protection officer's contact for the privacy page"
    )
    base_map_style_url: str = Field(
        default="",
        description=(
            "A MapLibre style JSON for the maps, e.g. basemap.de's "
            "https://sgx.geodatenzentrum.de/gdz_basemapde_vektor/styles/bm_web_col.json; "
            "empty: the offline base layer drawn from the town's own boundary and districts"
        ),
    )
    base_map_tiles: str = Field(
        default="",
        description="Raster tiles for the maps instead of a style: a URL with {z}, {x} and {y}",
    )
    base_map_attribution: str = Field(
        default="", description="The raster tiles' attribution (a style names its own)"
    )
    base_map_origins: list[str] = Field(
        default_factory=list,
        description="Further origins the style loads from (its tiles, sprites or fonts elsewhere)",
    )

    @field_validator("base_map_style_url", "base_map_tiles")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if value and origin_of(value) is None:
            raise ValueError("an http(s) URL with a host")
        return value

    @field_validator("base_map_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if origin_of(value) != value.rstrip("/"):
                raise ValueError(f"{value!r}: an origin such as https://tiles.example.org")
        return [value.rstrip("/") for value in values]

    def base_map_sources(self) -> list[str]:
        """The origins the configured base map loads from, for the Content-Security-Policy."""
        found = [origin_of(url) for url in (self.base_map_style_url, self.base_map_tiles) if url]
        return list(dict.fromkeys([o for o in found if o] + self.base_map_origins))


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL; None for anything else."""
    parts = urlsplit(url.strip())
    # Only a plain host and port: the origin goes verbatim into a response header.
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc.lower()):
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
