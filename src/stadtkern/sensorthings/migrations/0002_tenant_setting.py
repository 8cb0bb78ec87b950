"""Per-tenant SensorThings settings: anonymous read access for open data.

Revision ID: sensorthings_0002
Revises: sensorthings_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId

revision: str = "sensorthings_0002"
down_revision: str | Sequence[str] | None = "sensorthings_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the settings table."""
    op.create_table(
        "sta_tenant_setting",
        sa.Column(
            "tenant_id",
            BigId,
            sa.ForeignKey("tenant.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("anonymous_read", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    """Drop the settings table."""
    op.drop_table("sta_tenant_setting")
