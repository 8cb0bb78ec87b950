"""Settings of the SensorThings module: `[module_settings.sensorthings]` in the TOML file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SensorThingsSettings(BaseModel):
    """Paging limits and the MQTT endpoint announced in the service root."""

    model_config = ConfigDict(extra="forbid")

    default_top: int = Field(
        100, ge=1, le=10_000, description="Page size when a request gives no $top"
    )
    max_top: int = Field(
        1000, ge=1, le=100_000, description="Largest page; a larger $top is capped"
    )
    max_expand_depth: int = Field(5, ge=1, le=20, description="How deeply $expand may nest")
    max_batch_requests: int = Field(
        1000, ge=1, le=100_000, description="Most requests in one $batch"
    )
    mqtt_endpoint: str = Field(
        "",
        description="MQTT URL clients use, announced in serverSettings (empty: the platform's "
        "broker URL)",
    )
