"""Tables of the public-warning module: lanterns, zones, alerts, deliveries, keys.

Every row carries its tenant. An alert's lifecycle lives in `warn_alert.state`; what each
lantern was told and answered lives in `warn_delivery`, one row per alert and lantern, with
the signed command kept so that a retry resends exactly the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

import stadtkern.core.models
import stadtkern.sensorthings.models  # noqa: F401 - lanterns refer to their SensorThings Thing
from stadtkern.db.base import Base, BigId, TenantScoped, utcnow
from stadtkern.db.geometry import Geometry


class SigningKey(TenantScoped, Base):
    """An Ed25519 key the platform signs lantern commands with, one set per channel.

    The private key is sealed with a key derived from STADTKERN_SECRET_KEY, so database
    read access alone cannot sign a command.
    """

    __tablename__ = "warn_signing_key"
    __table_args__ = (UniqueConstraint("tenant_id", "kid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))  # live | exercise
    kid: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(64))
    private_key_sealed: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))  # active | next | retired
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CommandCounter(Base):
    """The last command counter handed out per tenant and channel (strictly increasing)."""

    __tablename__ = "warn_counter"

    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Lantern(TenantScoped, Base):
    """A smart street lantern with siren, loudspeaker and light."""

    __tablename__ = "warn_lantern"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    thing_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("sta_thing.id", ondelete="SET NULL"), nullable=True
    )
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("POINT"))
    district: Mapped[str | None] = mapped_column(String(120), nullable=True)
    siren_db: Mapped[float | None] = mapped_column(Float, nullable=True)
    firmware: Mapped[str | None] = mapped_column(String(40), nullable=True)
    device_key: Mapped[str] = mapped_column(String(64))
    heartbeat_s: Mapped[int] = mapped_column(Integer, default=60)
    last_heartbeat: Mapped[datetime | None] = mapped_column(nullable=True)
    battery: Mapped[float | None] = mapped_column(Float, nullable=True)
    mains: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    tamper: Mapped[bool] = mapped_column(Boolean, default=False)
    speaker_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    heard: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    report_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    keys: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    streams: Mapped[dict[str, int]] = mapped_column(JSON)  # status Datastream ids by name
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Target(NamedTuple):
    """A lantern as a dispatch needs it: its row id and its code."""

    id: int
    code: str


class Zone(TenantScoped, Base):
    """A warning zone: a district (Ortsbezirk) or an area drawn by staff."""

    __tablename__ = "warn_zone"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))  # district | drawn
    ars: Mapped[str | None] = mapped_column(String(12), nullable=True)
    geom: Mapped[BaseGeometry] = mapped_column(Geometry("MULTIPOLYGON"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(TenantScoped, Base):
    """A warning, exercise or test, its CAP message and where it stands."""

    __tablename__ = "warn_alert"
    __table_args__ = (
        UniqueConstraint("tenant_id", "identifier"),
        Index("ix_warn_alert_dedup", "tenant_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10))  # CAP status
    msg_type: Mapped[str] = mapped_column(String(10))  # CAP msgType
    channel: Mapped[str] = mapped_column(String(10))  # live | exercise
    state: Mapped[str] = mapped_column(String(20))
    references_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("warn_alert.id", ondelete="SET NULL"), nullable=True
    )
    signal: Mapped[str] = mapped_column(String(20))
    repeat: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # event, texts per language, ...
    area: Mapped[dict[str, Any]] = mapped_column(JSON)  # the area as given
    geom: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    issued_by: Mapped[str] = mapped_column(String(255))
    issuer_person: Mapped[str] = mapped_column(String(255))  # principal, for the two-person rule
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    dedup_key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # api | cap | warning_day
    cap_xml: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    counter: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    targeted: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(TenantScoped, Base):
    """One alert's command to one lantern and what the lantern answered."""

    __tablename__ = "warn_delivery"
    __table_args__ = (
        UniqueConstraint("alert_id", "lantern_id"),
        Index("ix_warn_delivery_due", "state", "next_attempt_at"),
        Index("ix_warn_delivery_command", "command_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("warn_alert.id", ondelete="CASCADE"), index=True
    )
    lantern_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("warn_lantern.id", ondelete="CASCADE"), index=True
    )
    command_id: Mapped[str] = mapped_column(String(32))
    counter: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(12))
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expires_at: Mapped[datetime]


class WarningDay(TenantScoped, Base):
    """A scheduled test of every lantern of a tenant, and its results."""

    __tablename__ = "warn_warning_day"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scheduled_for: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12))  # scheduled | running | done | cancelled
    signal: Mapped[str] = mapped_column(String(20))
    alert_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("warn_alert.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
