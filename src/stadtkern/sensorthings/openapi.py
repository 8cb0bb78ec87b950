"""An OpenAPI 3.1 description of a tenant's SensorThings service, built from the catalogue."""

from __future__ import annotations

from typing import Any

from stadtkern import __version__
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.create_observations import COMPONENTS
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind
from stadtkern.sensorthings.openapi_extensions import extension_paths
from stadtkern.sensorthings.rules import OM_COMPLEX

_INSTANT = {"type": "string", "format": "date-time"}
_TIME = {
    "description": "ISO 8601 instant or interval (start/end)",
    "anyOf": [
        _INSTANT,
        {"type": "string", "pattern": r"^\S+/\S+$", "description": "interval start/end"},
    ],
}
_POINT = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"const": "Point"},
        "coordinates": {
            "type": "array",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "minItems": 2,
            "maxItems": 2,
        },
    },
}
_GEOJSON = {
    "description": "GeoJSON geometry or Feature",
    "anyOf": [_POINT, {"type": "object", "required": ["type"]}],
}
_SCHEMAS: dict[FieldKind, dict[str, Any]] = {
    FieldKind.TEXT: {"type": "string"},
    FieldKind.OBJECT: {"type": ["object", "null"]},
    FieldKind.ANY: {},
    FieldKind.LIST: {"type": "array"},
    FieldKind.GEOJSON: _GEOJSON,
    FieldKind.AREA: {"type": ["object", "null"], "description": "GeoJSON geometry"},
    FieldKind.INSTANT: {"type": ["string", "null"], "format": "date-time"},
    FieldKind.INTERVAL: _TIME,
    FieldKind.TIME: _TIME,
    FieldKind.RESULT: {"description": "any JSON value"},
}
# What a required field may not be: null (a required object is an object).
_REQUIRED: dict[FieldKind, dict[str, Any]] = {
    FieldKind.INSTANT: _INSTANT,
    FieldKind.OBJECT: {"type": "object"},
    FieldKind.ANY: {"not": {"type": "null"}},
}
_LINK = {
    "type": "object",
    "description": "A link to an existing entity of the tenant by its id",
    "required": ["@iot.id"],
    "properties": {"@iot.id": {"type": "integer", "format": "int64"}},
    "additionalProperties": False,
}
_BATCH = {
    "type": "object",
    "required": ["requests"],
    "properties": {
        "requests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "method", "url"],
                "properties": {
                    "id": {"type": "string"},
                    "method": {"enum": ["get", "post", "patch", "put", "delete"]},
                    "url": {"type": "string", "description": "relative to the service root"},
                    "body": {},
                    "atomicityGroup": {"type": "string"},
                },
            },
        }
    },
}
_DATA_ARRAY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["components", "dataArray"],
        "properties": {
            "Datastream": {"$ref": "#/components/schemas/DatastreamLink"},
            "MultiDatastream": {"$ref": "#/components/schemas/MultiDatastreamLink"},
            "components": {
                "type": "array",
                "items": {"enum": sorted(COMPONENTS)},
                "contains": {"const": "result"},
                "uniqueItems": True,
            },
            "dataArray": {"type": "array", "items": {"type": "array"}},
        },
        "oneOf": [{"required": ["Datastream"]}, {"required": ["MultiDatastream"]}],
    },
}
_JSON_PATCH = {
    "type": "array",
    "description": "RFC 6902 operations",
    "items": {
        "type": "object",
        "required": ["op", "path"],
        "properties": {
            "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
            "path": {"type": "string"},
            "from": {"type": "string"},
            "value": {},
        },
    },
}
_OPTIONS = (
    ("$filter", "string", "Filter expression, e.g. result gt 20"),
    ("$orderby", "string", "Sort keys, e.g. phenomenonTime desc"),
    ("$top", "integer", "Page size (capped by the server)"),
    ("$skip", "integer", "Entities to skip"),
    ("$count", "boolean", "Include @iot.count"),
    ("$select", "string", "Properties to return"),
    ("$expand", "string", "Related entities to include, nested with options"),
    ("$resultFormat", "string", "dataArray, GeoJSON or CSV"),
    ("$skiptoken", "string", "Continue after the page that linked here (keyset paging)"),
    ("countMode", "string", "How $count counts: exact, estimate or limited"),
)
_PROBLEM = {
    "description": "Problem",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def sensorthings_openapi(base_url: str) -> dict[str, Any]:
    """The document for the service at `base_url` (`https://host/{tenant}/v1.1`)."""
    paths: dict[str, Any] = {}
    for entity in ENTITY_TYPES.values():
        paths[f"/{entity.set_name}"] = _collection(entity)
        paths[f"/{entity.set_name}({{id}})"] = _entity(entity)
        for link in entity.links:
            target = ENTITY_TYPES[link.target]
            route = f"/{entity.set_name}({{id}})/{link.name}"
            paths[route] = _navigation(entity, link.name, target, link.to_many)
    paths["/$batch"] = {
        "post": {
            "summary": "Several requests in one (JSON or multipart/mixed)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _BATCH},
                    "multipart/mixed": {"schema": {"type": "string"}},
                },
            },
            "responses": {"200": {"description": "One response per request"}, "400": _PROBLEM},
        }
    }
    paths.update(extension_paths())
    paths["/CreateObservations"] = {
        "post": {
            "summary": "Create Observations in the dataArray format",
            "requestBody": _body(_DATA_ARRAY),
            "responses": {"201": {"description": "selfLinks, or 'error' per row"}, "400": _PROBLEM},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Stadtkern SensorThings API 1.1", "version": __version__},
        "servers": [{"url": base_url}],
        "security": [{"basic": []}, {"bearer": []}, {}],
        "paths": paths,
        "components": {
            "schemas": {
                **{entity.name: _schema(entity) for entity in ENTITY_TYPES.values()},
                **{f"{e.name}Link": _LINK for e in ENTITY_TYPES.values()},
                **{f"{e.name}Nested": _schema(e, request=True) for e in ENTITY_TYPES.values()},
                **{f"{e.name}Create": _create(e) for e in ENTITY_TYPES.values()},
                **{f"{e.name}Update": _update(e, replace=False) for e in ENTITY_TYPES.values()},
                **{f"{e.name}Replace": _update(e, replace=True) for e in ENTITY_TYPES.values()},
                "Problem": {"type": "object", "required": ["title", "status", "detail"]},
            },
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "API key as password"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _schema(entity: EntityType, *, request: bool = False) -> dict[str, Any]:
    """The entity as the server sends it; with `request`, as a deep insert nests it."""
    properties: dict[str, Any] = {
        "@iot.id": {"type": "integer", "format": "int64", "readOnly": True},
        "@iot.selfLink": {"type": "string", "format": "uri", "readOnly": True},
    }
    for field in entity.fields:
        properties[field.name] = _field_schema(field)
    if entity.name == "MultiDatastream":
        properties["observationType"] = {"const": OM_COMPLEX}
    for link in entity.links:
        target: dict[str, Any]
        if request:
            target = {"anyOf": [_link(link.target), _ref(f"{link.target}Nested")]}
        else:
            target = _ref(link.target)
        properties[link.name] = {"type": "array", "items": target} if link.to_many else target
        properties[f"{link.name}@iot.navigationLink"] = {"type": "string", "readOnly": True}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [field.name for field in entity.fields if field.required],
    }
    if request:
        # The server refuses unknown members ("Thing has no properties 'x'").
        schema["additionalProperties"] = False
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _link(target: str) -> dict[str, str]:
    """A link to an existing entity of `target` by its @iot.id."""
    return _ref(f"{target}Link")


def _create(entity: EntityType) -> dict[str, Any]:
    """A POST body: the entity with the links it cannot be created without."""
    schema = _schema(entity, request=True)
    links = [link.name for link in entity.links if link.required and not link.to_many]
    schema["required"] = [*schema["required"], *links]
    if entity.name == "Observation":
        # Exactly one stream: a Datastream or a MultiDatastream.
        schema["oneOf"] = [{"required": ["Datastream"]}, {"required": ["MultiDatastream"]}]
    return schema


def _update(entity: EntityType, *, replace: bool) -> dict[str, Any]:
    """A PATCH (JSON merge) or PUT body: fields (all required ones for PUT), links by @iot.id."""
    schema = _schema(entity, request=True)
    for link in entity.links:
        target = _link(link.target)
        schema["properties"][link.name] = (
            {"type": "array", "items": target} if link.to_many else target
        )
    return schema if replace else {**schema, "required": []}


def _field_schema(field: Field) -> dict[str, Any]:
    schema = dict(
        _REQUIRED.get(field.kind, _SCHEMAS[field.kind]) if field.required else _SCHEMAS[field.kind]
    )
    if not field.writable:
        schema["readOnly"] = True
    return schema


def _collection(entity: EntityType) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.name}"}
    return {
        "get": {
            "summary": f"List {entity.set_name}",
            "parameters": _query_options(),
            "responses": {"200": _page(ref), "400": _PROBLEM, "401": _PROBLEM},
        },
        "post": {
            "summary": f"Create a {entity.name} (deep insert allowed)",
            "requestBody": _body({"$ref": f"#/components/schemas/{entity.name}Create"}),
            "responses": {"201": _one(ref), "400": _PROBLEM, "401": _PROBLEM},
        },
    }


def _entity(entity: EntityType) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.name}"}
    answers = {"200": _one(ref), "400": _PROBLEM, "404": _PROBLEM}
    update = {"$ref": f"#/components/schemas/{entity.name}Update"}
    patch_body = {
        "required": True,
        "content": {
            "application/json": {"schema": update},
            "application/json-patch+json": {"schema": _JSON_PATCH},
        },
    }
    return {
        "parameters": [_id()],
        "get": {"summary": f"One {entity.name}", "responses": answers},
        "patch": {
            "summary": "Update (JSON merge or JSON Patch)",
            "requestBody": patch_body,
            "responses": answers,
        },
        "put": {
            "summary": "Replace",
            "requestBody": _body({"$ref": f"#/components/schemas/{entity.name}Replace"}),
            "responses": answers,
        },
        "delete": {
            "summary": "Delete (with the standard's cascades)",
            "responses": {"200": {"description": "Deleted"}, "404": _PROBLEM},
        },
    }


