"""An SQL expression spelled differently on PostgreSQL and on SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal


class PerDialect(ColumnElement[Any]):
    """One expression per backend; the statement is compiled for whichever it runs on."""

    __visit_name__ = "stadtkern_query_per_dialect"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's class attribute
        ("postgresql", InternalTraversal.dp_clauseelement),
        ("sqlite", InternalTraversal.dp_clauseelement),
    ]

    def __init__(
        self, *, postgresql: ColumnElement[Any], sqlite: ColumnElement[Any], type_: TypeEngine[Any]
    ) -> None:
        self.postgresql = postgresql
        self.sqlite = sqlite
        self.type = type_
        # Spares SQLite the "= 1" SQLAlchemy appends to booleans used as a WHERE term.
        self._is_implicitly_boolean = isinstance(type_, Boolean)


@compiles(PerDialect)
def _compile_per_dialect(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.dialect.name
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"query expressions are not available on {name}")
    chosen = element.postgresql if name == "postgresql" else element.sqlite
    # Always grouped, as the surrounding operator cannot see which expression was chosen.
    return f"({compiler.process(chosen, **kw)})"
