"""Request bodies of one entity type, validated into column values and navigation bindings.

    body = parse_body(THING, {"name": "Laterne 1", "description": "...", "Locations": [...]},
                      mode=BodyMode.CREATE)
    body.columns  # {"name": "Laterne 1", "description": "..."}
    body.links    # {"Locations": [...]}  (checked by the writer, not here)

Control information (`@iot.id`, `@iot.selfLink`, `...@iot.navigationLink`) and fields the
server maintains are ignored, as OGC 18-088 §10.2 and §10.3 tell services to do; any other
unknown member is refused with 400, naming every one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from stadtkern.errors import BadRequest
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind
from stadtkern.sensorthings.field_values import field_columns, reset_columns

GEO_ENCODINGS = frozenset({"application/geo+json", "application/vnd.geo+json"})


class BodyMode(StrEnum):
    """What the body is for: which fields must be there and what missing fields mean."""

    CREATE = "create"  # required fields must be present
    MERGE = "merge"  # PATCH: only the fields present change
    REPLACE = "replace"  # PUT: required fields present, missing optional fields reset


@dataclass(frozen=True)
class EntityBody:
    """A body split into column values (of the fields present) and navigation bindings."""

    columns: dict[str, Any]
    fields: frozenset[str]  # JSON names of the fields set (or reset)
    links: dict[str, object]  # navigation name -> the JSON given for it


def parse_body(entity: EntityType, body: object, *, mode: BodyMode) -> EntityBody:
    """Validate a JSON body of `entity`; BadRequest names the first problem found."""
    members = as_object(body, entity.name)
    unknown = sorted(name for name in members if _is_unknown(entity, name))
    if unknown:
        listed = ", ".join(repr(name) for name in unknown)
        raise BadRequest(f"{entity.name} has no properties {listed}", properties=unknown)
    if mode is not BodyMode.MERGE:
        _require(entity, members)
    columns: dict[str, Any] = {}
    fields: set[str] = set()
    for field in entity.fields:
        if not field.writable:
            continue
        if field.name in members:
            columns.update(field_columns(entity, field, members[field.name]))
            fields.add(field.name)
        elif mode is BodyMode.REPLACE and _resettable(entity, field):
            columns.update(reset_columns(field))
            fields.add(field.name)
    _check_encoding(entity, columns)
    links = {link.name: members[link.name] for link in entity.links if link.name in members}
    return EntityBody(columns, frozenset(fields), links)


def as_object(value: object, where: str) -> Mapping[str, object]:
    """The value as a JSON object; BadRequest otherwise."""
    if not isinstance(value, Mapping):
        raise BadRequest(f"{where}: expected a JSON object")
    return value


def _is_unknown(entity: EntityType, name: str) -> bool:
    if name.startswith("@iot.") or name.endswith("@iot.navigationLink"):
        return False
    return entity.field(name) is None and entity.link(name) is None


def _require(entity: EntityType, members: Mapping[str, object]) -> None:
    missing = [f.name for f in entity.fields if f.required and f.writable and f.name not in members]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise BadRequest(f"{entity.name} needs the properties {listed}", properties=missing)


def _resettable(entity: EntityType, field: Field) -> bool:
    """PUT resets a missing optional field when its columns may hold NULL."""
    return all(entity.table.c[column].nullable for column in field.columns)


def _check_encoding(entity: EntityType, columns: Mapping[str, Any]) -> None:
    geojson = any(field.kind is FieldKind.GEOJSON for field in entity.fields)
    encoding = columns.get("encoding_type")
    if geojson and encoding is not None and encoding not in GEO_ENCODINGS:
        allowed = " or ".join(sorted(GEO_ENCODINGS))
        raise BadRequest(f"{entity.name}.encodingType: must be {allowed}, got {encoding!r}")
