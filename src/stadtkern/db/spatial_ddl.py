"""Spatial indexes for migrations: GiST on PostGIS, an R*Tree kept by triggers on SQLite."""

from __future__ import annotations

from alembic import op


def rtree_name(table: str, column: str) -> str:
    """Name of the R*Tree virtual table that indexes `table.column` on SQLite."""
    return f"rtree_{table}_{column}"


def create_spatial_index(table: str, column: str, *, id_column: str = "id") -> None:
    """Create the spatial index of a geometry column (call from a migration)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f'CREATE INDEX "ix_{table}_{column}_gist" ON "{table}" USING gist ("{column}")')
        return
    rtree = rtree_name(table, column)
    bbox = ", ".join(f"ST_{edge}(NEW.{column})" for edge in ("XMin", "XMax", "YMin", "YMax"))
    op.execute(f"CREATE VIRTUAL TABLE {rtree} USING rtree(id, minx, maxx, miny, maxy)")
    op.execute(
        f"CREATE TRIGGER {rtree}_insert AFTER INSERT ON {table} "
        f"WHEN NEW.{column} IS NOT NULL BEGIN "
        f"INSERT INTO {rtree} VALUES (NEW.{id_column}, {bbox}); END"
    )
    op.execute(
        f"CREATE TRIGGER {rtree}_update AFTER UPDATE OF {column} ON {table} BEGIN "
        f"DELETE FROM {rtree} WHERE id = OLD.{id_column}; "
        f"INSERT INTO {rtree} SELECT NEW.{id_column}, {bbox} WHERE NEW.{column} IS NOT NULL; END"
    )
    op.execute(
        f"CREATE TRIGGER {rtree}_delete AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {rtree} WHERE id = OLD.{id_column}; END"
    )


def drop_spatial_index(table: str, column: str) -> None:
    """Drop what create_spatial_index made (call from a downgrade)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f'DROP INDEX IF EXISTS "ix_{table}_{column}_gist"')
        return
    rtree = rtree_name(table, column)
    for suffix in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {rtree}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {rtree}")
