"""Public warning: signing keys, command counters, lanterns, zones, alerts, deliveries,
warning days.

Revision ID: warning_0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import create_spatial_index, drop_spatial_index

revision: str = "warning_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("warning",)
depends_on: str | Sequence[str] | None = ("core_0001", "sensorthings_0001")

SPATIAL = (("warn_lantern", "geom"), ("warn_zone", "geom"), ("warn_alert", "geom"))


def _tenant() -> sa.Column[object]:
    return sa.Column(
        "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
    )


def _ref(
    name: str, table: str, *, ondelete: str = "CASCADE", nullable: bool = False
) -> sa.Column[object]:
    return sa.Column(
        name, BigId, sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable
    )


def _table(name: str, *columns: sa.Column[object] | sa.Constraint) -> None:
    op.create_table(
        name, sa.Column("id", BigId, primary_key=True, autoincrement=True), _tenant(), *columns
    )
    op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id"])


def upgrade() -> None:
    _table(
        "warn_signing_key",
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("private_key_sealed", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("retired_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("tenant_id", "kid", name="uq_warn_signing_key_tenant_id"),
    )
    op.create_table(
        "warn_counter",
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("channel", sa.String(10), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    _table(
        "warn_lantern",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        _ref("thing_id", "sta_thing", ondelete="SET NULL", nullable=True),
        sa.Column("geom", Geometry("POINT"), nullable=False),
        sa.Column("district", sa.String(120), nullable=True),
        sa.Column("siren_db", sa.Float, nullable=True),
        sa.Column("firmware", sa.String(40), nullable=True),
        sa.Column("device_key", sa.String(64), nullable=False),
        sa.Column("heartbeat_s", sa.Integer, nullable=False),
        sa.Column("last_heartbeat", UtcDateTime, nullable=True),
        sa.Column("battery", sa.Float, nullable=True),
        sa.Column("mains", sa.Boolean, nullable=True),
        sa.Column("tamper", sa.Boolean, nullable=False),
        sa.Column("speaker_ok", sa.Boolean, nullable=True),
        sa.Column("heard", sa.Boolean, nullable=True),
        sa.Column("report_seq", sa.BigInteger, nullable=False),
        sa.Column("keys", sa.JSON, nullable=True),
        sa.Column("streams", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="uq_warn_lantern_tenant_id"),
    )
    _table(
        "warn_zone",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("ars", sa.String(12), nullable=True),
        sa.Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "key", name="uq_warn_zone_tenant_id"),
    )
    _table(
        "warn_alert",
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("sender", sa.String(255), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("msg_type", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        _ref("references_id", "warn_alert", ondelete="SET NULL", nullable=True),
        sa.Column("signal", sa.String(20), nullable=False),
        sa.Column("repeat", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("area", sa.JSON, nullable=False),
        sa.Column("geom", Geometry(), nullable=True),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=True),
        sa.Column("issued_by", sa.String(255), nullable=False),
        sa.Column("issuer_person", sa.String(255), nullable=False),
        sa.Column("approved_by", sa.String(255), nullable=True),
        sa.Column("approved_at", UtcDateTime, nullable=True),
        sa.Column("closed_by", sa.String(255), nullable=True),
        sa.Column("dedup_key", sa.String(64), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("cap_xml", sa.LargeBinary, nullable=True),
        sa.Column("counter", sa.BigInteger, nullable=True),
        sa.Column("targeted", sa.Integer, nullable=False),
        sa.UniqueConstraint("tenant_id", "identifier", name="uq_warn_alert_tenant_id"),
    )
    op.create_index("ix_warn_alert_dedup", "warn_alert", ["tenant_id", "dedup_key"])
    _table(
        "warn_delivery",
        _ref("alert_id", "warn_alert"),
        _ref("lantern_id", "warn_lantern"),
        sa.Column("command_id", sa.String(32), nullable=False),
        sa.Column("counter", sa.BigInteger, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("received_at", UtcDateTime, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=True),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("failed_at", UtcDateTime, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime, nullable=True),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("alert_id", "lantern_id", name="uq_warn_delivery_alert_id"),
    )
    op.create_index("ix_warn_delivery_alert_id", "warn_delivery", ["alert_id"])
    op.create_index("ix_warn_delivery_lantern_id", "warn_delivery", ["lantern_id"])
    op.create_index("ix_warn_delivery_due", "warn_delivery", ["state", "next_attempt_at"])
    op.create_index("ix_warn_delivery_command", "warn_delivery", ["command_id"])
    _table(
        "warn_warning_day",
        sa.Column("scheduled_for", UtcDateTime, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("signal", sa.String(20), nullable=False),
        _ref("alert_id", "warn_alert", ondelete="SET NULL", nullable=True),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    for table, column in SPATIAL:
        create_spatial_index(table, column)


def downgrade() -> None:
    for table, column in SPATIAL:
        drop_spatial_index(table, column)
    for table in (
        "warn_warning_day",
        "warn_delivery",
        "warn_alert",
        "warn_zone",
        "warn_lantern",
        "warn_counter",
        "warn_signing_key",
    ):
        op.drop_table(table)
