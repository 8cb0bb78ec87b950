"""Settings of the web pages (`STADTKERN_MODULE_SETTINGS='{"web": {...}}'`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEMO = "https://stadtkern.org/def/demo/"


class WebSettings(BaseModel):
    """What the portal shows and where its contacts go."""

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
