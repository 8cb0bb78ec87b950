"""Property maps of the entity types, as the $filter and $orderby compiler reads them."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind, Link, LinkKind
from stadtkern.sensorthings.query import Kind, Navigation, Property, PropertyMap

_KINDS = {
    FieldKind.TEXT: Kind.STRING,
    FieldKind.OBJECT: Kind.JSON,
    FieldKind.ANY: Kind.JSON,
    FieldKind.LIST: Kind.JSON,
    FieldKind.GEOJSON: Kind.GEOMETRY,
    FieldKind.AREA: Kind.GEOMETRY,
    FieldKind.INSTANT: Kind.DATETIME,
}


def property_map(entity: EntityType, row: FromClause) -> PropertyMap:
    """The filterable properties and navigations of `entity` over a table or an alias."""
    properties = {"id": Property(row.c.id, Kind.INTEGER)}
    for field in entity.fields:
        properties[field.name] = _property(field, row)
    navigations = {
        link.name: Navigation(_joiner(entity, link, row), to_many=link.to_many)
        for link in entity.links
    }
    return PropertyMap(entity=entity.name, properties=properties, navigations=navigations)


def _property(field: Field, row: FromClause) -> Property:
    c = row.c
    if field.kind in (FieldKind.INTERVAL, FieldKind.TIME):
        return Property(c[field.columns[0]], Kind.INTERVAL, end=c[field.columns[1]])
    if field.kind is FieldKind.RESULT:
        return Property(
            c.result_json,
            Kind.JSON,
            alternatives={
                Kind.NUMBER: c.result_number,
                Kind.STRING: c.result_string,
                Kind.BOOLEAN: c.result_boolean,
            },
        )
    column = field.columns[1] if field.kind is FieldKind.GEOJSON else field.column
    return Property(c[column], _KINDS[field.kind])


def link_condition(link: Link, row: FromClause, target: FromClause) -> ColumnElement[bool]:
    """The condition that `target` (an alias of the link's type) is linked to `row`."""
    if link.kind is LinkKind.OWN:
        return target.c.id == row.c[link.column]
    if link.kind is LinkKind.TARGET:
        return target.c[link.column] == row.c.id
    assert link.table is not None  # noqa: S101 - a TABLE link names its table
    association = link.table
    # Correlated explicitly: auto-correlation reaches only the enclosing SELECT, and this one
    # sits inside an EXISTS over the target, two levels below the row's SELECT.
    linked = select(association.c[link.far]).where(association.c[link.near] == row.c.id)
    return target.c.id.in_(linked.correlate(row))


def _joiner(entity: EntityType, link: Link, row: FromClause):  # type: ignore[no-untyped-def]
    def join() -> tuple[PropertyMap, ColumnElement[bool]]:
        target_type = ENTITY_TYPES[link.target]
        target = target_type.table.alias()
        return property_map(target_type, target), and_(link_condition(link, row, target))

    return join
