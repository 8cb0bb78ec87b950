"""The ingest pipeline: batches in one transaction, answers after commit, backpressure,
the latest values and the stream times it keeps, on both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from stadtkern.app import create_app
from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.platform import Platform
from stadtkern.sensorthings.dispatch import Dispatcher
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.ingest.rows import plan_create
from stadtkern.sensorthings.models import LatestObservation, Observation
from tests.conftest import TenantFixture, make_settings
from tests.sensorthings.conformance.conftest import Graph, Sta, feature_body, make_graph

OBSERVATIONS = Observation.__table__
LATEST = LatestObservation.__table__


@pytest.fixture
def sta(client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]) -> Sta:
    """A client of a fresh tenant's SensorThings service."""
    tenant = make_tenant(modules=["sensorthings"])
    return Sta(client, database, tenant, tenant.headers)


def platform_of(client: TestClient) -> Platform:
    """The platform behind a test client."""
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def pipeline_of(client: TestClient) -> IngestPipeline:
    """The platform's ingest pipeline."""
    dispatcher = platform_of(client).contexts["sensorthings"].extras["dispatcher"]
    assert isinstance(dispatcher, Dispatcher)
    assert dispatcher.ingest is not None
    return dispatcher.ingest


def tenant_ref(database: Database, slug: str) -> TenantRef:
    """The tenant of a slug, as the dispatcher receives it."""
    from stadtkern.core import tenants

    with database.read() as session:
        found = tenants.find_active(session=session, slug=slug)
    assert found is not None
    return found


def stored(database: Database, datastream: int) -> dict[int, Any]:
    """Observation id -> result number of a Datastream, read straight from the table."""
    with database.read() as session:
        rows = session.execute(
            select(OBSERVATIONS.c.id, OBSERVATIONS.c.result_number).where(
                OBSERVATIONS.c.datastream_id == datastream
            )
        )
        return {int(row.id): row.result_number for row in rows}


def latest(database: Database, datastream: int) -> Any:
    """The latest-value row of a Datastream (None when it has none)."""
    with database.read() as session:
        return session.execute(select(LATEST).where(LATEST.c.datastream_id == datastream)).first()


def data_array(datastream: int, rows: list[list[Any]], **extra: Any) -> list[dict[str, Any]]:
    """A CreateObservations body of one group."""
    components = ["phenomenonTime", "result", *extra.get("components", [])]
    return [{"Datastream": {"@iot.id": datastream}, "components": components, "dataArray": rows}]


def test_create_observations_are_stored_with_stream_times_and_latest(sta: Sta) -> None:
    graph = make_graph(sta)
    rows = [[f"2025-03-0{day}T10:00:00Z", day * 1.5] for day in (3, 1, 5, 2)]
    response = sta.post("CreateObservations", data_array(graph.datastream, rows))
    assert response.status_code == 201, response.text
    links = response.json()
    assert len(links) == 4
    assert all(isinstance(link, str) for link in links)
    ids = [int(link.rsplit("(", 1)[1].rstrip(")")) for link in links]
    # Answered after the commit: every id is there, with its own values.
    assert stored(sta.database, graph.datastream) == dict(
        zip(ids, [4.5, 1.5, 7.5, 3.0], strict=False)
    )
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert datastream["phenomenonTime"] == "2025-03-01T10:00:00Z/2025-03-05T10:00:00Z"
    newest = latest(sta.database, graph.datastream)
    assert newest.observation_id == ids[2]
    assert newest.result_number == 7.5


