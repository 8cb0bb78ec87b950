"""Tables of the core: tenants, principals and their roles, API keys, browser sessions, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stadtkern.db.base import Base, BigId, utcnow
from stadtkern.db.geometry import Geometry


class Tenant(Base):
    """A municipality using the platform."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    ars: Mapped[str] = mapped_column(String(12))
    boundary: Mapped[BaseGeometry | None] = mapped_column(Geometry("MULTIPOLYGON"), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    modules: Mapped[list[str]] = mapped_column(JSON)
    module_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Principal(Base):
    """A person or a machine account that acts in one tenant, or on the platform (tenant NULL)."""

    __tablename__ = "principal"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # "user" | "service"
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleGrant(Base):
    """A role held by a principal within its tenant."""

    __tablename__ = "role_grant"

    principal_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("principal.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class ApiKey(Base):
    """An API key; only the SHA-256 of its secret is stored."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    principal_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("principal.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True, nullable=True
    )
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The whole token hashed for Mosquitto's password file (`stadtkern mqtt mosquitto-auth`);
    # None for keys issued before MQTT logins existed.
    mqtt_password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)


class BrowserSession(Base):
    """A logged-in browser; the cookie carries the token, the table only its hash."""

    __tablename__ = "browser_session"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    principal_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("principal.id", ondelete="CASCADE"), index=True
    )
    tenant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True
    )
    # Roles of an OIDC login as the identity provider granted them (they live in the IdP);
    # None for sessions of local principals, whose grants are read live.
    roles: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class AuditEntry(Base):
    """One append-only, hash-chained record of a security-relevant action."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column()
    tenant_slug: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    payload_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest sequence number and hash of the audit chain; its row lock orders appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigId)
    entry_hash: Mapped[str] = mapped_column(String(64))


class MqttOutboxEntry(Base):
    """A QoS 1 publish waiting for the broker's PUBACK; survives restarts."""

    __tablename__ = "mqtt_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    qos: Mapped[int] = mapped_column(Integer, default=1)
    retain: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The lease of the process sending the row (its MQTT client id); another process takes the
    # row over only once the lease has expired, so that two processes never send it at once.
    claimed_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
