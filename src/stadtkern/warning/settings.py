"""Settings of the warning module: `[module_settings.warning]` in the TOML file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WarningSettings(BaseModel):
    """Delivery, retry, de-duplication and rate limits of warnings."""

    model_config = ConfigDict(extra="forbid")

    sender: str = Field(
        "",
        max_length=255,
        description="CAP sender of the tenant's alerts (empty: 'stadtkern@{tenant}')",
    )
    command_ttl_seconds: int = Field(
        600, ge=30, le=86_400, description="How long a lantern command stays valid (its expiry)"
    )
    retry_seconds: float = Field(
        10.0, ge=0.5, le=3600, description="Wait before a command without an answer is resent"
    )
    retry_backoff_max_seconds: float = Field(
        120.0, ge=1, le=3600, description="Longest wait between resends (doubling from retry)"
    )
    dedup_seconds: int = Field(
        600,
        ge=0,
        le=86_400,
        description="An identical alert created again within this time is the same alert",
    )
    max_dispatches_per_minute: int = Field(
        10, ge=1, le=1000, description="Most alerts a tenant may send to lanterns per minute"
    )
    offline_after_missed: int = Field(
        3, ge=1, le=100, description="Missed heartbeats after which a lantern counts as offline"
    )
    min_battery_percent: float = Field(
        20.0, ge=0, le=100, description="Below this battery level a lantern off mains is not ready"
    )
    ack_batch_rows: int = Field(
        2000, ge=1, le=100_000, description="Most lantern reports written in one transaction"
    )
