"""Observation storage for size: monthly partitions on PostgreSQL, a time index, latest values.

PostgreSQL: `sta_observation` becomes partitioned by RANGE (phenomenon_time_start), with
monthly partitions in the schema `sta_partitions` (the months of the existing rows, the past
24 months, the next 3) and a DEFAULT partition; its key becomes (id, phenomenon_time_start);
BRIN on phenomenon_time_start. The rows of the old table are copied with their ids, and the
table keeps its id sequence. SQLite: a b-tree on phenomenon_time_start.
Both: `sta_latest_observation`, the newest Observation of every Datastream, filled from the
Observations there are.

Revision ID: sensorthings_0003
Revises: sensorthings_0002
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.sensorthings import partitions

revision: str = "sensorthings_0003"
down_revision: str | Sequence[str] | None = "sensorthings_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "sta_observation"
OLD = "sta_observation_unpartitioned"
SEQUENCE = "sta_observation_id_seq"
# Months of existing rows further off than this stay in the default partition (a stray
# year 1900 would otherwise make a partition of its own per month).
EXISTING_MONTHS_BEHIND = 120
EXISTING_MONTHS_AHEAD = 12
INDEXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ix_sta_observation_tenant_id", ("tenant_id",)),
    (
        "ix_sta_observation_datastream_id_phenomenon_time_start",
        ("datastream_id", "phenomenon_time_start"),
    ),
    (
        "ix_sta_observation_multi_datastream_id_phenomenon_time_start",
        ("multi_datastream_id", "phenomenon_time_start"),
    ),
    ("ix_sta_observation_feature_of_interest_id", ("feature_of_interest_id",)),
)
TIME_INDEX = "ix_sta_observation_phenomenon_time_start"
COLUMNS = (
    "id, tenant_id, datastream_id, multi_datastream_id, feature_of_interest_id, "
    "phenomenon_time_start, phenomenon_time_end, result_time, result_type, result_number, "
    "result_string, result_boolean, result_json, result_quality, valid_time_start, "
    "valid_time_end, parameters"
)
LATEST_COLUMNS = (
    "datastream_id, tenant_id, observation_id, phenomenon_time_start, phenomenon_time_end, "
    "result_time, result_type, result_number, result_string, result_boolean, result_json"
)


def _ref(column: str, table: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        column, BigId, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable
    )


def _observation_columns(id_default: str) -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column("id", sa.BigInteger, nullable=False, server_default=sa.text(id_default)),
        _ref("tenant_id", "tenant"),
        _ref("datastream_id", "sta_datastream", nullable=True),
        _ref("multi_datastream_id", "sta_multi_datastream", nullable=True),
        _ref("feature_of_interest_id", "sta_feature_of_interest"),
        sa.Column("phenomenon_time_start", UtcDateTime, nullable=False),
        sa.Column("phenomenon_time_end", UtcDateTime, nullable=True),
        sa.Column("result_time", UtcDateTime, nullable=True),
        sa.Column("result_type", sa.SmallInteger, nullable=False),
        sa.Column("result_number", sa.Double, nullable=True),
        sa.Column("result_string", sa.Text, nullable=True),
        sa.Column("result_boolean", sa.Boolean, nullable=True),
        sa.Column("result_json", sa.JSON, nullable=True),
        sa.Column("result_quality", sa.JSON, nullable=True),
        sa.Column("valid_time_start", UtcDateTime, nullable=True),
        sa.Column("valid_time_end", UtcDateTime, nullable=True),
        sa.Column("parameters", sa.JSON, nullable=True),
        sa.CheckConstraint(
            "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)",
            name="ck_sta_observation_one_stream",
        ),
    ]


def upgrade() -> None:
    """Partition (PostgreSQL), index by time, and create and fill the latest values."""
    if op.get_bind().dialect.name == "postgresql":
        _partition()
    else:
        op.create_index(TIME_INDEX, TABLE, ["phenomenon_time_start"])
    _create_latest()


def downgrade() -> None:
    """Back to one unpartitioned table; the latest values go."""
    op.drop_table("sta_latest_observation")
    if op.get_bind().dialect.name == "postgresql":
        _unpartition()
    else:
        op.drop_index(TIME_INDEX, TABLE)


def _partition() -> None:
    connection = op.get_bind()
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT {_primary_key(OLD)}")
    for name, _columns in INDEXES:
        op.execute(f"DROP INDEX {name}")
    # The sequence would go with the old table; the new one takes it over, values and all.
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY NONE")
    op.create_table(
        TABLE,
        *_observation_columns(f"nextval('{SEQUENCE}'::regclass)"),
        sa.PrimaryKeyConstraint("id", "phenomenon_time_start", name="pk_sta_observation"),
        postgresql_partition_by="RANGE (phenomenon_time_start)",
    )
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    partitions.create_default_partition(connection)
    now = datetime.now(UTC)
    months = set(
        partitions.months_around(
            now, behind=partitions.MONTHS_BEHIND, ahead=partitions.MONTHS_AHEAD
        )
    )
    months |= _months_of_rows(connection, now)
    partitions.ensure_partitions(connection, months)
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {OLD}")  # noqa: S608
    op.drop_table(OLD)
    _create_indexes()


def _months_of_rows(connection: sa.Connection, now: datetime) -> set[date]:
    first = partitions.add_months(partitions.month_of(now), -EXISTING_MONTHS_BEHIND)
    last = partitions.add_months(partitions.month_of(now), EXISTING_MONTHS_AHEAD)
    rows = connection.exec_driver_sql(
        f"SELECT DISTINCT CAST(date_trunc('month', phenomenon_time_start AT TIME ZONE 'UTC') "  # noqa: S608
        f"AS date) FROM {OLD}"
    )
    return {month for (month,) in rows if first <= month <= last}


def _primary_key(table: str) -> str:
    name = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT conname FROM pg_constraint "
                "WHERE conrelid = CAST(:table AS regclass) AND contype = 'p'"
            ),
            {"table": table},
        )
        .scalar_one()
    )
    return str(name)


def _create_indexes() -> None:
    for name, columns in INDEXES:
        op.create_index(name, TABLE, list(columns))
    op.create_index(TIME_INDEX, TABLE, ["phenomenon_time_start"], postgresql_using="brin")


def _unpartition() -> None:
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    op.execute(f"ALTER TABLE {OLD} DROP CONSTRAINT pk_sta_observation")
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY NONE")
    for name, _columns in INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute(f"DROP INDEX {TIME_INDEX}")
    op.create_table(
        TABLE,
        *_observation_columns(f"nextval('{SEQUENCE}'::regclass)"),
        sa.PrimaryKeyConstraint("id", name="sta_observation_pkey"),
    )
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    op.execute(f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {COLUMNS} FROM {OLD}")  # noqa: S608
    op.drop_table(OLD)
    op.execute(f"DROP SCHEMA IF EXISTS {partitions.SCHEMA}")
    for name, columns in INDEXES:
        op.create_index(name, TABLE, list(columns))


def _create_latest() -> None:
    op.create_table(
        "sta_latest_observation",
        sa.Column(
            "datastream_id",
            BigId,
            sa.ForeignKey("sta_datastream.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        _ref("tenant_id", "tenant"),
        sa.Column("observation_id", BigId, nullable=False),
        sa.Column("phenomenon_time_start", UtcDateTime, nullable=False),
        sa.Column("phenomenon_time_end", UtcDateTime, nullable=True),
        sa.Column("result_time", UtcDateTime, nullable=True),
        sa.Column("result_type", sa.SmallInteger, nullable=False),
        sa.Column("result_number", sa.Double, nullable=True),
        sa.Column("result_string", sa.Text, nullable=True),
        sa.Column("result_boolean", sa.Boolean, nullable=True),
        sa.Column("result_json", sa.JSON, nullable=True),
    )
    op.create_index("ix_sta_latest_observation_tenant_id", "sta_latest_observation", ["tenant_id"])
    # The newest of each Datastream, found through the (datastream, time) index.
    op.execute(
        f"INSERT INTO sta_latest_observation ({LATEST_COLUMNS}) "  # noqa: S608
        f"SELECT datastream_id, tenant_id, id, phenomenon_time_start, phenomenon_time_end, "
        f"result_time, result_type, result_number, result_string, result_boolean, result_json "
        f"FROM {TABLE} o WHERE o.datastream_id IS NOT NULL AND o.id = ("
        f"SELECT n.id FROM {TABLE} n WHERE n.datastream_id = o.datastream_id "
        f"ORDER BY n.phenomenon_time_start DESC, n.id DESC LIMIT 1)"
    )
