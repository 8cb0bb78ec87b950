"""Settings of the Mängelmelder: `[module_settings.maengelmelder]` in the TOML file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class MaengelmelderSettings(BaseModel):
    """Abuse limits, photos, retention of personal data and the SMTP server for notices."""

    model_config = ConfigDict(extra="forbid")

    require_api_key: bool = Field(
        True, description="POST requests needs an api_key of a principal with 'open311_client'"
    )
    posts_per_window: int = Field(
        10, ge=1, le=100_000, description="Reports one client (api key or address) may send"
    )
    post_window_seconds: int = Field(3600, ge=1, le=86_400, description="Window of that limit")
    max_description_chars: int = Field(4000, ge=100, le=20_000)
    max_photo_bytes: int = Field(
        10_000_000,
        ge=10_000,
        le=50_000_000,
        description="Largest photo accepted (a phone's photo is 2 to 8 MB; it is stored shrunk)",
    )
    photo_max_pixels: int = Field(
        2048, ge=256, le=8192, description="Longest side of a stored photo (larger ones shrink)"
    )
    retention_days: int = Field(
        90, ge=0, le=3650, description="Days after closing when name, e-mail and phone go"
    )
    default_window_days: int = Field(
        90, ge=1, le=3650, description="GET requests without dates covers this many days"
    )
    smtp_host: str = Field("", description="SMTP server for notices to reporters (empty: none)")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("maengelmelder@localhost", max_length=255)
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS")
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    mail_retry_seconds: float = Field(60.0, ge=0.1, le=86_400, description="Wait after a failure")
    tick_seconds: float = Field(
        5.0, ge=0.05, le=3600, description="How often the mail courier and the purge look for work"
    )
