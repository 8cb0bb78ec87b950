"""The constant part of every Datastream's `$latest` entry, kept by triggers.

`sta_latest_head` holds, per Datastream, the JSON text of its `Datastreams/$latest` entry up
to the Observation, in two pieces around the base URL (see `derived.LatestHead`). Triggers
render it again in the transaction of every change that alters it: a Datastream created, or
its name, unit or Thing changed; a Thing renamed; a Location's GeoJSON changed; a Thing's
Locations linked or unlinked (also by cascade). Deleting the Datastream deletes it.
PostgreSQL writes the JSON with `to_json`, SQLite with `json_quote`/`json` (which copy
numbers as written, so coordinates keep every digit).

Revision ID: sensorthings_0004
Revises: sensorthings_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stadtkern.db.base import BigId

revision: str = "sensorthings_0004"
down_revision: str | Sequence[str] | None = "sensorthings_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "sta_latest_head"


def _render(dialect: str, where: str) -> str:
    """Upsert the heads of the Datastreams `d` matching `where`."""
    if dialect == "postgresql":
        quote, as_json = "to_json({})::text", "{}::text"
    else:
        quote, as_json = "json_quote({})", "json({})"
    location = (
        f"(SELECT {as_json.format('l.location_json')} FROM sta_location l "  # noqa: S608
        "JOIN sta_thing_location tl ON tl.location_id = l.id "
        "WHERE tl.thing_id = t.id ORDER BY l.id LIMIT 1)"
    )
    head = (
        '\'{"Datastream":{"@iot.id":\' || d.id || \',"name":\' || '
        f"{quote.format('d.name')} || ',\"unitOfMeasurement\":' || "
        f"coalesce({as_json.format('d.unit_of_measurement')}, 'null') || "
        '\',"@iot.selfLink":"\''
    )
    tail = (
        '\'/Datastreams(\' || d.id || \')"},"Thing":{"@iot.id":\' || t.id || \',"name":\' || '
        f"{quote.format('t.name')} || '}},\"location\":' || coalesce({location}, 'null') || "
        "',\"Observation\":'"
    )
    return (
        f"INSERT INTO {TABLE} (datastream_id, tenant_id, head, tail) "  # noqa: S608
        f"SELECT d.id, d.tenant_id, {head}, {tail} "
        f"FROM sta_datastream d JOIN sta_thing t ON t.id = d.thing_id WHERE {where} "
        "ON CONFLICT (datastream_id) DO UPDATE SET tenant_id = excluded.tenant_id, "
        "head = excluded.head, tail = excluded.tail"
    )


# (trigger, table, event, Datastreams to render; NEW/OLD as the event has them)
TRIGGERS = (
    ("datastream_new", "sta_datastream", "INSERT", "d.id = NEW.id"),
    (
        "datastream_changed",
        "sta_datastream",
        "UPDATE OF name, unit_of_measurement, thing_id",
        "d.id = NEW.id",
    ),
    ("thing_renamed", "sta_thing", "UPDATE OF name", "d.thing_id = NEW.id"),
    (
        "location_moved",
        "sta_location",
        "UPDATE OF location_json",
        "d.thing_id IN (SELECT thing_id FROM sta_thing_location WHERE location_id = NEW.id)",
    ),
    ("location_linked", "sta_thing_location", "INSERT", "d.thing_id = NEW.thing_id"),
    ("location_unlinked", "sta_thing_location", "DELETE", "d.thing_id = OLD.thing_id"),
    (
        "location_relinked",
        "sta_thing_location",
        "UPDATE",
        "d.thing_id IN (OLD.thing_id, NEW.thing_id)",
    ),
)


def upgrade() -> None:
    """Create the table and its triggers, and render the heads of existing Datastreams."""
    op.create_table(
        TABLE,
        sa.Column(
            "datastream_id",
            BigId,
            sa.ForeignKey("sta_datastream.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column(
            "tenant_id", BigId, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("head", sa.Text, nullable=False),
        sa.Column("tail", sa.Text, nullable=False),
    )
    op.create_index(f"ix_{TABLE}_tenant_id", TABLE, ["tenant_id"])
    dialect = op.get_bind().dialect.name
    for name, table, event, where in TRIGGERS:
        trigger = f"{TABLE}_{name}"
        render = _render(dialect, where)
        if dialect == "postgresql":
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {render}; RETURN NULL; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
            )
        else:
            op.execute(f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN {render}; END")
    op.execute(_render(dialect, "true"))


def downgrade() -> None:
    """Drop the triggers and the table."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table, _event, _where in TRIGGERS:
        trigger = f"{TABLE}_{name}"
        op.execute(f"DROP TRIGGER {trigger}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION {trigger}()")
    op.drop_table(TABLE)
