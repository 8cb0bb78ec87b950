"""Entity rows as SensorThings JSON: fields by kind, `@iot.id`, links, and `$select`.

    selection = select_fields(THING, options.select)
    body = render_entity(THING, row, selection, "http://testserver/kl/v1.1")
    # {"@iot.id": 1, "@iot.selfLink": ".../Things(1)", "name": ..., "Datastreams@iot...": ...}

Times are ISO 8601 in UTC with `Z`, with milli- or microseconds only when there are any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column

from stadtkern.errors import BadRequest
from stadtkern.geo import geometry_to_geojson
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind, Link
from stadtkern.sensorthings.query import SelectItem
from stadtkern.sensorthings.results import result_value

ID = "@iot.id"
SELF_LINK = "@iot.selfLink"
NAVIGATION_LINK = "@iot.navigationLink"
# A row of an entity table as SQLAlchemy returns it (keys are column names).
Row = Mapping[Any, Any]


@dataclass(frozen=True)
class Selection:
    """Which members of an entity a response shows (all of them unless `$select` says)."""

    fields: tuple[Field, ...]
    links: tuple[Link, ...]
    with_id: bool = True
    with_self_link: bool = True


def select_fields(
    entity: EntityType, items: tuple[SelectItem, ...] | None, within: str | None = None
) -> Selection:
    """The members `$select` keeps: properties, `id`, and navigation properties (their links).

    `within` names the option the `$select` is nested in (`$expand`), if any: error positions
    count within that option's value.
    """
    option = "$select" if within is None else f"{within}: $select"
    if items is None:
        return Selection(entity.fields, entity.links)
    fields: list[Field] = []
    links: list[Link] = []
    with_id = with_self_link = False
    for item in items:
        name = _select_name(entity, item, option)
        if name in ("id", ID):
            with_id = True
        elif name == SELF_LINK:
            with_self_link = True
        elif (field := entity.field(name)) is not None:
            if field not in fields:
                fields.append(field)
        elif (link := entity.link(name)) is not None:
            if link not in links:
                links.append(link)
        else:
            raise BadRequest(
                f"{option}: {entity.name} has no property {name!r} at position {item.position}"
            )
    return Selection(tuple(fields), tuple(links), with_id, with_self_link)


def _select_name(entity: EntityType, item: SelectItem, option: str) -> str:
    if len(item.path) != 1:
        raise BadRequest(
            f"{option}: {'/'.join(item.path)!r} at position {item.position}: only properties "
            f"and navigation properties of {entity.name} can be selected"
        )
    return item.path[0]


def needed_columns(
    entity: EntityType, selection: Selection, extra: Iterable[str] = ()
) -> list[Column[Any]]:
    """The table columns that rendering `selection` reads, plus `extra` ones, id first."""
    names = ["id"]
    for field in selection.fields:
        # GeoJSON is returned as sent; its geometry column serves filters only.
        names.extend(field.columns[:1] if field.kind is FieldKind.GEOJSON else field.columns)
    names.extend(extra)
    table = entity.table
    return [table.c[name] for name in dict.fromkeys(names)]


def self_link(base_url: str, entity: EntityType, entity_id: int) -> str:
    """The absolute URL of one entity, e.g. `{base}/Things(1)`."""
    return f"{base_url}/{entity.set_name}({entity_id})"


def render_entity(
    entity: EntityType, row: Row, selection: Selection, base_url: str
) -> dict[str, Any]:
    """The JSON of one entity row, showing the members of `selection`."""
    entity_id = int(row["id"])
    link = self_link(base_url, entity, entity_id)
    body: dict[str, Any] = {}
    if selection.with_id:
        body[ID] = entity_id
    if selection.with_self_link:
        body[SELF_LINK] = link
    for field in selection.fields:
        body[field.name] = field_value(field, row)
    for navigation in selection.links:
        body[f"{navigation.name}{NAVIGATION_LINK}"] = f"{link}/{navigation.name}"
    return body


def field_value(field: Field, row: Row) -> Any:
    """The JSON value of one field of an entity row."""
    kind = field.kind
    if kind is FieldKind.RESULT:
        return result_value(row)
    if kind is FieldKind.AREA:
        geometry = row[field.column]
        return None if geometry is None else geometry_to_geojson(geometry)
    if kind is FieldKind.INSTANT:
        return _optional_instant(row[field.column])
    if kind in (FieldKind.INTERVAL, FieldKind.TIME):
        start, end = row[field.columns[0]], row[field.columns[1]]
        if start is None:
            return None
        if end is None and kind is FieldKind.TIME:
            return iso_instant(start)
        return f"{iso_instant(start)}/{iso_instant(end if end is not None else start)}"
    # TEXT, OBJECT, ANY, LIST, and GEOJSON (its first column keeps the GeoJSON as sent).
    return row[field.column]


def iso_instant(value: datetime) -> str:
    """An instant as STA writes it: UTC with `Z`, fractional seconds only when non-zero."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    if not utc.microsecond:
        precision = "seconds"
    elif utc.microsecond % 1000 == 0:
        precision = "milliseconds"
    else:
        precision = "microseconds"
    return f"{utc.isoformat(timespec=precision)}Z"


def _optional_instant(value: datetime | None) -> str | None:
    return None if value is None else iso_instant(value)
