"""`$resultFormat=GeoJSON`: entities as GeoJSON Features (RFC 7946) for maps and GIS tools.

A Feature's geometry is the entity's own (a Location's location, a FeatureOfInterest's
feature, a Datastream's observedArea) or that of what locates it: a Thing's and a
HistoricalLocation's Locations (a GeometryCollection when there are several), an
Observation's FeatureOfInterest. Its properties are the entity's JSON without that geometry.
Entities without a geometry (Sensors, Tasks, ...) become Features with a null geometry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.geo import geometry_to_geojson
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.collection import Listing
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.entities import EntityType, Link, LinkKind
from stadtkern.sensorthings.expand import Node
from stadtkern.sensorthings.pages import chunks

GEOJSON_MEDIA_TYPE = "application/geo+json"
Geometry = dict[str, Any]
# Entities with a geometry of their own: (its column, the JSON field that shows it).
_OWN: Mapping[str, tuple[str, str]] = {
    "Location": ("geom", "location"),
    "FeatureOfInterest": ("geom", "feature"),
    "Datastream": ("observed_area", "observedArea"),
    "MultiDatastream": ("observed_area", "observedArea"),
}
# Entities located by a related entity with a geometry of its own.
_LOCATED_BY: Mapping[str, str] = {
    "Thing": "Locations",
    "HistoricalLocation": "Locations",
    "Observation": "FeatureOfInterest",
}


def geometry_columns(entity: EntityType) -> list[str]:
    """Columns an entity's rows need so that its Features can be given a geometry."""
    if entity.name in _OWN:
        return [_OWN[entity.name][0]]
    link = _locating_link(entity)
    return [link.column] if link is not None and link.kind is LinkKind.OWN else []


def geojson_document(
    session: Session, context: ReadContext, listing: Listing, *, collection: bool
) -> Document:
    """A FeatureCollection of a page of entities (with paging members), or one Feature."""
    geometries = _geometries(session, context.tenant.id, listing.entity, listing.nodes)
    hidden = _OWN[listing.entity.name][1] if listing.entity.name in _OWN else None
    features = [
        {
            "type": "Feature",
            "id": int(row["id"]),
            "geometry": geometries.get(int(row["id"])),
            "properties": {key: value for key, value in body.items() if key != hidden},
        }
        for row, body in listing.nodes
    ]
    if not collection:
        return Document(features[0], GEOJSON_MEDIA_TYPE)
    body: dict[str, Any] = {"type": "FeatureCollection"}
    if listing.counted is not None:
        body.update(listing.counted.annotations())
    if listing.next_link is not None:
        body["@iot.nextLink"] = listing.next_link
    body["features"] = features
    return Document(body, GEOJSON_MEDIA_TYPE, listing.next_link)


def _locating_link(entity: EntityType) -> Link | None:
    name = _LOCATED_BY.get(entity.name)
    return None if name is None else entity.link(name)


def _geometries(
    session: Session, tenant_id: int, entity: EntityType, nodes: Sequence[Node]
) -> dict[int, Geometry]:
    """The GeoJSON geometry of each entity that has one, by entity id."""
    if entity.name in _OWN:
        column = _OWN[entity.name][0]
        return {
            int(row["id"]): geometry_to_geojson(row[column])
            for row, _ in nodes
            if row[column] is not None
        }
    link = _locating_link(entity)
    if link is None:
        return {}
    if link.kind is LinkKind.OWN:
        return _through_column(session, tenant_id, link, nodes)
    return _through_table(session, tenant_id, link, nodes)


def _through_column(
    session: Session, tenant_id: int, link: Link, nodes: Sequence[Node]
) -> dict[int, Geometry]:
    """Geometries of the related entities a column names (an Observation's feature)."""
    table = ENTITY_TYPES[link.target].table
    targets = sorted({int(row[link.column]) for row, _ in nodes if row[link.column] is not None})
    found: dict[int, Geometry] = {}
    for chunk in chunks(targets):
        query = select(table.c.id, table.c.geom).where(
            table.c.id.in_(chunk), table.c.tenant_id == tenant_id, table.c.geom.is_not(None)
        )
        found.update({int(row.id): geometry_to_geojson(row.geom) for row in session.execute(query)})
    return {
        int(row["id"]): found[int(row[link.column])]
        for row, _ in nodes
        if row[link.column] is not None and int(row[link.column]) in found
    }


def _through_table(
    session: Session, tenant_id: int, link: Link, nodes: Sequence[Node]
) -> dict[int, Geometry]:
    """Geometries of the related entities an association table names (a Thing's Locations)."""
    assert link.table is not None  # noqa: S101 - a TABLE link names its table
    table, association = ENTITY_TYPES[link.target].table, link.table
    owners = sorted({int(row["id"]) for row, _ in nodes})
    parts: dict[int, list[Geometry]] = {}
    for chunk in chunks(owners):
        query = (
            select(association.c[link.near].label("owner"), table.c.geom)
            .join_from(table, association, association.c[link.far] == table.c.id)
            .where(
                association.c[link.near].in_(chunk),
                table.c.tenant_id == tenant_id,
                table.c.geom.is_not(None),
            )
            .order_by(association.c[link.near], table.c.id)
        )
        for row in session.execute(query):
            parts.setdefault(int(row.owner), []).append(geometry_to_geojson(row.geom))
    return {
        owner: found[0] if len(found) == 1 else {"type": "GeometryCollection", "geometries": found}
        for owner, found in parts.items()
    }
