"""What staff (or a CAP message) give to create an alert: validated once, here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stadtkern.warning.areas import AreaSpec
from stadtkern.warning.cap_model import Category, Certainty, Severity, Urgency

Status = Literal["Actual", "Exercise", "System", "Test", "Draft"]
MsgType = Literal["Alert", "Update", "Cancel"]  # what staff create; Ack/Error are not alerts
Signal = Literal["warning", "all_clear", "test_tone", "none"]
LIVE_STATUSES = frozenset({"Actual"})
LANGUAGES = ("de", "en")


def channel_of(status: str) -> Literal["live", "exercise"]:
    """Real alerts go out on the live channel; exercises, tests and system messages do not."""
    return "live" if status in LIVE_STATUSES else "exercise"


class Texts(BaseModel):
    """A text in German (required) and English (optional)."""

    model_config = ConfigDict(extra="forbid")

    de: str = Field(min_length=1, max_length=2000)
    en: str | None = Field(None, min_length=1, max_length=2000)

    def items(self) -> list[tuple[str, str]]:
        """(language, text) for every language given, German first."""
        return [(lang, text) for lang, text in (("de", self.de), ("en", self.en)) if text]


class Audio(BaseModel):
    """A prepared audio file the lanterns play instead of synthesised speech."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=1000, pattern=r"^https?://")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AlertInput(BaseModel):
    """A new alert, update or cancel (camelCase JSON)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: Status
    msg_type: MsgType = Field("Alert", alias="msgType")
    references: str | None = Field(
        None, max_length=255, description="identifier of the alert this one updates or cancels"
    )
    event: str = Field(min_length=1, max_length=255)
    category: Category = "Safety"
    urgency: Urgency = "Immediate"
    severity: Severity = "Severe"
    certainty: Certainty = "Observed"
    sender_name: str | None = Field(None, alias="senderName", max_length=255)
    headline: Texts
    description: Texts | None = None
    instruction: Texts | None = None
    area: AreaSpec
    signal: Signal = "warning"
    speak: bool = Field(True, description="speak headline and instruction after the signal")
    audio: Audio | None = None
    repeat: int = Field(2, ge=1, le=5)
    expires_in_minutes: int = Field(60, alias="expiresInMinutes", ge=5, le=1440)

    @model_validator(mode="after")
    def _consistent(self) -> AlertInput:
        if self.msg_type in ("Update", "Cancel") and not self.references:
            raise ValueError(f"a {self.msg_type} must name the alert it refers to in 'references'")
        if self.msg_type == "Alert" and self.references:
            raise ValueError("'references' belongs to an Update or Cancel, not to an Alert")
        return self

    @property
    def channel(self) -> Literal["live", "exercise"]:
        """The channel its commands use."""
        return channel_of(self.status)

    def voice(self) -> dict[str, str] | None:
        """What the lanterns speak: headline and instruction per language."""
        if not self.speak:
            return None
        spoken: dict[str, str] = {}
        for lang, headline in self.headline.items():
            parts = [headline]
            if self.instruction is not None:
                parts += [text for code, text in self.instruction.items() if code == lang]
            spoken[lang] = " ".join(parts)
        return spoken
