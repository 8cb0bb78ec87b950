"""An OpenAPI 3.1 description of a tenant's SensorThings service, built from the catalogue."""

from __future__ import annotations

from typing import Any

from stadtkern import __version__
from stadtkern.sensorthings.catalogue import ENTITY_TYPES
from stadtkern.sensorthings.entities import EntityType, Field, FieldKind

_TIME = {"type": "string", "description": "ISO 8601 instant or interval (start/end)"}
_SCHEMAS: dict[FieldKind, dict[str, Any]] = {
    FieldKind.TEXT: {"type": "string"},
    FieldKind.OBJECT: {"type": ["object", "null"]},
    FieldKind.ANY: {},
    FieldKind.LIST: {"type": "array"},
    FieldKind.GEOJSON: {"type": "object", "description": "GeoJSON geometry or Feature"},
    FieldKind.AREA: {"type": ["object", "null"], "description": "GeoJSON geometry"},
    FieldKind.INSTANT: {"type": ["string", "null"], "format": "date-time"},
    FieldKind.INTERVAL: _TIME,
    FieldKind.TIME: _TIME,
    FieldKind.RESULT: {"description": "any JSON value"},
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
            "requestBody": _body({"type": "object"}, "application/json", "multipart/mixed"),
            "responses": {"200": {"description": "One response per request"}, "400": _PROBLEM},
        }
    }
    paths["/CreateObservations"] = {
        "post": {
            "summary": "Create Observations in the dataArray format",
            "requestBody": _body({"type": "array"}),
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
                "Problem": {"type": "object", "required": ["title", "status", "detail"]},
            },
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "API key as password"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _schema(entity: EntityType) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "@iot.id": {"type": "integer", "format": "int64", "readOnly": True},
        "@iot.selfLink": {"type": "string", "format": "uri", "readOnly": True},
    }
    for field in entity.fields:
        properties[field.name] = _field_schema(field)
    for link in entity.links:
        target = {"$ref": f"#/components/schemas/{link.target}"}
        properties[link.name] = {"type": "array", "items": target} if link.to_many else target
        properties[f"{link.name}@iot.navigationLink"] = {"type": "string", "readOnly": True}
    required = [field.name for field in entity.fields if field.required]
    return {"type": "object", "properties": properties, "required": required}


def _field_schema(field: Field) -> dict[str, Any]:
    schema = dict(_SCHEMAS[field.kind])
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
            "requestBody": _body(ref),
            "responses": {"201": _one(ref), "400": _PROBLEM, "401": _PROBLEM},
        },
    }


def _entity(entity: EntityType) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{entity.name}"}
    answers = {"200": _one(ref), "400": _PROBLEM, "404": _PROBLEM}
    patch_types = ("application/json", "application/json-patch+json")
    return {
        "parameters": [_id()],
        "get": {"summary": f"One {entity.name}", "responses": answers},
        "patch": {
            "summary": "Update (JSON merge or JSON Patch)",
            "requestBody": _body(ref, *patch_types),
            "responses": answers,
        },
        "put": {"summary": "Replace", "requestBody": _body(ref), "responses": answers},
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
