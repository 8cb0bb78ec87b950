"""Hourly rollups of numeric results, filled from the Observations there are.

`sta_observation_hour` holds per Datastream and UTC hour the count, sum, minimum and maximum
of the numeric results (see `derived.ObservationHour`, `rollups`).

Revision ID: sensorthings_0005
Revises: sensorthings_0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId

revision: str = "sensorthings_0005"
down_revision: str | Sequence[str] | None = "sensorthings_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "sta_observation_hour"


def upgrade() -> None:
    """Create the table and roll up the existing Observations."""
    op.create_table(
        TABLE,
        sa.Column(
            "datastream_id",
            BigId,
            sa.ForeignKey("sta_datastream.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("value_count", sa.BigInteger, nullable=False),
        sa.Column("value_sum", sa.Double, nullable=False),
        sa.Column("value_min", sa.Double, nullable=False),
        sa.Column("value_max", sa.Double, nullable=False),
    )
    op.create_index(f"ix_{TABLE}_tenant_id", TABLE, ["tenant_id"])
    if op.get_bind().dialect.name == "postgresql":
        hour = "floor(extract(epoch FROM phenomenon_time_start) / 3600)::bigint * 3600"
    else:
        unix = "CAST(strftime('%s', phenomenon_time_start) AS INTEGER)"
        # the modulo floors for times before 1970 too (SQLite's % truncates toward zero)
        hour = f"({unix} - ((({unix} % 3600) + 3600) % 3600))"
    op.execute(
        f"INSERT INTO {TABLE} (datastream_id, hour, tenant_id, value_count, value_sum, "  # noqa: S608
        f"value_min, value_max) SELECT datastream_id, {hour}, min(tenant_id), "
        "count(result_number), sum(result_number), min(result_number), max(result_number) "
        "FROM sta_observation WHERE datastream_id IS NOT NULL AND result_number IS NOT NULL "
        f"GROUP BY datastream_id, {hour}"
    )


def downgrade() -> None:
    """Drop the rollups."""
    op.drop_table(TABLE)
