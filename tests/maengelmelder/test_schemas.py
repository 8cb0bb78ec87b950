"""JSON answers validated against the Open311 GeoReport v2 schemas of open311/schema-validation
(tests/maengelmelder/data, with their licence); every date-time is also parsed strictly."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.maengelmelder.conftest import Town, post_report
from tests.maengelmelder.images import jpeg_with_gps

DATA = Path(__file__).parent / "data"
NAMES = ("request", "requests", "service", "services", "service-definition")


def _registry() -> Registry[Any]:
    resources = [
        (
            f"{name}.json",
            Resource.from_contents(
                json.loads((DATA / f"{name}.json").read_text()), default_specification=DRAFT4
            ),
        )
        for name in NAMES
    ]
    return Registry().with_resources(resources)  # type: ignore[arg-type]


REGISTRY = _registry()


def validate(name: str, document: Any) -> None:
    """Validate against one schema file; also parse every *_datetime strictly."""
    schema = json.loads((DATA / f"{name}.json").read_text())
    validator = Draft4Validator(schema, registry=REGISTRY, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, errors[0]
    items = document if isinstance(document, list) else [document]
    for item in items:
        for key, value in item.items():
            if key.endswith("_datetime") and value is not None:
                assert datetime.fromisoformat(value).tzinfo is not None


def test_schema_files_are_the_published_ones() -> None:
    """The copies are complete: each is a schema with its description or items."""
    for name in NAMES:
        schema = json.loads((DATA / f"{name}.json").read_text())
        Draft4Validator.check_schema(schema)
    assert (DATA / "LICENSE.md").exists()


@pytest.mark.parametrize("kind", ["services", "definition", "requests", "created"])
def test_answers_match_the_schemas(client: TestClient, town: Town, kind: str) -> None:
    """services, service definition and requests (with and without photo) are valid."""
    if kind == "services":
        validate("services", client.get(f"{town.v2}/services.json").json())
        for service in client.get(f"{town.v2}/services.json").json():
            validate("service", service)
    elif kind == "definition":
        validate("service-definition", client.get(f"{town.v2}/services/pothole.json").json())
        validate("service-definition", client.get(f"{town.v2}/services/streetlight.json").json())
    elif kind == "requests":
        post_report(client, town)
        answer = client.post(
            f"{town.v2}/requests.json",
            data={"api_key": town.app, "service_code": "streetlight",
                  "address_string": "Marktstraße 3"},
            files={"media": ("lamp.jpg", jpeg_with_gps(), "image/jpeg")},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        listing = client.get(f"{town.v2}/requests.json").json()
        assert len(listing) == 2
        validate("requests", listing)
        assert listing[0]["media_url"].endswith(".jpg")
        assert listing[0]["lat"] is None
        extended = client.get(f"{town.v2}/requests.json?extensions=true").json()
        validate("requests", extended)
    else:
        request_id = post_report(client, town)
        validate("requests", client.get(f"{town.v2}/requests/{request_id}.json").json())
