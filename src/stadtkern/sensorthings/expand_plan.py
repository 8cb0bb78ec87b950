"""Planning `$expand`: one tree of navigation properties, one node per navigation and level.

`Datastreams/Observations` is `Datastreams($expand=Observations)`, and items that start with
the same navigation share one node: `Datastreams($top=2),Datastreams/Sensor` expands the
Datastreams once (two of them) with their Sensor. Each node also keeps its options as sent,
so that the `@iot.nextLink` of an expanded collection repeats them exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.entities import EntityType, Link
from stadtkern.sensorthings.query import ExpandItem, QueryOptions

# A navigation path as the $expand parser reads it.
_PATH = re.compile(r"[A-Za-z_@][A-Za-z0-9_.]*(?:/[A-Za-z_@][A-Za-z0-9_.]*)*")
RawOptions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Expansion:
    """A navigation property to expand, its options, and what to expand below it.

    `raw` holds the node's own options as sent (name, value), without `$expand`; None when
    the text is not known, and then expanded collections get no `@iot.nextLink`.
    """

    link: Link
    options: QueryOptions  # without `expand`: see `children`
    children: tuple[Expansion, ...]
    raw: RawOptions | None

    @property
    def target(self) -> EntityType:
        """The entity type the navigation leads to."""
        return ENTITY_TYPES[self.link.target]

    def link_query(self) -> list[tuple[str, str]] | None:
        """The query of this node's collection URL: its own options and its children."""
        expand = _items_text(self.children)
        if self.raw is None or expand is None:
            return None
        return [*self.raw, *([("$expand", expand)] if expand else [])]

    def item_text(self) -> str | None:
        """This node as one `$expand` item, e.g. `Observations($top=2;$expand=Sensor)`."""
        query = self.link_query()
        if query is None:
            return None
        if not query:
            return self.link.name
        return f"{self.link.name}({';'.join(f'{name}={value}' for name, value in query)})"


def plan_expansions(
    entity: EntityType,
    items: tuple[ExpandItem, ...],
    raw_expand: str | None,
    max_depth: int,
    depth: int = 1,
) -> tuple[Expansion, ...]:
    """The expansion tree of `$expand` items on `entity`; BadRequest when it is not valid."""
    if not items:
        return ()
    if depth > max_depth:
        raise BadRequest(f"$expand nests deeper than {max_depth} levels")
    own: dict[str, list[ExpandItem]] = {}
    nested: dict[str, list[ExpandItem]] = {}
    for item in items:
        head, *rest = item.path
        own.setdefault(head, [])
        nested.setdefault(head, [])
        if rest:
            nested[head].append(ExpandItem(tuple(rest), item.options, item.position))
        else:
            own[head].append(item)
    return tuple(
        _expansion(entity, name, own[name], nested[name], raw_expand, max_depth, depth)
        for name in own
    )


def _expansion(
    entity: EntityType,
    name: str,
    own: list[ExpandItem],
    nested: list[ExpandItem],
    raw_expand: str | None,
    max_depth: int,
    depth: int,
) -> Expansion:
    link = entity.link(name)
    if link is None:
        raise BadRequest(f"$expand: {entity.name} has no navigation property {name!r}")
    if any(other.options != own[0].options for other in own[1:]):
        raise BadRequest(f"$expand: {name} is expanded twice with different options")
    item = own[0] if own else None
    options = QueryOptions() if item is None else item.options
    target = ENTITY_TYPES[link.target]
    children = plan_expansions(
        target, options.expand + tuple(nested), raw_expand, max_depth, depth + 1
    )
    raw: RawOptions | None = ()
    if item is not None:
        raw = _raw_options(raw_expand, item)
    return Expansion(link, replace(options, expand=()), children, raw)


def _items_text(expansions: tuple[Expansion, ...]) -> str | None:
    texts = [expansion.item_text() for expansion in expansions]
    if any(text is None for text in texts):
        return None
    return ",".join(text for text in texts if text is not None)


def _raw_options(raw_expand: str | None, item: ExpandItem) -> RawOptions | None:
    """The options of an item as sent, found at its position in the `$expand` value."""
    if raw_expand is None:
        return None
    match = _PATH.match(raw_expand, item.position)
    if match is None or tuple(match.group().split("/")[-len(item.path) :]) != item.path:
        return None
    start = match.end()
    if start >= len(raw_expand) or raw_expand[start] != "(":
        return ()
    inner = raw_expand[start + 1 : _closing(raw_expand, start)]
    options = []
    for part in _top_level_parts(inner, ";"):
        name, _, value = part.partition("=")
        if name.strip() != "$expand":
            options.append((name.strip(), value))
    return tuple(options)


def _closing(text: str, opening: int) -> int:
    """The index of the parenthesis closing the one at `opening`."""
    depth = 0
    for index, char in _scan(text, opening):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return len(text)


def _top_level_parts(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in _scan(text, 0):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part for part in parts if part.strip()]


def _scan(text: str, start: int) -> Iterator[tuple[int, str]]:
    """Characters outside string literals (quotes themselves are skipped), with indexes."""
    quoted = False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted:
            yield index, char
