"""Fixtures of the SensorThings conformance suite: a client bound to a fresh tenant, and builders.

Every test gets its own tenant with the `sensorthings` module on, so the tests share the
session's platform (one per backend) without seeing each other's entities. The builders go
through the HTTP API only, so what a test counts is what a client would see.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

Json = dict[str, Any]
HOST = "http://testserver"
PROBLEM_JSON = "application/problem+json"

# Kaiserslautern: the Stiftskirche, the Fritz-Walter-Stadion and the Hauptbahnhof.
STIFTSKIRCHE = (7.7689, 49.4447)
STADION = (7.7760, 49.4345)
HAUPTBAHNHOF = (7.7682, 49.4367)
# Kusel, about 27 km to the west.
KUSEL = (7.3990, 49.5380)

SENSING = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
TASKING = "http://www.opengis.net/spec/iot_tasking/1.0/req/"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
OM_COMPLEX = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
OM_TRUTH = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_TruthObservation"
OM_CATEGORY = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CategoryObservation"
OM_OBSERVATION = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation"
GEOJSON = "application/geo+json"
CELSIUS = {
    "name": "degree Celsius",
    "symbol": "°C",
    "definition": "http://unitsofmeasure.org/ucum.html#para-30",
}


def point(coordinates: tuple[float, float]) -> Json:
    """A GeoJSON Point."""
    return {"type": "Point", "coordinates": [coordinates[0], coordinates[1]]}


def box(west: float, south: float, east: float, north: float) -> Json:
    """A GeoJSON Polygon of a longitude/latitude box."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def wkt_box(west: float, south: float, east: float, north: float) -> str:
    """The same box as a WKT literal for $filter."""
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


# --- the client -----------------------------------------------------------------------------


