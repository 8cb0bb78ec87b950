"""A town for the fast-read tests: Things with Locations and Datastreams, written over HTTP.

    town = Town.make(client, make_tenant, database)
    thing, stream = town.stream("Lantern 1", kind="lantern", at=(7.7689, 49.4447))
    town.observe(stream, [(datetime(...), 21.5), ...])
    town.json("Datastreams/$latest", [("kind", "lantern")])

`with_settings(...)` answers through a dispatcher with other module settings (count limits,
page sizes) on the same database and tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from stadtkern.core import tenants
from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import StadtkernError
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest
from stadtkern.sensorthings.models import LatestObservation, Observation
from stadtkern.sensorthings.settings import SensorThingsSettings
from stadtkern.sensorthings.times import format_instant
from tests.conftest import TenantFixture

Json = dict[str, Any]
Query = list[tuple[str, str]]
HOST = "http://testserver"
CELSIUS = {"name": "degree Celsius", "symbol": "°C", "definition": "ucum:Cel"}
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def untokened(link: str) -> str:
    """A nextLink with its opaque `$skiptoken` value shown as `…` (keyset paging)."""
    head, found, _token = link.partition("$skiptoken=")
    return f"{head}$skiptoken=…" if found else link


def tokenless(page: Json) -> Json:
    """The page with its nextLink's `$skiptoken` value shown as `…`."""
    link = page.get("@iot.nextLink")
    return page if not isinstance(link, str) else {**page, "@iot.nextLink": untokened(link)}


