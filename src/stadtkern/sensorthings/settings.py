"""Settings of the SensorThings module: `[module_settings.sensorthings]` in the TOML file."""

from __future__ import annotations

from typing import Literal

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

    # --- ingest pipeline (engineer I, issue 4) ---
    ingest_max_delay_ms: float = Field(
        5.0,
        ge=0,
        le=1000,
        description="Longest time an Observation waits for others to share its transaction",
    )
    ingest_batch_rows: int = Field(
        5000, ge=1, le=100_000, description="Most Observations written in one transaction"
    )
    ingest_queue_rows: int = Field(
        100_000,
        ge=1,
        le=10_000_000,
        description="Most Observations waiting to be written; beyond, HTTP answers 503 with "
        "Retry-After and MQTT consumption waits",
    )

    # --- fast reads: $count modes and the latest values (engineer R, issue 4) ---
    count_mode: Literal["exact", "estimate", "limited"] = Field(
        "exact",
        description="How $count=true counts unless a request says countMode=: exact, estimate "
        "(the database's estimate) or limited (counts up to count_limit)",
    )
    count_limit: int = Field(
        10_000,
        ge=1,
        le=100_000_000,
        description="Cap of countMode=limited; estimate counts exactly below it",
    )
    aggregate_rollups: bool = Field(
        True,
        description="$aggregate of whole hours reads the hourly rollups (sta_observation_hour), "
        "which every writer keeps, instead of the Observations",
    )
    latest_max_top: int = Field(
        10_000, ge=1, le=100_000, description="Largest page of Datastreams/$latest (map views)"
    )
