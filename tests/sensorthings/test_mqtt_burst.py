"""MQTT create in bursts: the messages that arrived together become one ingest submission,
and each message gets its own outcome, on both backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import Unavailable
from stadtkern.modules.contract import InboundMessage
from stadtkern.sensorthings.dispatch import Dispatcher
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.mqtt_create import create_from_burst
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta, make_graph
from tests.sensorthings.test_ingest import platform_of, stored, tenant_ref

BASE_URL = "http://stadt.example"


@pytest.fixture
def sta(client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]) -> Sta:
    """A client of a fresh tenant's SensorThings service."""
    tenant = make_tenant(modules=["sensorthings"])
    return Sta(client, database, tenant, tenant.headers)


def dispatcher_of(sta: Sta) -> Dispatcher:
    dispatcher = platform_of(sta.client).contexts["sensorthings"].extras["dispatcher"]
    assert isinstance(dispatcher, Dispatcher)
    assert dispatcher.ingest is not None
    return dispatcher


def published(tenant: TenantRef, topic: str, body: Any) -> InboundMessage:
    """A message as the router hands it over (tenant prefix removed from the topic)."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundMessage(tenant, topic, payload, qos=1, retain=False)


class CountedSubmissions:
    """Counts the submissions the pipeline receives, passing them on."""

    def __init__(self, pipeline: IngestPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows: list[int] = []
        submit = pipeline.submit

        async def counted(tenant: TenantRef, rows: list[Any], **options: Any) -> Any:
            self.rows.append(len(rows))
            return await submit(tenant, rows, **options)

        monkeypatch.setattr(pipeline, "submit", counted)


def test_a_burst_is_one_submission_and_every_message_is_answered(
    sta: Sta, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = make_graph(sta)
    dispatcher = dispatcher_of(sta)
    assert dispatcher.ingest is not None
    submissions = CountedSubmissions(dispatcher.ingest, monkeypatch)
    tenant = tenant_ref(sta.database, sta.slug)
    stream = f"v1.1/Datastreams({graph.datastream})/Observations"
    messages = [
        published(tenant, stream, {"result": 1, "phenomenonTime": "2026-12-01T08:00:00Z"}),
        published(tenant, stream, b"not json"),  # dropped: redelivery would fail the same way
        published(tenant, "v1.1/Observations", {"result": 2, "Datastream": {"@iot.id": 10**9}}),
        published(
            tenant, "v1.1/Observations", {"result": 3, "Datastream": {"@iot.id": graph.datastream}}
        ),
        published(tenant, stream, {"phenomenonTime": "2026-12-01T08:00:00Z"}),  # no result
        published(tenant, stream, {"result": 4, "@iot.selfLink": "the server's own message"}),
        published(tenant, stream, {"result": 5}),
    ]
    outcomes = asyncio.run(create_from_burst(dispatcher, messages, BASE_URL))
    # Refused messages are dropped (acknowledged) as single ones are; none is left to fail.
    assert outcomes == [None] * len(messages)
    assert sorted(stored(sta.database, graph.datastream).values()) == [1, 3, 5]
    # The rows the fast path takes went in as one submission; the one it refused (an unknown
    # Datastream) was tried again by the general writer alone, which refused it too.
    assert submissions.rows[0] == 4
    assert len(submissions.rows) == 1


def test_a_pipeline_failure_leaves_the_burst_unacknowledged(
    sta: Sta, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = make_graph(sta)
    dispatcher = dispatcher_of(sta)

    async def failing(*_args: Any, **_options: Any) -> Any:
        raise Unavailable("the Observations could not be stored: OperationalError")

    monkeypatch.setattr(dispatcher.ingest, "submit", failing)
    tenant = tenant_ref(sta.database, sta.slug)
    stream = f"v1.1/Datastreams({graph.datastream})/Observations"
    messages = [
        published(tenant, stream, {"result": 1}),
        published(tenant, stream, b"not json"),
        published(tenant, stream, {"result": 2}),
    ]
    outcomes = asyncio.run(create_from_burst(dispatcher, messages, BASE_URL))
    assert isinstance(outcomes[0], Unavailable)
    assert outcomes[1] is None  # dropped on its own merits, before the pipeline
    assert isinstance(outcomes[2], Unavailable)
    assert stored(sta.database, graph.datastream) == {}


def test_a_burst_of_two_towns_is_stored_in_each(
    sta: Sta, make_tenant: Callable[..., TenantFixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    other_town = make_tenant(modules=["sensorthings"])
    other = Sta(sta.client, sta.database, other_town, other_town.headers)
    mine, theirs = make_graph(sta), make_graph(other)
    dispatcher = dispatcher_of(sta)
    assert dispatcher.ingest is not None
    submissions = CountedSubmissions(dispatcher.ingest, monkeypatch)
    here, there = tenant_ref(sta.database, sta.slug), tenant_ref(sta.database, other.slug)
    messages = [
        published(here, f"v1.1/Datastreams({mine.datastream})/Observations", {"result": 1}),
        published(there, f"v1.1/Datastreams({theirs.datastream})/Observations", {"result": 2}),
        published(here, f"v1.1/Datastreams({mine.datastream})/Observations", {"result": 3}),
        # Another town's Datastream: the batch refuses it, and so does the general writer.
        published(there, f"v1.1/Datastreams({mine.datastream})/Observations", {"result": 4}),
    ]
    outcomes = asyncio.run(create_from_burst(dispatcher, messages, BASE_URL))
    assert outcomes == [None] * 4
    assert sorted(stored(sta.database, mine.datastream).values()) == [1, 3]
    assert sorted(stored(sta.database, theirs.datastream).values()) == [2]
    assert sorted(submissions.rows) == [2, 2]  # one submission per town
