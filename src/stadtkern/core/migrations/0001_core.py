"""Core tables: tenants, principals, roles, API keys, browser sessions, audit, MQTT outbox.

Revision ID: core_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import create_spatial_index, drop_spatial_index

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "tenant",
        _id(),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("ars", sa.String(12), nullable=False),
        sa.Column("boundary", Geometry("MULTIPOLYGON"), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("modules", sa.JSON, nullable=False),
        sa.Column("module_settings", sa.JSON, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("slug", name="uq_tenant_slug"),
    )
    create_spatial_index("tenant", "boundary")
    op.create_table(
        "principal",
        _id(),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_principal_tenant_id"),
    )
    op.create_index("ix_principal_tenant_id", "principal", ["tenant_id"])
    op.create_table(
        "role_grant",
        sa.Column(
            "principal_id",
            BigId,
            sa.ForeignKey("principal.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(64), primary_key=True),
    )
    op.create_table(
        "api_key",
        _id(),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column(
            "principal_id", BigId, sa.ForeignKey("principal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=True),
        sa.Column("revoked_at", UtcDateTime, nullable=True),
        sa.Column("last_used_at", UtcDateTime, nullable=True),
        sa.UniqueConstraint("key_id", name="uq_api_key_key_id"),
    )
    op.create_index("ix_api_key_principal_id", "api_key", ["principal_id"])
    op.create_index("ix_api_key_tenant_id", "api_key", ["tenant_id"])
    op.create_table(
        "browser_session",
        _id(),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column(
            "principal_id", BigId, sa.ForeignKey("principal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("roles", sa.JSON, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_browser_session_token_hash"),
    )
    op.create_index("ix_browser_session_principal_id", "browser_session", ["principal_id"])
    op.create_index("ix_browser_session_tenant_id", "browser_session", ["tenant_id"])
    op.create_table(
        "audit_entry",
        sa.Column("seq", BigId, primary_key=True, autoincrement=False),
        sa.Column("occurred_at", UtcDateTime, nullable=False),
        sa.Column("tenant_slug", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_entry_tenant_slug", "audit_entry", ["tenant_slug"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.execute(
        sa.text("INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, 0, :genesis)").bindparams(
            genesis="0" * 64
        )
    )
    _forbid_audit_rewrites()
    op.create_table(
        "mqtt_outbox",
        _id(),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("qos", sa.Integer, nullable=False),
        sa.Column("retain", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.Text, nullable=True),
        sa.Column("claimed_until", UtcDateTime, nullable=True),
    )


def _forbid_audit_rewrites() -> None:
    """The audit table is append-only for the application: UPDATE and DELETE raise."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entry is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END"
        )


def downgrade() -> None:
    op.drop_table("mqtt_outbox")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    op.drop_table("browser_session")
    op.drop_table("api_key")
    op.drop_table("role_grant")
    op.drop_table("principal")
    drop_spatial_index("tenant", "boundary")
    op.drop_table("tenant")
