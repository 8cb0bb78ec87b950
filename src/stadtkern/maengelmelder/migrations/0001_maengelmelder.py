"""Mängelmelder: departments, categories, photos, reports, reporters, updates, supporters,
mail outbox.

Revision ID: maengelmelder_0001
Revises:
Create Date: 2027-01-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import create_spatial_index, drop_spatial_index

revision: str = "maengelmelder_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("maengelmelder",)
depends_on: str | Sequence[str] | None = ("core_0001",)


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


def _id() -> sa.Column[object]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _table(name: str, *columns: sa.Column[object] | sa.Constraint) -> None:
    op.create_table(name, _id(), _tenant(), *columns)
    op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id"])


def _text(name: str, length: int | None = None) -> sa.Column[object]:
    kind = sa.Text() if length is None else sa.String(length)
    return sa.Column(name, kind, nullable=False)


def upgrade() -> None:
    _table(
        "mm_department",
        _text("key", 64),
        _text("name", 255),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "key", name="uq_mm_department_tenant_id"),
    )
    _table(
        "mm_category",
        _text("code", 64),
        _text("name", 255),
        _text("description"),
        _text("group_name", 120),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("attributes", sa.JSON, nullable=False),
        _ref("department_id", "mm_department", ondelete="SET NULL", nullable=True),
        sa.Column("expected_days", sa.Integer, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("tenant_id", "code", name="uq_mm_category_tenant_id"),
    )
    _table(
        "mm_photo",
        _text("key", 40),
        _text("media_type", 40),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("key", name="uq_mm_photo_key"),
    )
    _table(
        "mm_report",
        _text("token", 40),
        _ref("category_id", "mm_category", ondelete="RESTRICT"),
        _ref("department_id", "mm_department", ondelete="SET NULL", nullable=True),
        _text("status", 10),
        _text("detailed_status", 12),
        _text("description"),
        _text("status_notes"),
        _text("service_notice"),
        sa.Column("geom", Geometry("POINT"), nullable=True),
        sa.Column("lat", sa.Float, nullable=True),
        sa.Column("lon", sa.Float, nullable=True),
        _text("address", 255),
        _text("address_id", 64),
        _text("zipcode", 10),
        sa.Column("answers", sa.JSON, nullable=False),
        _ref("photo_id", "mm_photo", ondelete="SET NULL", nullable=True),
        _text("media_url", 1000),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("expected_at", UtcDateTime, nullable=True),
        sa.Column("responded_at", UtcDateTime, nullable=True),
        sa.Column("closed_at", UtcDateTime, nullable=True),
        _text("assignee", 255),
        _ref("merged_into_id", "mm_report", ondelete="SET NULL", nullable=True),
        sa.Column("supporters", sa.Integer, nullable=False),
        _text("source", 20),
        _text("client", 255),
        sa.UniqueConstraint("token", name="uq_mm_report_token"),
    )
    op.create_index("ix_mm_report_category_id", "mm_report", ["category_id"])
    op.create_index("ix_mm_report_requested", "mm_report", ["tenant_id", "requested_at"])
    op.create_index("ix_mm_report_updated", "mm_report", ["tenant_id", "updated_at"])
    op.create_index("ix_mm_report_place", "mm_report", ["tenant_id", "lat", "lon"])
    op.create_table(
        "mm_reporter",
        sa.Column(
            "report_id",
            BigId,
            sa.ForeignKey("mm_report.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _text("email", 255),
        _text("first_name", 120),
        _text("last_name", 120),
        _text("phone", 40),
        _text("device_id", 120),
        _text("account_id", 120),
    )
    _table(
        "mm_update",
        _ref("report_id", "mm_report"),
        _text("kind", 12),
        _text("status", 10),
        _text("detailed_status", 12),
        _text("note"),
        sa.Column("public", sa.Boolean, nullable=False),
        _text("author", 255),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_mm_update_report_id", "mm_update", ["report_id"])
    op.create_index("ix_mm_update_time", "mm_update", ["tenant_id", "created_at"])
    op.create_table(
        "mm_supporter",
        _id(),
        _ref("report_id", "mm_report"),
        _text("fingerprint", 64),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("report_id", "fingerprint", name="uq_mm_supporter_report_id"),
    )
    op.create_index("ix_mm_supporter_report_id", "mm_supporter", ["report_id"])
    _table(
        "mm_mail",
        _ref("report_id", "mm_report", nullable=True),
        _text("recipient", 255),
        _text("subject", 255),
        _text("body"),
        sa.Column("attempts", sa.Integer, nullable=False),
        _text("last_error", 255),
        sa.Column("next_attempt_at", UtcDateTime, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_mm_mail_report_id", "mm_mail", ["report_id"])
    op.create_index("ix_mm_mail_due", "mm_mail", ["next_attempt_at"])
    create_spatial_index("mm_report", "geom")


def downgrade() -> None:
    drop_spatial_index("mm_report", "geom")
    for table in (
        "mm_mail",
        "mm_supporter",
        "mm_update",
        "mm_reporter",
        "mm_report",
        "mm_photo",
        "mm_category",
        "mm_department",
    ):
        op.drop_table(table)
