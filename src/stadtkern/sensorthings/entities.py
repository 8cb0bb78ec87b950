"""How a SensorThings entity type looks to clients: its JSON fields, its links, its table.

One description per entity type drives everything that is generic: parsing request bodies,
rendering entities, resolving resource paths, the property maps of the query compiler and
the OpenAPI description. The types themselves are listed in `catalogue.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Table


class FieldKind(StrEnum):
    """How a JSON field is stored and validated."""

    TEXT = "text"  # a string column
    OBJECT = "object"  # a JSON object column (properties, parameters, unitOfMeasurement)
    ANY = "any"  # any JSON value (metadata, resultQuality)
    LIST = "list"  # a JSON array column (unitOfMeasurements, multiObservationDataTypes)
    GEOJSON = "geojson"  # GeoJSON kept as sent plus its geometry: columns (json, geom)
    AREA = "area"  # a geometry column rendered as GeoJSON (observedArea, server-maintained)
    INSTANT = "instant"  # one date-time column
    INTERVAL = "interval"  # an interval: columns (start, end)
    TIME = "time"  # an instant or an interval: columns (start, end NULL for an instant)
    RESULT = "result"  # an Observation's result over its typed columns


@dataclass(frozen=True)
class Field:
    """A property of an entity as clients see it."""

    name: str
    kind: FieldKind
    columns: tuple[str, ...]
    required: bool = False
    writable: bool = True  # False: maintained by the server, ignored in requests

    @property
    def column(self) -> str:
        """The (first) column of the field."""
        return self.columns[0]


class LinkKind(StrEnum):
    """Where the row that links two entities lives."""

    OWN = "own"  # a foreign key column on this entity's table (Datastream.thing_id)
    TARGET = "target"  # a foreign key column on the target's table (Thing -> Datastream)
    TABLE = "table"  # an association table (Thing <-> Location)


@dataclass(frozen=True)
class Link:
    """A navigation property: to one or many entities of another type."""

    name: str
    target: str
    to_many: bool
    kind: LinkKind
    column: str = ""  # OWN: our column; TARGET: the target's column
    table: Table | None = None  # TABLE: the association table
    near: str = ""  # TABLE: the column naming this entity
    far: str = ""  # TABLE: the column naming the target
    ordered_by: str = ""  # TABLE: a position column that orders the targets
    required: bool = False  # must be given when the entity is created


@dataclass(frozen=True)
class EntityType:
    """One of the twelve SensorThings entity types."""

    name: str  # "Thing"
    set_name: str  # "Things"
    table: Table
    fields: tuple[Field, ...]
    links: tuple[Link, ...]

    def __post_init__(self) -> None:
        # Lookups by name happen per row on the ingest path: dictionaries, built once.
        object.__setattr__(self, "_fields", {field.name: field for field in self.fields})
        object.__setattr__(self, "_links", {link.name: link for link in self.links})

    def field(self, name: str) -> Field | None:
        """The field of that JSON name, if any."""
        fields: dict[str, Field] = self.__dict__["_fields"]
        return fields.get(name)

    def link(self, name: str) -> Link | None:
        """The navigation property of that name, if any."""
        links: dict[str, Link] = self.__dict__["_links"]
        return links.get(name)
