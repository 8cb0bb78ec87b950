"""SensorThings API 1.1 entities: Sensing Core, MultiDatastream, Tasking Core.

Revision ID: sensorthings_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId, UtcDateTime
from stadtkern.db.geometry import Geometry
from stadtkern.db.spatial_ddl import create_spatial_index, drop_spatial_index

revision: str = "sensorthings_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sensorthings",)
depends_on: str | Sequence[str] | None = ("core_0001",)

SPATIAL = (("sta_location", "geom"), ("sta_feature_of_interest", "geom"))


def _entity(name: str, *columns: sa.Column[object] | sa.Constraint, described: bool = True) -> None:
    """A tenant's entity table: id, tenant and, for most entities, name/description/properties."""
    common: list[sa.Column[object]] = [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
        ),
    ]
    if described:
        common += [
            sa.Column("name", sa.String(255), nullable=False),
            sa.Column("description", sa.Text, nullable=False),
            sa.Column("properties", sa.JSON, nullable=True),
        ]
    op.create_table(name, *common, *columns)
    op.create_index(f"ix_{name}_tenant_id", name, ["tenant_id"])


def _link(name: str, *columns: sa.Column[object]) -> None:
    """A link table between entities (no tenant of its own: both ends carry it)."""
    op.create_table(name, *columns)


def _ref(
    column: str, table: str, *, nullable: bool = False, primary_key: bool = False
) -> sa.Column[object]:
    """A reference to another entity; deleting that entity deletes this row."""
    return sa.Column(
        column,
        BigId,
        sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=nullable,
        primary_key=primary_key,
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def _interval(prefix: str) -> list[sa.Column[object]]:
    return [
        sa.Column(f"{prefix}_start", UtcDateTime, nullable=True),
        sa.Column(f"{prefix}_end", UtcDateTime, nullable=True),
    ]


def _stream_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("observation_type", sa.String(255), nullable=False),
        sa.Column("observed_area", Geometry(), nullable=True),
        *_interval("phenomenon_time"),
        *_interval("result_time"),
        _ref("thing_id", "sta_thing"),
        _ref("sensor_id", "sta_sensor"),
    ]


def upgrade() -> None:
    _entity("sta_thing")
    _entity(
        "sta_location",
        sa.Column("encoding_type", sa.String(100), nullable=False),
        sa.Column("location_json", sa.JSON, nullable=False),
        sa.Column("geom", Geometry(), nullable=True),
    )
    _link(
        "sta_thing_location",
        _ref("thing_id", "sta_thing", primary_key=True),
        _ref("location_id", "sta_location", primary_key=True),
    )
    _index("sta_thing_location", "location_id")
    _entity(
        "sta_historical_location",
        _ref("thing_id", "sta_thing"),
        sa.Column("time", UtcDateTime, nullable=False),
        described=False,
    )
    _index("sta_historical_location", "thing_id")
    _link(
        "sta_historical_location_location",
        _ref("historical_location_id", "sta_historical_location", primary_key=True),
        _ref("location_id", "sta_location", primary_key=True),
    )
    _index("sta_historical_location_location", "location_id")
    for device in ("sta_sensor", "sta_actuator"):
        _entity(
            device,
            sa.Column("encoding_type", sa.String(100), nullable=False),
            sa.Column("metadata", sa.JSON, nullable=False),
        )
    _entity("sta_observed_property", sa.Column("definition", sa.Text, nullable=False))
    _entity(
        "sta_datastream",
        *_stream_columns(),
        _ref("observed_property_id", "sta_observed_property"),
        sa.Column("unit_of_measurement", sa.JSON, nullable=False),
    )
    _entity(
        "sta_multi_datastream",
        *_stream_columns(),
        sa.Column("unit_of_measurements", sa.JSON, nullable=False),
        sa.Column("multi_observation_data_types", sa.JSON, nullable=False),
    )
    for stream in ("sta_datastream", "sta_multi_datastream"):
        _index(stream, "thing_id")
        _index(stream, "sensor_id")
    _index("sta_datastream", "observed_property_id")
    _link(
        "sta_multi_datastream_observed_property",
        _ref("multi_datastream_id", "sta_multi_datastream", primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        _ref("observed_property_id", "sta_observed_property"),
    )
    _index("sta_multi_datastream_observed_property", "observed_property_id")
    _entity(
        "sta_feature_of_interest",
        sa.Column("encoding_type", sa.String(100), nullable=False),
        sa.Column("feature_json", sa.JSON, nullable=False),
        sa.Column("geom", Geometry(), nullable=True),
        sa.Column(
            "source_location_id",
            BigId,
            sa.ForeignKey("sta_location.id", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    _index("sta_feature_of_interest", "source_location_id")
    _entity(
        "sta_observation",
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
        *_interval("valid_time"),
        sa.Column("parameters", sa.JSON, nullable=True),
        sa.CheckConstraint(
            "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)",
            name="ck_sta_observation_one_stream",
        ),
        described=False,
    )
    _index("sta_observation", "datastream_id", "phenomenon_time_start")
    _index("sta_observation", "multi_datastream_id", "phenomenon_time_start")
    _index("sta_observation", "feature_of_interest_id")
    _entity(
        "sta_tasking_capability",
        _ref("thing_id", "sta_thing"),
        _ref("actuator_id", "sta_actuator"),
        sa.Column("tasking_parameters", sa.JSON, nullable=False),
    )
    _index("sta_tasking_capability", "thing_id")
    _index("sta_tasking_capability", "actuator_id")
    _entity(
        "sta_task",
        _ref("tasking_capability_id", "sta_tasking_capability"),
        sa.Column("creation_time", UtcDateTime, nullable=False),
        sa.Column("tasking_parameters", sa.JSON, nullable=False),
        described=False,
    )
    _index("sta_task", "tasking_capability_id")
    for table, column in SPATIAL:
        create_spatial_index(table, column)


def downgrade() -> None:
    for table, column in SPATIAL:
        drop_spatial_index(table, column)
    for table in (
        "sta_task",
        "sta_tasking_capability",
        "sta_observation",
        "sta_feature_of_interest",
        "sta_multi_datastream_observed_property",
        "sta_multi_datastream",
        "sta_datastream",
        "sta_observed_property",
        "sta_actuator",
        "sta_sensor",
        "sta_historical_location_location",
        "sta_historical_location",
        "sta_thing_location",
        "sta_location",
        "sta_thing",
    ):
        op.drop_table(table)
