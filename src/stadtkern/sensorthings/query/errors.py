"""The one error of the query language: a bad option value, answered with 400 later."""

from __future__ import annotations


class QueryError(ValueError):
    """A query option that cannot be parsed, type-checked or compiled."""

    def __init__(self, message: str, position: int | None = None, option: str | None = None):
        self.reason = message
        self.position = position
        self.option = option
        super().__init__(self._render())

    def _render(self) -> str:
        where = "" if self.position is None else f" at position {self.position}"
        prefix = "" if self.option is None else f"{self.option}: "
        return f"{prefix}{self.reason}{where}"

    def in_option(self, option: str, offset: int = 0) -> QueryError:
        """The same error attributed to a query option whose value starts at `offset`."""
        position = None if self.position is None else self.position + offset
        return QueryError(self.reason, position, self.option or option)
