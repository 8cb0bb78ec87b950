"""The PyPI client `georeport` reads services, definitions and requests, in JSON and XML,
from a platform served by uvicorn (the way third-party apps use the API)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from georeport import GeoReport

from stadtkern.db import Database
from tests.conftest import free_port, make_settings, serving
from tests.maengelmelder.conftest import Town, post_report


@pytest.fixture
def served(database: Database, mosquitto_url: str) -> Iterator[str]:
    """The platform on a real port over the session's database; its base URL."""
    port = free_port()
    settings = make_settings(
        database.url.render_as_string(hide_password=False), mosquitto_url, port=port
    )
    with serving(settings) as base:
        yield base


@pytest.mark.parametrize("output", ["json", "xml"])
def test_georeport_reads_the_town(client: TestClient, town: Town, served: str, output: str) -> None:
    """Services, a definition, the request list and one request, as the client parses them."""
    first = post_report(client, town, description="Loch eins")
    second = post_report(client, town, description="Loch zwei")
    api = GeoReport(f"{served}{town.v2}", jurisdiction=town.slug, output_format=output)
    services = api.get_service_list()
    assert [s["service_code"] for s in services] == ["pothole", "streetlight"]
    definition = api.get_service_definition("pothole")
    attributes = definition["attributes"]
    if output == "xml":
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes][:2] == ["depth", "surface"]
    listing = api.get_service_requests(status="open", service_code="pothole")
    assert [r["service_request_id"] for r in listing] == [second, first]
    one = api.get_service_request(first)
    if output == "xml":
        assert one["service_request_id"] == first
    else:
        assert one["description"] == "Loch eins"
    filtered = api.get_service_requests(service_request_id=second)
    if output == "xml":  # xmltodict gives a single element as a mapping, not a list
        assert filtered["service_request_id"] == second
    else:
        assert [r["service_request_id"] for r in filtered] == [second]