def _navigation(entity: EntityType, name: str, target: EntityType, many: bool) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{target.name}"}
    operation: dict[str, Any] = {
        "summary": f"The {name} of a {entity.name}",
        "responses": {"200": _page(ref) if many else _one(ref), "404": _PROBLEM},
    }
    if many:
        operation["parameters"] = _query_options()
    return {"parameters": [_id()], "get": operation}


def _id() -> dict[str, Any]:
    schema = {"type": "integer", "format": "int64"}
    return {"name": "id", "in": "path", "required": True, "schema": schema}


def _query_options() -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "schema": {"type": kind}, "description": text}
        for name, kind, text in _OPTIONS
    ]


def _one(ref: dict[str, Any]) -> dict[str, Any]:
    return {"description": "The entity", "content": {"application/json": {"schema": ref}}}


def _page(ref: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "value": {"type": "array", "items": ref},
            "@iot.count": {"type": "integer"},
            "@iot.nextLink": {"type": "string", "format": "uri"},
        },
    }
    return {
        "description": "A page of entities",
        "content": {"application/json": {"schema": schema}},
    }


def _body(schema: dict[str, Any], *media_types: str) -> dict[str, Any]:
    types = media_types or ("application/json",)
    return {"required": True, "content": {kind: {"schema": schema} for kind in types}}
