"""The migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import ForeignKeyConstraint

from stadtkern.db import Base, Database, migrations
from stadtkern.modules import discover_modules

SYSTEM_TABLES = {"spatial_ref_sys", "alembic_version"}
# Modules whose tables are not imported by the core; importing them adds their tables to
# Base.metadata, which the comparison reads.
MODEL_MODULES = (
    "stadtkern.sensorthings.models",
    "stadtkern.warning.models",
    "stadtkern.maengelmelder.models",
    "stadtkern_example.models",
)


def _not_spatial_index(name: str | None, kind: str, _parent: object) -> bool:
    # Spatial indexes are made by spatial_ddl outside the models: GiST on PostGIS, R*Tree
    # virtual tables (and SQLite's shadow tables of them) on SQLite.
    if name is None:
        return True
    if kind == "table":
        return name not in SYSTEM_TABLES and not name.startswith("rtree_")
    return not (kind == "index" and name.endswith("_gist"))


def _compared_on(backend: str) -> Callable[..., bool]:
    """Leave out the foreign keys a model says exist on other backends only."""

    def include(item: object, _name: object, kind: str, _reflected: bool, _other: object) -> bool:
        if kind != "foreign_key_constraint" or not isinstance(item, ForeignKeyConstraint):
            return True
        return not any(backend in key.info for key in item.elements)

    return include


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_models(backend: str, make_database: Callable[[str], Database]) -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
    database = make_database(backend)
    migrations.upgrade(database, discover_modules(None))
    with database.read_engine.connect() as connection, warnings.catch_warnings():
        # Reflection does not know PostGIS' geometry type; types are compared on SQLite.
        warnings.filterwarnings("ignore", message="Did not recognize type 'geometry'")
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": backend == "sqlite",
                "include_name": _not_spatial_index,
                "include_object": _compared_on(backend),
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
