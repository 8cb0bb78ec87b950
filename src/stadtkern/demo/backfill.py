"""History for the fleet: past Observations written through CreateObservations (bulk ingest).

The values come from the same behaviour models as the live reports, one sample per stream
every `step` (at least the stream's own period), skipping the times a device was down.
A stream is filled from where its data ends (a resumed demo fills only the gap), never
further back than the history asked for.
"""

from __future__ import annotations

import queue
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stadtkern.demo.behaviour import sample
from stadtkern.demo.client import Platform
from stadtkern.demo.fleet import Device, Fleet, Stream
from stadtkern.demo.live import is_down
from stadtkern.demo.provision import Deployed

ROWS_PER_REQUEST = 5_000
CONNECTIONS = 2
DEFAULT_STEP = timedelta(minutes=15)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(text: str) -> timedelta:
    """'7d', '12h', '90m', '2w' or '0' as a timedelta."""
    if text.strip() == "0":
        return timedelta(0)
    match = _DURATION.match(text.lower())
    if match is None:
        raise ValueError(f"a duration is a number and a unit (s, m, h, d, w), e.g. 7d: {text!r}")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class BackfillResult:
    """How much history was written."""

    observations: int
    streams: int
    seconds: float


def _times(start: datetime, end: datetime, step: timedelta) -> Iterator[datetime]:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    step_s = step.total_seconds()
    first = epoch + timedelta(seconds=((start - epoch).total_seconds() // step_s + 1) * step_s)
    t = first
    while t < end:
        yield t
        t += step


def gaps(
    deployed: Deployed, datastream: int, since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [since, until) a stream has no data for: before its first, after its last."""
    first, last = deployed.first.get(datastream), deployed.last.get(datastream)
    if first is None or last is None:
        return [(since, until)]
    spans = [(since, min(first, until)), (max(last, since), until)]
    return [(start, end) for start, end in spans if start < end]


def _rows(
    fleet: Fleet, device: Device, stream: Stream, start: datetime, end: datetime, step: timedelta
) -> list[list[Any]]:
    own = timedelta(seconds=stream.period_s)
    rows: list[list[Any]] = []
    for t in _times(start, end, max(step, own)):
        if is_down(fleet, device, t):
            continue
        result = sample(stream.behaviour, t, seed=fleet.seed)
        if result is not None:
            rows.append([t.isoformat().replace("+00:00", "Z"), result])
    return rows


def _documents(
    fleet: Fleet,
    deployed: Deployed,
    since: datetime,
    until: datetime,
    step: timedelta,
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """CreateObservations bodies of about ROWS_PER_REQUEST rows, with their row counts."""
    body: list[dict[str, Any]] = []
    rows_in_body = 0
    for device, stream in fleet.streams():
        datastream = deployed.datastream(device, stream)
        if datastream is None:
            continue
        rows = [
            row
            for start, end in gaps(deployed, datastream, since, until)
            for row in _rows(fleet, device, stream, start, end, step)
        ]
        if not rows:
            continue
        body.append(
            {
                "Datastream": {"@iot.id": datastream},
                "components": ["phenomenonTime", "result"],
                "dataArray": rows,
            }
        )
        rows_in_body += len(rows)
        if rows_in_body >= ROWS_PER_REQUEST:
            yield body, rows_in_body
            body, rows_in_body = [], 0
    if body:
        yield body, rows_in_body


def backfill(
    connect: Callable[[], Platform],
    fleet: Fleet,
    deployed: Deployed,
    *,
    history: timedelta,
    until: datetime,
    step: timedelta = DEFAULT_STEP,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillResult:
    """Write the fleet's history up to `until` over a few parallel connections."""
    began = datetime.now(UTC)
    since = until - history
    estimate = _estimate(fleet, deployed, since, until, step)
    # A connection serves one request at a time: each send borrows a free one.
    connections: queue.SimpleQueue[Platform] = queue.SimpleQueue()
    for _ in range(CONNECTIONS):
        connections.put(connect())
    written = 0

    def send(body: list[dict[str, Any]]) -> None:
        connection = connections.get()
        try:
            answer = connection.request("POST", "/v1.1/CreateObservations", body)
        finally:
            connections.put(connection)
        errors = [item for item in answer or [] if isinstance(item, str) and "error" in item]
        if errors:
            raise RuntimeError(f"CreateObservations refused rows: {errors[:3]}")

    try:
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            pending = []
            for body, rows in _documents(fleet, deployed, since, until, step):
                pending.append((pool.submit(send, body), rows))
                while len(pending) > CONNECTIONS * 2:
                    future, count = pending.pop(0)
                    future.result()
                    written += count
                    if progress:
                        progress(written, max(estimate, written))
            for future, count in pending:
                future.result()
                written += count
                if progress:
                    progress(written, max(estimate, written))
    finally:
        while not connections.empty():
            connections.get().close()
    streams = sum(1 for d, s in fleet.streams() if deployed.datastream(d, s) is not None)
    seconds = (datetime.now(UTC) - began).total_seconds()
    return BackfillResult(observations=written, streams=streams, seconds=seconds)


def _estimate(
    fleet: Fleet, deployed: Deployed, since: datetime, until: datetime, step: timedelta
) -> int:
    total = 0
    for device, stream in fleet.streams():
        datastream = deployed.datastream(device, stream)
        if datastream is None:
            continue
        period = max(step.total_seconds(), stream.period_s)
        for start, end in gaps(deployed, datastream, since, until):
            total += max(0, int((end - start).total_seconds() // period))
    return total
