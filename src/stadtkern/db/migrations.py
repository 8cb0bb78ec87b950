"""Schema migrations: one Alembic branch per module, applied for every installed module.

The schema belongs to the installation, not to one process: STADTKERN_MODULES only limits
which modules run, while the migrations of every installed module are always applied, so
that switching a module on later never meets a database that lacks its tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from stadtkern.db.database import Database
from stadtkern.modules import StadtkernModule, discover_modules

SCRIPT_LOCATION = Path(__file__).parent / "alembic"


class SchemaOutOfDate(RuntimeError):
    """The database schema is not at the heads of the installed modules' migrations."""


@dataclass(frozen=True)
class BranchState:
    """Where one module's migration branch stands in the database."""

    module: str
    current: str | None
    head: str

    @property
    def is_current(self) -> bool:
        """True when the database has this branch's newest revision."""
        return self.current == self.head


def _locations(modules: Sequence[StadtkernModule]) -> tuple[str, ...]:
    return tuple(str(module.migrations) for module in modules if module.migrations is not None)


def _config(locations: tuple[str, ...]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


@lru_cache(maxsize=8)
def _script(locations: tuple[str, ...]) -> ScriptDirectory:
    # Readiness checks ask on every probe; the migration files of a running process do not
    # change, so they are read once per set of folders.
    return ScriptDirectory.from_config(_config(locations))


@contextmanager
def _connection(database: Database) -> Iterator[Connection]:
    lock = database.write_lock()
    with lock, database.write_engine.connect() as connection:
        yield connection


def upgrade(database: Database, modules: Sequence[StadtkernModule] | None = None) -> None:
    """Apply every pending migration of the installed modules."""
    modules = discover_modules() if modules is None else modules
    with _connection(database) as connection:
        config = _config(_locations(modules))
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
        connection.commit()


def branch_states(
    database: Database, modules: Sequence[StadtkernModule] | None = None
) -> list[BranchState]:
    """The current and newest revision of every module's branch."""
    modules = discover_modules() if modules is None else modules
    script = _script(_locations(modules))
    with database.read_engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    applied = _applied_revisions(script, current)
    states = []
    for module in modules:
        if module.migrations is None:
            continue
        heads = script.get_revisions(f"{module.name}@head")
        head = heads[0].revision if heads and heads[0] is not None else None
        if head is None:
            continue
        newest_applied = next(
            (r.revision for r in script.iterate_revisions(head, "base") if r.revision in applied),
            None,
        )
        states.append(BranchState(module=module.name, current=newest_applied, head=head))
    return states


def _applied_revisions(script: ScriptDirectory, current: set[str]) -> set[str]:
    applied: set[str] = set()
    for head in current:
        try:
            applied.update(r.revision for r in script.iterate_revisions(head, "base"))
        except Exception:  # noqa: S112 - the head of a module that is no longer installed
            continue
    return applied


def check_current(database: Database, modules: Sequence[StadtkernModule] | None = None) -> None:
    """Raise SchemaOutOfDate unless every module's branch is at its head."""
    stale = [state for state in branch_states(database, modules) if not state.is_current]
    if stale:
        detail = ", ".join(
            f"{s.module} at {s.current or 'nothing'} (needs {s.head})" for s in stale
        )
        raise SchemaOutOfDate(
            f"the database schema is out of date: {detail}. Run `stadtkern db upgrade`."
        )
