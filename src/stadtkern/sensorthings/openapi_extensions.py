"""OpenAPI paths of Stadtkern's extensions to the SensorThings API: latest values, aggregates."""

from __future__ import annotations

from typing import Any

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM = {
    "description": "Problem",
    "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
}
_JSON_PAGE = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": "array", "items": {"type": "object"}}},
}


def _query(
    name: str, schema: dict[str, Any], text: str, *, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": text,
    }


def extension_paths() -> dict[str, Any]:
    """`Datastreams/$latest` and `Datastreams({id})/Observations/$aggregate`."""
    page = {"description": "Values", "content": {"application/json": {"schema": _JSON_PAGE}}}
    latest = {
        "get": {
            "summary": "The latest Observation of every Datastream (map views)",
            "parameters": [
                _query("bbox", {"type": "string"}, "minLon,minLat,maxLon,maxLat"),
                _query("kind", {"type": "string"}, "the Thing's properties/kind"),
                _query("$top", {"type": "integer"}, "page size"),
                _query("$skip", {"type": "integer"}, "entries to skip"),
                _query("$count", {"type": "boolean"}, "include @iot.count"),
                _query("$skiptoken", {"type": "string"}, "continue after a page"),
                _query("countMode", {"enum": ["exact", "estimate", "limited"]}, "how to count"),
            ],
            "responses": {"200": page, "400": _PROBLEM, "401": _PROBLEM},
        }
    }
    aggregate = {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "get": {
            "summary": "Aggregates of a Datastream's numeric results per time bucket",
            "parameters": [
                _query(
                    "interval", {"type": "string"}, "ISO 8601 duration, e.g. PT1H", required=True
                ),
                _query("fn", {"type": "string"}, "avg,min,max,count,sum"),
                _query("from", {"type": "string", "format": "date-time"}, "inclusive start"),
                _query("to", {"type": "string", "format": "date-time"}, "exclusive end"),
            ],
            "responses": {"200": page, "400": _PROBLEM, "404": _PROBLEM},
        },
    }
    return {
        "/Datastreams/$latest": latest,
        "/Datastreams({id})/Observations/$aggregate": aggregate,
    }
