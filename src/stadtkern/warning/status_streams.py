"""Heartbeats as Observations of the lanterns' status Datastreams (battery, mains power,
speaker self-test), written by the SensorThings batch writer in the reports' transaction, so
the latest-value table, the Datastreams' times and MQTT subscribers see them like any other
Observation."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.ingest.batch import Publish, Submission, write_in_session
from stadtkern.sensorthings.ingest.rows import Row, plan_create
from stadtkern.warning.reports import StatusSink


def status_writer(publish: Publish | None, root_url: str) -> StatusSink:
    """A sink that writes status values as Observations (one submission per tenant);
    `root_url` is the platform's public URL (for the selfLinks of MQTT notifications)."""

    def write(
        session: Session, values: list[tuple[TenantRef, int, object, datetime]], now: datetime
    ) -> None:
        tenants: dict[int, TenantRef] = {}
        rows: dict[int, list[Row | None]] = defaultdict(list)
        for tenant, stream, result, at in values:
            plan = plan_create(
                f"Datastreams({stream})/Observations",
                {"result": result, "phenomenonTime": at.isoformat().replace("+00:00", "Z")},
                now,
            )
            if plan is not None:
                tenants[tenant.id] = tenant
                rows[tenant.id].append(plan.row)
        batch = [
            Submission(tenant, rows[key], f"{root_url}/{tenant.slug}/v1.1")
            for key, tenant in tenants.items()
        ]
        write_in_session(session, batch, publish)

    return write
