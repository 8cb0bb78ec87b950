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


def upgrade() -> None:
    op.create_table(
        "sta_actuator",
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_actuator_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_actuator")),
    )
    op.create_index(op.f("ix_sta_actuator_tenant_id"), "sta_actuator", ["tenant_id"], unique=False)
    op.create_table(
        "sta_location",
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("location_json", sa.JSON(), nullable=False),
        sa.Column("geom", Geometry(), nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_location_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_location")),
    )
    op.create_index(op.f("ix_sta_location_tenant_id"), "sta_location", ["tenant_id"], unique=False)
    op.create_table(
        "sta_observed_property",
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_observed_property_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_observed_property")),
    )
    op.create_index(
        op.f("ix_sta_observed_property_tenant_id"),
        "sta_observed_property",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "sta_sensor",
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_sensor_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_sensor")),
    )
    op.create_index(op.f("ix_sta_sensor_tenant_id"), "sta_sensor", ["tenant_id"], unique=False)
    op.create_table(
        "sta_thing",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_thing_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_thing")),
    )
    op.create_index(op.f("ix_sta_thing_tenant_id"), "sta_thing", ["tenant_id"], unique=False)
    op.create_table(
        "sta_datastream",
        sa.Column("thing_id", BigId, nullable=False),
        sa.Column("sensor_id", BigId, nullable=False),
        sa.Column("observed_property_id", BigId, nullable=False),
        sa.Column("unit_of_measurement", sa.JSON(), nullable=False),
        sa.Column("observation_type", sa.String(length=255), nullable=False),
        sa.Column("observed_area", Geometry(), nullable=True),
        sa.Column("phenomenon_time_start", UtcDateTime, nullable=True),
        sa.Column("phenomenon_time_end", UtcDateTime, nullable=True),
        sa.Column("result_time_start", UtcDateTime, nullable=True),
        sa.Column("result_time_end", UtcDateTime, nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sta_observed_property.id"],
            name=op.f("fk_sta_datastream_observed_property_id_sta_observed_property"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sta_sensor.id"],
            name=op.f("fk_sta_datastream_sensor_id_sta_sensor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_datastream_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_datastream_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_datastream")),
    )
    op.create_index(
        op.f("ix_sta_datastream_observed_property_id"),
        "sta_datastream",
        ["observed_property_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_datastream_sensor_id"), "sta_datastream", ["sensor_id"], unique=False
    )
    op.create_index(
        op.f("ix_sta_datastream_tenant_id"), "sta_datastream", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_sta_datastream_thing_id"), "sta_datastream", ["thing_id"], unique=False
    )
    op.create_table(
        "sta_feature_of_interest",
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("feature_json", sa.JSON(), nullable=False),
        sa.Column("geom", Geometry(), nullable=True),
        sa.Column("source_location_id", BigId, nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["source_location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_feature_of_interest_source_location_id_sta_location"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_feature_of_interest_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_feature_of_interest")),
    )
    op.create_index(
        op.f("ix_sta_feature_of_interest_source_location_id"),
        "sta_feature_of_interest",
        ["source_location_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_feature_of_interest_tenant_id"),
        "sta_feature_of_interest",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "sta_historical_location",
        sa.Column("id", BigId, nullable=False),
        sa.Column("thing_id", BigId, nullable=False),
        sa.Column("time", UtcDateTime, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_historical_location_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_historical_location_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_historical_location")),
    )
    op.create_index(
        op.f("ix_sta_historical_location_tenant_id"),
        "sta_historical_location",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_historical_location_thing_id"),
        "sta_historical_location",
        ["thing_id"],
        unique=False,
    )
    op.create_table(
        "sta_multi_datastream",
        sa.Column("thing_id", BigId, nullable=False),
        sa.Column("sensor_id", BigId, nullable=False),
        sa.Column("unit_of_measurements", sa.JSON(), nullable=False),
        sa.Column("multi_observation_data_types", sa.JSON(), nullable=False),
        sa.Column("observation_type", sa.String(length=255), nullable=False),
        sa.Column("observed_area", Geometry(), nullable=True),
        sa.Column("phenomenon_time_start", UtcDateTime, nullable=True),
        sa.Column("phenomenon_time_end", UtcDateTime, nullable=True),
        sa.Column("result_time_start", UtcDateTime, nullable=True),
        sa.Column("result_time_end", UtcDateTime, nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["sensor_id"],
            ["sta_sensor.id"],
            name=op.f("fk_sta_multi_datastream_sensor_id_sta_sensor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_multi_datastream_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_multi_datastream_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_multi_datastream")),
    )
    op.create_index(
        op.f("ix_sta_multi_datastream_sensor_id"),
        "sta_multi_datastream",
        ["sensor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_multi_datastream_tenant_id"),
        "sta_multi_datastream",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_multi_datastream_thing_id"), "sta_multi_datastream", ["thing_id"], unique=False
    )
    op.create_table(
        "sta_tasking_capability",
        sa.Column("thing_id", BigId, nullable=False),
        sa.Column("actuator_id", BigId, nullable=False),
        sa.Column("tasking_parameters", sa.JSON(), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["actuator_id"],
            ["sta_actuator.id"],
            name=op.f("fk_sta_tasking_capability_actuator_id_sta_actuator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_tasking_capability_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_tasking_capability_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_tasking_capability")),
    )
    op.create_index(
        op.f("ix_sta_tasking_capability_actuator_id"),
        "sta_tasking_capability",
        ["actuator_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_tasking_capability_tenant_id"),
        "sta_tasking_capability",
        ["tenant_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_tasking_capability_thing_id"),
        "sta_tasking_capability",
        ["thing_id"],
        unique=False,
    )
    op.create_table(
        "sta_thing_location",
        sa.Column("thing_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_thing_location_location_id_sta_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thing_id"],
            ["sta_thing.id"],
            name=op.f("fk_sta_thing_location_thing_id_sta_thing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thing_id", "location_id", name=op.f("pk_sta_thing_location")),
    )
    op.create_index(
        op.f("ix_sta_thing_location_location_id"),
        "sta_thing_location",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "sta_historical_location_location",
        sa.Column("historical_location_id", BigId, nullable=False),
        sa.Column("location_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["historical_location_id"],
            ["sta_historical_location.id"],
            name=op.f(
                "fk_sta_historical_location_location_historical_location_id_sta_historical_location"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["sta_location.id"],
            name=op.f("fk_sta_historical_location_location_location_id_sta_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "historical_location_id",
            "location_id",
            name=op.f("pk_sta_historical_location_location"),
        ),
    )
    op.create_index(
        op.f("ix_sta_historical_location_location_location_id"),
        "sta_historical_location_location",
        ["location_id"],
        unique=False,
    )
    op.create_table(
        "sta_multi_datastream_observed_property",
        sa.Column("multi_datastream_id", BigId, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("observed_property_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["multi_datastream_id"],
            ["sta_multi_datastream.id"],
            name=op.f(
                "fk_sta_multi_datastream_observed_property_multi_datastream_id_sta_multi_datastream"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["observed_property_id"],
            ["sta_observed_property.id"],
            name=op.f(
                "fk_sta_multi_datastream_observed_property_observed_property_id_sta_observed_property"
            ),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "multi_datastream_id",
            "position",
            name=op.f("pk_sta_multi_datastream_observed_property"),
        ),
    )
    op.create_index(
        op.f("ix_sta_multi_datastream_observed_property_observed_property_id"),
        "sta_multi_datastream_observed_property",
        ["observed_property_id"],
        unique=False,
    )
    op.create_table(
        "sta_observation",
        sa.Column("id", BigId, nullable=False),
        sa.Column("datastream_id", BigId, nullable=True),
        sa.Column("multi_datastream_id", BigId, nullable=True),
        sa.Column("feature_of_interest_id", BigId, nullable=False),
        sa.Column("phenomenon_time_start", UtcDateTime, nullable=False),
        sa.Column("phenomenon_time_end", UtcDateTime, nullable=True),
        sa.Column("result_time", UtcDateTime, nullable=True),
        sa.Column("result_type", sa.SmallInteger(), nullable=False),
        sa.Column("result_number", sa.Double(), nullable=True),
        sa.Column("result_string", sa.Text(), nullable=True),
        sa.Column("result_boolean", sa.Boolean(), nullable=True),
        sa.Column("result_json", sa.JSON(), nullable=True),
        sa.Column("result_quality", sa.JSON(), nullable=True),
        sa.Column("valid_time_start", UtcDateTime, nullable=True),
        sa.Column("valid_time_end", UtcDateTime, nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.CheckConstraint(
            "(datastream_id IS NULL) <> (multi_datastream_id IS NULL)",
            name=op.f("ck_sta_observation_one_stream"),
        ),
        sa.ForeignKeyConstraint(
            ["datastream_id"],
            ["sta_datastream.id"],
            name=op.f("fk_sta_observation_datastream_id_sta_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feature_of_interest_id"],
            ["sta_feature_of_interest.id"],
            name=op.f("fk_sta_observation_feature_of_interest_id_sta_feature_of_interest"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["multi_datastream_id"],
            ["sta_multi_datastream.id"],
            name=op.f("fk_sta_observation_multi_datastream_id_sta_multi_datastream"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_observation_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_observation")),
    )
    op.create_index(
        "ix_sta_observation_datastream_time",
        "sta_observation",
        ["datastream_id", "phenomenon_time_start"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_observation_feature_of_interest_id"),
        "sta_observation",
        ["feature_of_interest_id"],
        unique=False,
    )
    op.create_index(
        "ix_sta_observation_multi_datastream_time",
        "sta_observation",
        ["multi_datastream_id", "phenomenon_time_start"],
        unique=False,
    )
    op.create_index(
        op.f("ix_sta_observation_tenant_id"), "sta_observation", ["tenant_id"], unique=False
    )
    op.create_table(
        "sta_task",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tasking_capability_id", BigId, nullable=False),
        sa.Column("creation_time", UtcDateTime, nullable=False),
        sa.Column("tasking_parameters", sa.JSON(), nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["tasking_capability_id"],
            ["sta_tasking_capability.id"],
            name=op.f("fk_sta_task_tasking_capability_id_sta_tasking_capability"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_sta_task_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sta_task")),
    )
    op.create_index(
        op.f("ix_sta_task_tasking_capability_id"),
        "sta_task",
        ["tasking_capability_id"],
        unique=False,
    )
    op.create_index(op.f("ix_sta_task_tenant_id"), "sta_task", ["tenant_id"], unique=False)

    for table, column in SPATIAL:
        create_spatial_index(table, column)


def downgrade() -> None:
    for table, column in SPATIAL:
        drop_spatial_index(table, column)
    for table in (
        "sta_task",
        "sta_observation",
        "sta_multi_datastream_observed_property",
        "sta_historical_location_location",
        "sta_thing_location",
        "sta_tasking_capability",
        "sta_multi_datastream",
        "sta_historical_location",
        "sta_feature_of_interest",
        "sta_datastream",
        "sta_thing",
        "sta_sensor",
        "sta_observed_property",
        "sta_location",
        "sta_actuator",
    ):
        op.drop_table(table)
