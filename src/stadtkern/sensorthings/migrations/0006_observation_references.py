"""PostgreSQL: the Observations' references are kept by the writers and by statement
triggers instead of foreign keys.

A foreign key checks every inserted row with a query of its own (one per key and row, four
keys): on a bulk COPY those checks cost more than the COPY itself. The writers check the
references of a whole batch with one query per table, taking `FOR KEY SHARE` on the rows
they name (the lock a foreign key's check takes, once per referenced row instead of once
per Observation), so a concurrent delete of a Datastream waits for the batch, or the batch
sees it gone. The cascades the keys made are statement triggers: deleting Datastreams,
MultiDatastreams or FeaturesOfInterest (also through a Thing's or tenant's cascade) deletes
their Observations. SQLite keeps its foreign keys, which cost it little.

Revision ID: sensorthings_0006
Revises: sensorthings_0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sensorthings_0006"
down_revision: str | Sequence[str] | None = "sensorthings_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "sta_observation"
# (referenced table, column of sta_observation)
REFERENCES = (
    ("tenant", "tenant_id"),
    ("sta_datastream", "datastream_id"),
    ("sta_multi_datastream", "multi_datastream_id"),
    ("sta_feature_of_interest", "feature_of_interest_id"),
)
CASCADES = REFERENCES[1:]  # every Observation has a stream, so a tenant's go with them


def upgrade() -> None:
    """Drop the keys, add the cascade triggers (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _foreign_keys():
        op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
    for table, column in CASCADES:
        function = _function(table)
        body = f"DELETE FROM {TABLE} WHERE {column} IN (SELECT id FROM gone)"  # noqa: S608
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {body}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {_trigger(table)} AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    """The triggers go, the keys come back (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, _column in CASCADES:
        op.execute(f"DROP TRIGGER {_trigger(table)} ON {table}")
        op.execute(f"DROP FUNCTION {_function(table)}()")
    for table, column in REFERENCES:
        op.create_foreign_key(
            f"fk_{TABLE}_{column}_{table}", TABLE, table, [column], ["id"], ondelete="CASCADE"
        )


def _foreign_keys() -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT conname FROM pg_constraint "
            "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"
        ),
        {"table": TABLE},
    )
    return [str(name) for (name,) in rows]


def _function(table: str) -> str:
    return f"{table}_deletes_observations"


def _trigger(table: str) -> str:
    return f"tg_{table}_deletes_observations"
