"""Resource paths of the SensorThings API: `Things(1)/Datastreams(2)/Observations/$ref`.

    path = parse_path("Datastreams(5)/Observations")
    path.target.name    # "Observation"
    path.is_collection  # True

A path is a chain of entity segments (an entity set, then navigation properties, each with
an optional id), optionally ending in a property (`/name`, `/name/$value`) or in `$ref`.

Reads may also end in one of Stadtkern's extensions (`parse_path(text, extensions=True)`):
`Datastreams/$latest` and `Datastreams(1)/Observations/$aggregate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stadtkern.sensorthings.catalogue import BY_SET, ENTITY_TYPES
from stadtkern.sensorthings.entities import EntityType, Field, Link

_SEGMENT = re.compile(r"(?P<name>[A-Za-z]+)(?:\((?P<id>[^()]*)\))?")
# Ids are 64-bit integers; larger numbers are not ids of ours.
MAX_ID = 2**63 - 1
LATEST = "$latest"
AGGREGATE = "$aggregate"
EXTENSIONS = (LATEST, AGGREGATE)


class PathError(ValueError):
    """A resource path that names nothing (answered with 404) or is malformed (400)."""

    def __init__(self, message: str, *, not_found: bool = True) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass(frozen=True)
class Segment:
    """An entity set or navigation step, with the id it selects (if any)."""

    entity: EntityType
    id: int | None
    link: Link | None  # the navigation from the previous segment; None for the first

    @property
    def is_collection(self) -> bool:
        """True when the segment addresses several entities."""
        return self.id is None and (self.link is None or self.link.to_many)


@dataclass(frozen=True)
class ResourcePath:
    """A parsed resource path."""

    segments: tuple[Segment, ...]
    field: Field | None = None  # /{property}; None also for /id (see `id_property`)
    id_property: bool = False  # /id
    value: bool = False  # /{property}/$value
    ref: bool = False  # /$ref
    extension: str | None = None  # /$latest or /$aggregate (reads only)

    @property
    def last(self) -> Segment:
        """The segment the path ends in."""
        return self.segments[-1]

    @property
    def target(self) -> EntityType:
        """The entity type the path addresses."""
        return self.last.entity

    @property
    def is_collection(self) -> bool:
        """True when the path addresses a collection of entities."""
        return self.last.is_collection and self.field is None and not self.id_property

    @property
    def parent(self) -> ResourcePath | None:
        """The path without its last entity segment (None for a top-level path)."""
        if len(self.segments) == 1:
            return None
        return ResourcePath(self.segments[:-1])

    def text(self) -> str:
        """The path in canonical form."""
        parts = []
        for segment in self.segments:
            name = segment.entity.set_name if segment.link is None else segment.link.name
            parts.append(name if segment.id is None else f"{name}({segment.id})")
        if self.field is not None:
            parts.append(self.field.name)
        if self.id_property:
            parts.append("id")
        if self.value:
            parts.append("$value")
        if self.ref:
            parts.append("$ref")
        if self.extension is not None:
            parts.append(self.extension)
        return "/".join(parts)


def parse_id(text: str) -> int:
    """An entity id from a path or body: a non-negative 64-bit integer."""
    if not re.fullmatch(r"[0-9]{1,19}", text) or int(text) > MAX_ID:
        raise PathError(f"{text!r} is not an entity id (ids are integers)")
    return int(text)


def parse_path(text: str, *, extensions: bool = False) -> ResourcePath:
    """Parse a resource path relative to the service root; raises PathError.

    With `extensions`, the read-only `$latest` and `$aggregate` endings are allowed.
    """
    parts = [part for part in text.strip("/").split("/")]
    if not parts or not parts[0]:
        raise PathError("the path names no entity set")
    if parts[-1] in EXTENSIONS:
        return _extension(text, parts, extensions)
    segments: list[Segment] = []
    index = 0
    for index, part in enumerate(parts):  # noqa: B007 - the index is used after the loop
        if part in ("$ref", "$value") or (segments and _is_property(segments[-1], part)):
            break
        segments.append(_segment(part, segments[-1] if segments else None))
    else:
        return ResourcePath(tuple(segments))
    return _tail(tuple(segments), parts[index:])


def _extension(text: str, parts: list[str], allowed: bool) -> ResourcePath:
    name = parts[-1]
    if not allowed:
        raise PathError(f"{name} can only be read (GET)", not_found=False)
    path = parse_path("/".join(parts[:-1]))
    segments = path.segments
    if path.field is not None or path.id_property or path.ref:
        raise PathError(f"{name} cannot follow {'/'.join(parts[:-1])}", not_found=False)
    if name == LATEST:
        fits = (
            len(segments) == 1
            and segments[0].entity.set_name == "Datastreams"
            and segments[0].id is None
        )
        where = "Datastreams/$latest"
    else:
        fits = (
            len(segments) == 2
            and segments[0].entity.set_name == "Datastreams"
            and segments[0].id is not None
            and segments[1].entity.set_name == "Observations"
            and segments[1].id is None
        )
        where = "Datastreams({id})/Observations/$aggregate"
    if not fits:
        raise PathError(f"{name} is only available as {where}, not {text!r}", not_found=False)
    return ResourcePath(segments, extension=name)


def _is_property(segment: Segment, part: str) -> bool:
    return not segment.is_collection and segment.entity.link(part.split("(")[0]) is None


def _segment(part: str, previous: Segment | None) -> Segment:
    match = _SEGMENT.fullmatch(part)
    if match is None:
        raise PathError(f"{part!r} is not a path segment")
    name, raw_id = match["name"], match["id"]
    identifier = None if raw_id is None else parse_id(raw_id.strip())
    if previous is None:
        entity = BY_SET.get(name)
        if entity is None:
            raise PathError(f"there is no entity set {name!r}")
        return Segment(entity, identifier, None)
    if previous.is_collection:
        raise PathError(f"{previous.entity.set_name} needs an id before /{name}", not_found=False)
    link = previous.entity.link(name)
    if link is None:
        raise PathError(f"{previous.entity.name} has no navigation property {name!r}")
    if identifier is not None and not link.to_many:
        raise PathError(f"{name} is a single entity and takes no id", not_found=False)
    return Segment(ENTITY_TYPES[link.target], identifier, link)


def _tail(segments: tuple[Segment, ...], rest: list[str]) -> ResourcePath:
    last = segments[-1]
    head, *more = rest
    if head == "$ref":
        if more:
            raise PathError("nothing may follow $ref", not_found=False)
        return ResourcePath(segments, ref=True)
    if head == "$value" or last.is_collection:
        raise PathError(f"{head!r} cannot follow {last.entity.set_name}", not_found=False)
    field = last.entity.field(head)
    if field is None and head != "id":
        raise PathError(f"{last.entity.name} has no property or navigation {head!r}")
    if more not in ([], ["$value"]):
        raise PathError(f"only $value may follow the property {head!r}", not_found=False)
    return ResourcePath(segments, field, id_property=field is None, value=bool(more))
