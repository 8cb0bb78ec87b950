"""What the entity layer tells the compiler: properties with their kinds, and navigations.

A property map describes one entity over one selectable (a table or an alias). Build maps
with a function of the selectable, so that each navigation can join a fresh alias and still
link to the columns of the map it belongs to::

    def datastream_map(ds: FromClause) -> PropertyMap:
        return PropertyMap(
            entity="Datastream",
            properties={"name": Property(ds.c.name, Kind.STRING)},
            navigations={"Thing": Navigation(lambda: _thing(ds), to_many=False)},
        )

    def _thing(ds: FromClause) -> tuple[PropertyMap, ColumnElement[bool]]:
        thing = things.alias()
        return thing_map(thing), thing.c.id == ds.c.thing_id
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from stadtkern.sensorthings.query.kinds import PROPERTY_KINDS, Kind


@dataclass(frozen=True)
class Property:
    """A filterable property: its column and kind; an interval also names its end column.

    An instant in an interval property may be stored with end = start or with end NULL; the
    latter is read as end = start (through COALESCE, which an index on end cannot serve).
    """

    column: ColumnElement[Any]
    kind: Kind
    end: ColumnElement[Any] | None = None
    # A JSON property whose scalar values live in typed columns (an Observation's result):
    # the column per scalar kind; `column` then holds only objects and arrays.
    alternatives: Mapping[Kind, ColumnElement[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PROPERTY_KINDS:
            raise ValueError(f"a property cannot be of kind {self.kind}")
        if (self.kind is Kind.INTERVAL) != (self.end is not None):
            raise ValueError("an interval property, and only one, needs an end column")
        if self.alternatives and self.kind is not Kind.JSON:
            raise ValueError("only a JSON property can keep scalars in typed columns")


@dataclass(frozen=True)
class Navigation:
    """A navigation property: `join()` gives the related entity's map and the link condition.

    A to-many navigation (Thing/Datastreams) inside a comparison or boolean function makes it
    an EXISTS over the related rows ("any"); a to-one navigation (Datastream/Thing) reads the
    related value through a scalar subquery, NULL when there is no related row.
    """

    join: Callable[[], tuple[PropertyMap, ColumnElement[bool]]]
    to_many: bool = False


@dataclass(frozen=True)
class PropertyMap:
    """The properties and navigations of one entity, as the filter may reach them."""

    entity: str
    properties: Mapping[str, Property]
    navigations: Mapping[str, Navigation] = field(default_factory=dict)
