"""The ingest pipeline's answers: every waiting submitter is answered after the commit, on
its own event loop or thread, and one that stopped waiting does not stop the writer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.sensorthings.ingest.pipeline import IngestPipeline
from stadtkern.sensorthings.ingest.rows import Row, plan_create
from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import Sta, make_graph
from tests.sensorthings.test_ingest import stored, tenant_ref

BASE = "http://testserver/x/v1.1"


def rows_for(datastream: int, *results: int) -> list[Row]:
    """One row per result for the Datastream, as a single POST would make them."""
    now = datetime.now(UTC)
    rows = []
    for result in results:
        plan = plan_create(f"Datastreams({datastream})/Observations", {"result": result}, now)
        assert plan is not None
        rows.append(plan.row)
    return rows


def setup(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> tuple[TenantRef, int]:
    tenant = make_tenant(modules=["sensorthings"])
    graph = make_graph(Sta(client, database, tenant, tenant.headers))
    return tenant_ref(database, tenant.slug), graph.datastream


def test_a_submitter_that_stops_waiting_does_not_stop_the_writer(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant, datastream = setup(client, database, make_tenant)
    first, second = rows_for(datastream, 1, 2)
    pipeline = IngestPipeline(database, max_delay_ms=200)

    async def scenario() -> list[object]:
        gone = asyncio.create_task(pipeline.submit(tenant, [first], base_url=BASE))
        await asyncio.sleep(0)  # queued
        gone.cancel()
        return list(await asyncio.wait_for(pipeline.submit(tenant, [second], base_url=BASE), 60))

    try:
        with ThreadPoolExecutor(1) as thread:
            (outcome,) = thread.submit(asyncio.run, scenario()).result()
        # The one that stopped waiting is stored all the same (it was queued), and the
        # writer went on to answer the next.
        assert isinstance(outcome, int)
        assert sorted(stored(database, datastream).values()) == [1.0, 2.0]
        assert pipeline.submit_blocking(tenant, rows_for(datastream, 3), base_url=BASE)
    finally:
        pipeline.close(timeout=60)


def test_submitters_on_several_loops_and_threads_are_all_answered(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> None:
    tenant, datastream = setup(client, database, make_tenant)
    pipeline = IngestPipeline(database, max_delay_ms=300)

    async def on_a_loop(results: tuple[int, ...]) -> list[object]:
        waiting = [
            pipeline.submit(tenant, rows_for(datastream, result), base_url=BASE)
            for result in results
        ]
        answers = await asyncio.wait_for(asyncio.gather(*waiting), 60)
        return [outcome for answer in answers for outcome in answer]

    def in_a_thread(result: int) -> list[object]:
        return list(pipeline.submit_blocking(tenant, rows_for(datastream, result), base_url=BASE))

    try:
        with ThreadPoolExecutor(3) as threads:
            loop_a = threads.submit(asyncio.run, on_a_loop((1, 2, 3)))
            loop_b = threads.submit(asyncio.run, on_a_loop((4, 5)))
            blocking = threads.submit(in_a_thread, 6)
            ids = loop_a.result() + loop_b.result() + blocking.result()
    finally:
        pipeline.close(timeout=60)
    numbers = [outcome for outcome in ids if isinstance(outcome, int)]
    assert len(numbers) == 6
    by_id = stored(database, datastream)
    assert sorted(by_id) == sorted(numbers)
    assert [by_id[number] for number in numbers] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