@dataclass
class Town:
    """A tenant with the SensorThings module, read and written over HTTP as its admin."""

    client: TestClient
    database: Database
    tenant: TenantFixture

    @classmethod
    def make(
        cls,
        client: TestClient,
        make_tenant: Callable[..., TenantFixture],
        database: Database,
    ) -> Town:
        """A new town of its own."""
        return cls(client, database, make_tenant(modules=["sensorthings"]))

    @property
    def base(self) -> str:
        """The service root's path."""
        return f"/{self.tenant.slug}/v1.1"

    def get(self, path: str, query: Query | None = None) -> Any:
        """The raw response of a GET."""
        params: Any = query
        return self.client.get(f"{self.base}/{path}", params=params, headers=self.tenant.headers)

    def json(self, path: str, query: Query | None = None) -> Json:
        """The body of a GET that must succeed."""
        answer = self.get(path, query)
        assert answer.status_code == 200, answer.text
        body: Json = answer.json()
        return body

    def follow(self, link: str) -> Json:
        """The body of a nextLink."""
        answer = self.client.get(link.removeprefix(HOST), headers=self.tenant.headers)
        assert answer.status_code == 200, answer.text
        body: Json = answer.json()
        return body

    def problem(self, path: str, query: Query | None = None, status: int = 400) -> str:
        """The detail of a GET that must fail with `status` as problem+json."""
        answer = self.get(path, query)
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        detail: str = answer.json()["detail"]
        return detail

    def post(self, path: str, body: Any) -> Any:
        """The raw response of a POST."""
        return self.client.post(f"{self.base}/{path}", json=body, headers=self.tenant.headers)

    def stream(
        self,
        name: str,
        *,
        kind: str | None = None,
        at: tuple[float, float] | None = None,
        streams: int = 1,
    ) -> tuple[int, list[int]]:
        """A Thing (with `properties.kind` and a Location, if given) and its Datastreams."""
        thing: Json = {"name": name, "description": name, "properties": {"district": "Mitte"}}
        if kind is not None:
            thing["properties"]["kind"] = kind
        if at is not None:
            thing["Locations"] = [
                {
                    "name": f"{name} place",
                    "description": "mast",
                    "encodingType": "application/geo+json",
                    "location": {"type": "Point", "coordinates": list(at)},
                }
            ]
        thing["Datastreams"] = [
            {
                "name": f"{name} stream {index}",
                "description": "temperature",
                "observationType": MEASUREMENT,
                "unitOfMeasurement": CELSIUS,
                "Sensor": {
                    "name": "thermometer",
                    "description": "PT100",
                    "encodingType": "text/html",
                    "metadata": "https://example.org/pt100",
                },
                "ObservedProperty": {
                    "name": "temperature",
                    "definition": "https://example.org/temperature",
                    "description": "air temperature",
                },
            }
            for index in range(streams)
        ]
        created = self.post("Things", thing)
        assert created.status_code == 201, created.text
        thing_id = int(created.json()["@iot.id"])
        listed = self.json(f"Things({thing_id})/Datastreams", [("$select", "id")])
        return thing_id, [int(entity["@iot.id"]) for entity in listed["value"]]

    def observe(self, stream: int, rows: Sequence[tuple[datetime, Any]]) -> None:
        """Observations (phenomenonTime, result) of a Datastream, by CreateObservations."""
        for start in range(0, len(rows), 5000):
            part = rows[start : start + 5000]
            body = [
                {
                    "Datastream": {"@iot.id": stream},
                    "components": ["phenomenonTime", "result"],
                    "dataArray": [[format_instant(moment), result] for moment, result in part],
                }
            ]
            answer = self.post("CreateObservations", body)
            assert answer.status_code == 201, answer.text
            errors = [link for link in answer.json() if not link.startswith("http")]
            assert not errors, errors[:3]

    def ref(self) -> TenantRef:
        """The tenant as the dispatcher sees it."""
        with self.database.read() as session:
            found = tenants.find_active(session=session, slug=self.tenant.slug)
        assert found is not None
        return found

    def with_settings(self, path: str, query: Query, **settings: Any) -> Json:
        """The body of a GET answered under other module settings; raises StadtkernError."""
        dispatcher = Dispatcher(self.database, SensorThingsSettings(**settings))
        answer = dispatcher.handle(
            self.ref(),
            StaRequest("GET", path, query),
            base_url=f"{HOST}{self.base}",
            may_write=False,
        )
        assert answer.status == 200
        # JSON the database wrote arrives encoded (`Datastreams/$latest` on PostgreSQL)
        body: Json = json.loads(answer.body) if isinstance(answer.body, bytes) else answer.body
        return body

    def failure(self, path: str, query: Query, **settings: Any) -> str:
        """The message of a GET that fails under these settings."""
        try:
            self.with_settings(path, query, **settings)
        except StadtkernError as error:
            return str(error.detail)
        raise AssertionError("the request succeeded")

    def latest_rows(self) -> dict[int, int]:
        """datastream id -> observation id of `sta_latest_observation` for this town."""
        table = LatestObservation.__table__
        with self.database.read() as session:
            rows = session.execute(
                select(table.c.datastream_id, table.c.observation_id).where(
                    table.c.tenant_id == self.ref().id
                )
            ).all()
        return {int(stream): int(observation) for stream, observation in rows}

    def newest(self) -> dict[int, int]:
        """datastream id -> id of its newest Observation, computed from the Observations."""
        table = Observation.__table__
        with self.database.read() as session:
            rows = session.execute(
                select(table.c.datastream_id, table.c.id, table.c.phenomenon_time_start).where(
                    table.c.tenant_id == self.ref().id, table.c.datastream_id.is_not(None)
                )
            ).all()
        best: dict[int, tuple[datetime, int]] = {}
        for stream, observation, moment in rows:
            key = (moment, int(observation))
            if int(stream) not in best or key > best[int(stream)]:
                best[int(stream)] = key
        return {stream: observation for stream, (_, observation) in best.items()}


def fill_latest(town: Town) -> None:
    """Write the latest row of each of the town's Datastreams that has none yet.

    The ingest and the writer keep `sta_latest_observation` (engineer I's part); where a row
    is there already, it must be the one the Observations give.
    """
    table = LatestObservation.__table__
    observations = Observation.__table__
    kept, newest = town.latest_rows(), town.newest()
    for stream, observation in kept.items():
        assert newest.get(stream) == observation, f"latest of Datastream {stream} is stale"
    missing = [observation for stream, observation in newest.items() if stream not in kept]
    if not missing:
        return
    columns = [column.name for column in table.c if column.name != "observation_id"]
    with town.database.write() as session:
        rows = session.execute(
            select(observations.c.id, *(observations.c[name] for name in columns)).where(
                observations.c.id.in_(missing)
            )
        ).mappings()
        values = [
            {"observation_id": row["id"], **{name: row[name] for name in columns}} for row in rows
        ]
        session.execute(insert(LatestObservation), values)