@dataclass
class Sta:
    """A SensorThings client bound to one tenant's service root, as its administrator."""

    client: TestClient
    database: Database
    tenant: TenantFixture
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The tenant's slug."""
        return self.tenant.slug

    @property
    def root(self) -> str:
        """Path of the service root, without a trailing slash."""
        return f"/{self.slug}/v1.1"

    @property
    def service_url(self) -> str:
        """Absolute URL of the service root, as selfLinks start."""
        return f"{HOST}{self.root}"

    def url(self, resource: str) -> str:
        """A resource path relative to the service root, or an absolute URL, as a request URL."""
        if resource.startswith(("http://", "https://", "/")):
            return resource
        return f"{self.root}/{resource}" if resource else self.root

    def link(self, entity_set: str, entity_id: int) -> str:
        """The selfLink of an entity."""
        return f"{self.service_url}/{entity_set}({entity_id})"

    def as_role(self, *roles: str) -> Sta:
        """The same tenant, seen with a key of other roles (no roles: anonymous)."""
        headers = {}
        if roles:
            token = issue_token(self.database, tenant=self.slug, roles=list(roles))
            headers = {"Authorization": f"Bearer {token}"}
        return Sta(self.client, self.database, self.tenant, headers)

    # plain requests

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {**self.headers, **(extra or {})}

    def get(
        self,
        resource: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        """GET a resource."""
        return self.client.get(self.url(resource), params=params, headers=self._headers(headers))

    def post(
        self,
        resource: str,
        body: Any = None,
        *,
        content: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        """POST JSON (or raw content) to a resource."""
        if content is not None:
            return self.client.post(
                self.url(resource), content=content, headers=self._headers(headers)
            )
        return self.client.post(self.url(resource), json=body, headers=self._headers(headers))

    def patch(
        self,
        resource: str,
        body: Any,
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx2.Response:
        """PATCH a resource with a JSON body (merge patch unless another content type)."""
        if content_type is None:
            return self.client.patch(self.url(resource), json=body, headers=self._headers(headers))
        return self.client.patch(
            self.url(resource),
            content=json.dumps(body),
            headers=self._headers({**(headers or {}), "Content-Type": content_type}),
        )

    def put(self, resource: str, body: Any) -> httpx2.Response:
        """PUT a resource."""
        return self.client.put(self.url(resource), json=body, headers=self.headers)

    def delete(self, resource: str) -> httpx2.Response:
        """DELETE a resource."""
        return self.client.delete(self.url(resource), headers=self.headers)

    # checked requests

    def create(self, resource: str, body: Json) -> Json:
        """POST an entity, insist on 201, and return the created entity."""
        response = self.post(resource, body)
        assert response.status_code == 201, f"POST {resource}: {response.text}"
        created: Json = response.json()
        return created

    def create_id(self, resource: str, body: Json) -> int:
        """POST an entity and return its @iot.id."""
        created_id = self.create(resource, body)["@iot.id"]
        assert isinstance(created_id, int), created_id
        return created_id

    def read(self, resource: str, params: dict[str, str] | None = None) -> Json:
        """GET a resource, insist on 200 and return its JSON."""
        response = self.get(resource, params)
        assert response.status_code == 200, f"GET {resource} {params}: {response.text}"
        data: Json = response.json()
        return data

    def values(self, resource: str, params: dict[str, str] | None = None) -> list[Json]:
        """All entities of a collection, following @iot.nextLink."""
        page = self.read(resource, params)
        found: list[Json] = list(page["value"])
        pages = 1
        while "@iot.nextLink" in page:
            pages += 1
            assert pages < 100, "nextLink does not end"
            page = self.read(page["@iot.nextLink"])
            found.extend(page["value"])
        return found

    def ids(self, resource: str, params: dict[str, str] | None = None) -> list[int]:
        """The @iot.ids of a collection, in the order served."""
        return [entity["@iot.id"] for entity in self.values(resource, params)]

    def count(self, resource: str) -> int:
        """How many entities a collection holds, counted by reading all of it."""
        return len(self.values(resource))


@pytest.fixture
def make_sta(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> Callable[[], Sta]:
    """Factory of clients, each bound to a new tenant with the sensorthings module on."""

    def make() -> Sta:
        tenant = make_tenant(modules=["sensorthings"])
        return Sta(client, database, tenant, tenant.headers)

    return make


@pytest.fixture
def sta(make_sta: Callable[[], Sta]) -> Sta:
    """A client of a fresh tenant's SensorThings service, as its administrator."""
    return make_sta()


def basic_auth(token: str, username: str = "sensor-gateway") -> dict[str, str]:
    """HTTP Basic credentials with the API key as the password."""
    encoded = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


# --- entity bodies ----------------------------------------------------------------------------


def thing_body(name: str = "Laterne 1", **extra: Any) -> Json:
    """A Thing."""
    return {"name": name, "description": f"{name} in der Altstadt", **extra}


def location_body(name: str = "Stiftskirche", geometry: Json | None = None, **extra: Any) -> Json:
    """A Location with a GeoJSON geometry."""
    return {
        "name": name,
        "description": f"Standort {name}",
        "encodingType": GEOJSON,
        "location": geometry if geometry is not None else point(STIFTSKIRCHE),
        **extra,
    }


def sensor_body(name: str = "DS18B20", **extra: Any) -> Json:
    """A Sensor."""
    return {
        "name": name,
        "description": "Temperaturfühler",
        "encodingType": "application/pdf",
        "metadata": "https://datasheets.maximintegrated.com/en/ds/DS18B20.pdf",
        **extra,
    }


def observed_property_body(name: str = "Lufttemperatur", **extra: Any) -> Json:
    """An ObservedProperty."""
    return {
        "name": name,
        "description": "Temperatur der Luft",
        "definition": "http://dbpedia.org/page/Temperature",
        **extra,
    }


def datastream_body(
    thing: int | Json, sensor: int | Json, observed_property: int | Json, **extra: Any
) -> Json:
    """A Datastream; each relation either an @iot.id to link or a nested entity to create."""

    def ref(value: int | Json) -> Json:
        return {"@iot.id": value} if isinstance(value, int) else value

    body: Json = {
        "name": "Lufttemperatur Laterne 1",
        "description": "Temperatur an der Laterne",
        "unitOfMeasurement": CELSIUS,
        "observationType": OM_MEASUREMENT,
        "Thing": ref(thing),
        "Sensor": ref(sensor),
        "ObservedProperty": ref(observed_property),
    }
    body.update(extra)
    return body


def feature_body(name: str = "Stiftskirche", geometry: Json | None = None, **extra: Any) -> Json:
    """A FeatureOfInterest."""
    return {
        "name": name,
        "description": f"Umgebung {name}",
        "encodingType": GEOJSON,
        "feature": geometry if geometry is not None else point(STIFTSKIRCHE),
        **extra,
    }


def actuator_body(name: str = "Sirene Rathaus", **extra: Any) -> Json:
    """An Actuator."""
    return {
        "name": name,
        "description": "Warnsirene auf dem Rathaus",
        "encodingType": "application/pdf",
        "metadata": "https://example.org/sirene.pdf",
        **extra,
    }


SIREN_PARAMETERS: Json = {
    "type": "DataRecord",
    "field": [
        {
            "name": "signal",
            "label": "Signal",
            "description": "Welches Signal die Sirene gibt",
            "definition": "https://example.org/def/sirensignal",
            "constraint": {"type": "AllowedTokens", "value": ["warning", "all-clear", "test"]},
            "type": "Category",
        },
        {
            "name": "durationSeconds",
            "label": "Dauer",
            "description": "Wie lange das Signal ertönt",
            "definition": "https://example.org/def/duration",
            "constraint": {"type": "AllowedValues", "interval": [[10, 300]]},
            "uom": {"code": "s"},
            "type": "Quantity",
        },
    ],
}


# --- graphs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    """A Thing at a Location with one Datastream (its Sensor and ObservedProperty)."""

    thing: int
    location: int
    sensor: int
    observed_property: int
    datastream: int


def make_graph(
    sta: Sta,
    *,
    name: str = "Laterne 1",
    at: tuple[float, float] = STIFTSKIRCHE,
    properties: Json | None = None,
) -> Graph:
    """Create a Thing, its Location, a Sensor, an ObservedProperty and a Datastream, one by one."""
    location = sta.create_id("Locations", location_body(f"Standort {name}", point(at)))
    extra: Json = {"Locations": [{"@iot.id": location}]}
    if properties is not None:
        extra["properties"] = properties
    thing = sta.create_id("Things", thing_body(name, **extra))
    sensor = sta.create_id("Sensors", sensor_body(f"Sensor {name}"))
    observed_property = sta.create_id(
        "ObservedProperties", observed_property_body(f"Temperatur {name}")
    )
    datastream = sta.create_id(
        "Datastreams",
        datastream_body(thing, sensor, observed_property, name=f"Temperatur {name}"),
    )
    return Graph(thing, location, sensor, observed_property, datastream)


def add_observations(
    sta: Sta, datastream: int, rows: list[tuple[str, Any]], **extra: Any
) -> list[int]:
    """POST Observations (phenomenonTime, result) to a Datastream; return their ids."""
    return [
        sta.create_id(
            f"Datastreams({datastream})/Observations",
            {"phenomenonTime": when, "result": result, **extra},
        )
        for when, result in rows
    ]


# --- assertions -------------------------------------------------------------------------------


def assert_problem(response: httpx2.Response, status: int) -> Json:
    """The response is an RFC 9457 problem of that status; return its body."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    problem: Json = response.json()
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["detail"], str)
    assert problem["detail"]
    return problem


def assert_client_error(response: httpx2.Response, *statuses: int) -> Json:
    """The response is a problem with one of these 4xx statuses (default: 400)."""
    allowed = statuses or (400,)
    assert response.status_code in allowed, f"{response.status_code}: {response.text}"
    return assert_problem(response, response.status_code)


def same_json(actual: Any, expected: Any) -> bool:
    """Equal as JSON values: numbers by value, but booleans never equal numbers."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(actual) == float(expected)
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(same_json(actual[key], expected[key]) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_json(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and bool(actual == expected)


def instant(text: str) -> datetime:
    """An ISO 8601 date-time with a zone (Z or an offset) as an aware datetime."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{text} has no time zone"
    return parsed


def time_value(text: str) -> tuple[datetime, datetime]:
    """An instant or an ISO 8601 interval `start/end` as (start, end)."""
    if "/" in text:
        start, end = text.split("/")
        return instant(start), instant(end)
    moment = instant(text)
    return moment, moment


def same_time(actual: str | None, expected: str) -> bool:
    """Whether two time values (instant or interval) mean the same times and the same kind."""
    if actual is None:
        return False
    if ("/" in actual) != ("/" in expected):
        return False
    return time_value(actual) == time_value(expected)