def test_a_single_post_answers_what_a_get_returns(sta: Sta) -> None:
    graph = make_graph(sta)
    feature = sta.create_id("FeaturesOfInterest", feature_body())
    body = {
        "phenomenonTime": "2025-03-01T10:00:00+01:00/2025-03-01T10:15:00+01:00",
        "resultTime": "2025-03-01T09:16:00.250Z",
        "result": {"level": 3, "trend": [1, 2]},
        "resultQuality": "gut",
        "parameters": {"battery": 0.8},
        "FeatureOfInterest": {"@iot.id": feature},
    }
    response = sta.post(f"Datastreams({graph.datastream})/Observations", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["Location"] == created["@iot.selfLink"]
    assert created == sta.read(f"Observations({created['@iot.id']})")
    assert created["phenomenonTime"] == "2025-03-01T09:00:00Z/2025-03-01T09:15:00Z"


def test_only_bodies_linking_by_id_take_the_fast_path() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    plain = {"result": 1, "Datastream": {"@iot.id": 5}}
    assert plan_create("Observations", plain, now) is not None
    assert plan_create("Datastreams(5)/Observations", {"result": 1}, now) is not None
    assert plan_create("FeaturesOfInterest(2)/Observations", plain, now) is not None
    nested = {"result": 1, "Datastream": {"@iot.id": 5}, "FeatureOfInterest": {"name": "x"}}
    for path, body in (
        ("Observations", nested),  # a feature to create: the general writer
        ("Datastreams(5)/Observations", plain),  # Datastream twice: its error message
        ("Things(1)/Datastreams(5)/Observations", {"result": 1}),
        ("Observations", {"Datastream": {"@iot.id": 5}}),  # no result: its error message
        ("Observations", [1]),
        ("Things", {"name": "x"}),
    ):
        assert plan_create(path, body, now) is None, (path, body)


def test_errors_are_the_general_writers(sta: Sta) -> None:
    graph = make_graph(sta)
    missing = sta.post("Datastreams(987654)/Observations", {"result": 1})
    assert missing.status_code == 404
    unknown_feature = sta.post(
        f"Datastreams({graph.datastream})/Observations",
        {"result": 1, "FeatureOfInterest": {"@iot.id": 987654}},
    )
    assert unknown_feature.status_code == 400
    assert "987654" in unknown_feature.json()["detail"]
    assert stored(sta.database, graph.datastream) == {}


def test_other_tenants_streams_and_features_are_refused(
    sta: Sta, client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    other_tenant = make_tenant(modules=["sensorthings"])
    other = Sta(client, database, other_tenant, other_tenant.headers)
    theirs = make_graph(other)
    their_feature = other.create_id("FeaturesOfInterest", feature_body())
    mine = make_graph(sta)
    response = sta.post(
        "CreateObservations",
        data_array(
            mine.datastream,
            [["2025-01-01T00:00:00Z", 1, their_feature], ["2025-01-01T00:01:00Z", 2, None]],
            components=["FeatureOfInterest/id"],
        ),
    )
    assert response.status_code == 201
    assert response.json()[0] == "error"
    foreign = sta.post("CreateObservations", data_array(theirs.datastream, [[None, 1]]))
    assert foreign.status_code == 400
    assert stored(database, theirs.datastream) == {}


def test_a_value_the_database_refuses_fails_alone(sta: Sta) -> None:
    graph = make_graph(sta)
    # PostgreSQL refuses NUL in text (the bulk COPY fails and the batch is written again row
    # by row); SQLite stores it. Either way the other rows are stored.
    rows = [
        ["2025-01-01T00:00:00Z", 1],
        ["2025-01-01T00:01:00Z", "a\x00b"],
        ["2025-01-01T00:02:00Z", 3],
    ]
    response = sta.post("CreateObservations", data_array(graph.datastream, rows))
    assert response.status_code == 201
    answer = response.json()
    assert answer[0] != "error"
    assert answer[2] != "error"
    assert (answer[1] == "error") is (not sta.database.is_sqlite)
    assert len(stored(sta.database, graph.datastream)) == (3 if sta.database.is_sqlite else 2)


def test_concurrent_submissions_share_batches_and_all_are_stored(sta: Sta) -> None:
    graph = make_graph(sta)
    pipeline = pipeline_of(sta.client)
    tenant = tenant_ref(sta.database, sta.slug)
    now = datetime.now(UTC)

    def one(index: int) -> int:
        plan = plan_create(
            "Observations", {"result": index, "Datastream": {"@iot.id": graph.datastream}}, now
        )
        assert plan is not None
        (outcome,) = pipeline.submit_blocking(tenant, [plan.row], base_url="http://x/v1.1")
        assert isinstance(outcome, int)
        return outcome

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(one, range(200)))
    assert sorted(stored(sta.database, graph.datastream)) == sorted(ids)
    assert latest(sta.database, graph.datastream).observation_id == max(ids)


def test_the_general_writer_keeps_the_latest_values(sta: Sta) -> None:
    graph = make_graph(sta)
    response = sta.post(
        "CreateObservations",
        data_array(graph.datastream, [["2025-01-02T00:00:00Z", 2], ["2025-01-01T00:00:00Z", 1]]),
    )
    newer, older = (int(link.rsplit("(", 1)[1].rstrip(")")) for link in response.json())
    assert latest(sta.database, graph.datastream).observation_id == newer
    # An older Observation written later does not displace it; a newer one does.
    sta.create(
        f"Datastreams({graph.datastream})/Observations",
        {"phenomenonTime": "2024-01-01T00:00:00Z", "result": 0},
    )
    assert latest(sta.database, graph.datastream).observation_id == newer
    # Through the general writer (a nested feature makes the body not fast-path material).
    newest = sta.create_id(
        "Observations",
        {
            "phenomenonTime": "2025-02-01T00:00:00Z",
            "result": 9,
            "Datastream": {"@iot.id": graph.datastream},
            "FeatureOfInterest": feature_body(),
        },
    )
    assert latest(sta.database, graph.datastream).observation_id == newest
    assert sta.delete(f"Observations({newest})").status_code == 200
    assert latest(sta.database, graph.datastream).observation_id == newer
    assert (
        sta.patch(f"Observations({older})", {"phenomenonTime": "2026-01-01T00:00:00Z"}).status_code
        == 200
    )
    assert latest(sta.database, graph.datastream).observation_id == older
    assert sta.delete(f"Datastreams({graph.datastream})").status_code == 200
    assert latest(sta.database, graph.datastream) is None


# --- backpressure -------------------------------------------------------------------------


@contextmanager
def writer_blocked(database: Database) -> Iterator[None]:
    """Hold the ingest writer back with a transaction of another connection: SQLite's write
    lock on the file (BEGIN IMMEDIATE), or a lock on PostgreSQL's Observations table."""
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        with database.write_engine.begin() as connection:
            if database.is_sqlite:
                connection.execute(text("SELECT 1"))  # after BEGIN IMMEDIATE: the write lock
            else:
                connection.execute(text("LOCK TABLE sta_observation IN EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


@pytest.fixture
def small_queue_client(database: Database, mosquitto_url: str) -> Iterator[TestClient]:
    """A platform whose ingest queue holds 4 Observations."""
    settings = make_settings(
        database.url.render_as_string(hide_password=False),
        mosquitto_url,
        module_settings={"sensorthings": {"ingest_queue_rows": 4, "ingest_max_delay_ms": 1}},
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_a_full_queue_answers_503_and_drops_nothing(
    small_queue_client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    sta = Sta(small_queue_client, database, tenant, tenant.headers)
    graph: Graph = make_graph(sta)
    pipeline = pipeline_of(small_queue_client)
    url = sta.url(f"Datastreams({graph.datastream})/Observations")

    def post(index: int) -> httpx2.Response:
        body = {"phenomenonTime": "2025-01-01T00:00:00Z", "result": index}
        return small_queue_client.post(url, json=body, headers=sta.headers)

    with ThreadPoolExecutor(4) as pool:
        with writer_blocked(database):
            futures = [pool.submit(post, index) for index in range(4)]
            deadline = time.monotonic() + 10
            while pipeline.pending_rows < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert pipeline.pending_rows == 4  # the queue is full
            refused = [post(index) for index in range(4, 8)]
            assert not any(future.done() for future in futures)  # not before the commit
        answers = [future.result() for future in futures]
    for response in refused:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert [response.status_code for response in answers] == [201] * 4
    acknowledged = {response.json()["@iot.id"]: response.json()["result"] for response in answers}
    # Everything acknowledged is stored; nothing else is.
    assert stored(database, graph.datastream) == {key: float(v) for key, v in acknowledged.items()}
    assert sorted(acknowledged.values()) == [0, 1, 2, 3]


def test_a_submission_larger_than_the_queue_is_taken_when_it_is_empty(
    small_queue_client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant = make_tenant(modules=["sensorthings"])
    sta = Sta(small_queue_client, database, tenant, tenant.headers)
    graph = make_graph(sta)
    rows = [[f"2025-01-01T00:00:{second:02d}Z", second] for second in range(10)]
    response = sta.post("CreateObservations", data_array(graph.datastream, rows))
    assert response.status_code == 201
    assert len(stored(database, graph.datastream)) == 10


def test_shutdown_writes_what_is_queued(database: Database) -> None:
    pipeline = IngestPipeline(database, max_delay_ms=200)
    with database.read() as session:
        count_before = session.scalar(select(func.count()).select_from(OBSERVATIONS))
    pipeline.close()
    with pytest.raises(Exception, match="shutting down"):
        pipeline.submit_blocking(
            TenantRef(0, "x", "x", "Europe/Berlin", "de", frozenset()),
            [None],
            base_url="http://x",
        )
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(OBSERVATIONS)) == count_before


def test_a_batch_over_many_things_gets_each_things_feature(sta: Sta) -> None:
    """The features of a batch's streams are looked up together; each row still gets the
    feature of its own Thing's (first) Location, made once and then reused."""
    graphs = [make_graph(sta, name=f"Laterne {n}", at=(7.76 + n / 1000, 49.44)) for n in range(6)]
    # A second, later Location of the first Thing: its feature stays the first Location's.
    later = sta.create_id(
        "Locations",
        {
            "name": "Zweiter Standort",
            "description": "später",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [7.8, 49.5]},
        },
    )
    sta.post(f"Things({graphs[0].thing})/Locations/$ref", {"@iot.id": later})

    def batch(hour: int) -> dict[int, int]:
        body = [
            group
            for graph in graphs
            for group in data_array(graph.datastream, [[f"2025-03-01T{hour:02d}:00:00Z", 1.0]])
        ]
        response = sta.post("CreateObservations", body)
        assert response.status_code == 201, response.text
        features = {}
        for graph in graphs:
            page = sta.read(
                f"Datastreams({graph.datastream})/Observations",
                {"$filter": f"phenomenonTime eq 2025-03-01T{hour:02d}:00:00Z",
                 "$expand": "FeatureOfInterest($select=id,feature)"},
            )  # fmt: skip
            features[graph.thing] = page["value"][0]["FeatureOfInterest"]["@iot.id"]
        return features

    first = batch(10)  # makes the features
    assert len(set(first.values())) == len(graphs)
    for graph in graphs:
        feature = sta.read(f"FeaturesOfInterest({first[graph.thing]})")
        location = sta.read(f"Locations({graph.location})")
        assert feature["feature"] == location["location"]
    assert batch(11) == first  # found again, all at once, none made twice
    assert sta.read("FeaturesOfInterest", {"$count": "true", "$top": "0"})["@iot.count"] == len(
        graphs
    )


def test_a_request_naming_a_missing_stream_stores_nothing(sta: Sta) -> None:
    """As the general writer: one group naming a Datastream that does not exist refuses the
    whole CreateObservations request, the other groups' rows included."""
    graph = make_graph(sta)
    body = [
        *data_array(graph.datastream, [["2025-01-01T00:00:00Z", 1], ["2025-01-01T00:01:00Z", 2]]),
        *data_array(987_654_321, [["2025-01-01T00:00:00Z", 3]]),
    ]
    response = sta.post("CreateObservations", body)
    assert response.status_code == 400, response.text
    assert "987654321" in response.json()["detail"]
    assert stored(sta.database, graph.datastream) == {}
    assert latest(sta.database, graph.datastream) is None
