"""Spatial indexes: GiST on PostGIS, an R*Tree kept by triggers on SQLite.

`spatial_index_ddl` returns the statements for a dialect, so that migrations (through
`create_spatial_index`) and tests that build a table with `metadata.create_all` share them.
"""

from __future__ import annotations

import re

from alembic import op

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _name(identifier: str) -> str:
    # The names are spliced into DDL, which cannot take bound parameters.
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"not a plain SQL identifier: {identifier!r}")
    return f'"{identifier}"'


def rtree_name(table: str, column: str) -> str:
    """Name of the R*Tree virtual table that indexes `table.column` on SQLite."""
    return f"rtree_{table}_{column}"


def gist_name(table: str, column: str) -> str:
    """Name of the GiST index on `table.column` on PostgreSQL."""
    return f"ix_{table}_{column}_gist"


def spatial_index_ddl(dialect: str, table: str, column: str, *, id_column: str = "id") -> list[str]:
    """The statements that create the spatial index of `table.column` on a dialect."""
    if dialect == "postgresql":
        index = _name(gist_name(table, column))
        return [f"CREATE INDEX {index} ON {_name(table)} USING gist ({_name(column)})"]
    if dialect != "sqlite":
        raise ValueError(f"no spatial index for dialect {dialect!r}")
    plain = rtree_name(table, column)
    rtree, base, geometry, key = _name(plain), _name(table), _name(column), _name(id_column)
    insert, update, delete = (_name(f"{plain}_{verb}") for verb in ("insert", "update", "delete"))
    bbox = ", ".join(f"ST_{edge}(NEW.{geometry})" for edge in ("XMin", "XMax", "YMin", "YMax"))
    # ST_XMin is NULL for NULL and for empty geometries, which have no box to index.
    indexable = f"ST_XMin(NEW.{geometry}) IS NOT NULL"
    # OR REPLACE: an INSERT OR REPLACE on the table removes the old row without firing the
    # delete trigger (unless recursive_triggers is on), which would leave its id behind.
    add = f"INSERT OR REPLACE INTO {rtree} SELECT NEW.{key}, {bbox} WHERE {indexable}"
    remove = f"DELETE FROM {rtree} WHERE id = OLD.{key}"  # noqa: S608 - identifiers checked
    return [
        f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)",
        f"CREATE TRIGGER {insert} AFTER INSERT ON {base} BEGIN {add}; END",
        f"CREATE TRIGGER {update} AFTER UPDATE OF {geometry}, {key} ON {base} "
        f"BEGIN {remove}; {add}; END",
        f"CREATE TRIGGER {delete} AFTER DELETE ON {base} BEGIN {remove}; END",
    ]


def drop_spatial_index_ddl(dialect: str, table: str, column: str) -> list[str]:
    """The statements that drop what spatial_index_ddl created."""
    if dialect == "postgresql":
        return [f"DROP INDEX IF EXISTS {_name(gist_name(table, column))}"]
    if dialect != "sqlite":
        raise ValueError(f"no spatial index for dialect {dialect!r}")
    rtree = rtree_name(table, column)
    triggers = [
        f"DROP TRIGGER IF EXISTS {_name(f'{rtree}_{suffix}')}"
        for suffix in ("insert", "update", "delete")
    ]
    return [*triggers, f"DROP TABLE IF EXISTS {_name(rtree)}"]


def create_spatial_index(table: str, column: str, *, id_column: str = "id") -> None:
    """Create the spatial index of a geometry column (call from a migration)."""
    for statement in spatial_index_ddl(
        op.get_bind().dialect.name, table, column, id_column=id_column
    ):
        op.execute(statement)


def drop_spatial_index(table: str, column: str) -> None:
    """Drop what create_spatial_index made (call from a downgrade)."""
    for statement in drop_spatial_index_ddl(op.get_bind().dialect.name, table, column):
        op.execute(statement)
