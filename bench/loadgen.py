"""HTTP load generator: worker processes of threads, one keep-alive connection per thread.

Raw sockets with pre-encoded requests, so the generator costs little CPU next to the server on
the same two cores; its own ceiling is measured against a null server (`sink`) in the same run.
Every row is deterministic (stream, time, result) so the acknowledged ones can be checked
against the database afterwards by count and checksum.
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.synchronize
import random
import resource
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.common import StreamSums

RESERVOIR = 20_000  # latency samples kept per worker


@dataclass(frozen=True)
class LoadPlan:
    """What every worker sends: CreateObservations groups or single-Observation POSTs."""

    port: int
    mode: str  # "create" (CreateObservations) or "post" (one Observation per request)
    slug: str
    key: str
    streams: tuple[int, ...]
    rows_per_request: int
    duration: float
    workers: int
    connections: int  # per worker
    base_epoch: int
    max_rows_per_lane: int = 0  # 0: as many as the duration allows


@dataclass
class Tally:
    """What one worker (or all, merged) sent and got acknowledged."""

    requests: int = 0
    rows_acked: int = 0
    rows_refused: int = 0
    retries_503: int = 0
    failed_requests: int = 0
    unanswered: int = 0
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    sums: dict[int, StreamSums] = field(default_factory=dict)
    per_second: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    elapsed: float = 0.0
    first_error: str = ""

    def merge(self, other: Tally) -> None:
        """Add another tally into this one."""
        self.requests += other.requests
        self.rows_acked += other.rows_acked
        self.rows_refused += other.rows_refused
        self.retries_503 += other.retries_503
        self.failed_requests += other.failed_requests
        self.unanswered += other.unanswered
        for status, count in other.statuses.items():
            self.statuses[status] += count
        for stream, sums in other.sums.items():
            self.sums[stream] = self.sums.get(stream, StreamSums()) + sums
        for second, count in other.per_second.items():
            self.per_second[second] += count
        self.latencies.extend(other.latencies)
        self.cpu_seconds += other.cpu_seconds
        self.elapsed = max(self.elapsed, other.elapsed)
        self.first_error = self.first_error or other.first_error

    def sustained(self) -> dict[str, float]:
        """Rows per second in whole seconds of the run: the slowest, median and fastest."""
        seconds = sorted(self.per_second)
        # the last, partial second (requests finishing after the deadline) is left out
        full = [self.per_second[s] for s in seconds if s < int(self.elapsed)]
        if not full:
            return {}
        ordered = sorted(full)
        return {
            "slowest_second": ordered[0],
            "median_second": ordered[len(ordered) // 2],
            "fastest_second": ordered[-1],
        }


_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_DAYS: dict[int, str] = {}


def iso(epoch: int) -> str:
    """ISO 8601 UTC of whole seconds, cheaply (a cached date and a table of times of day)."""
    day, second = divmod(epoch, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    return f"{prefix}T{_HMS[second]}Z"


class RowSource:
    """The deterministic rows of one connection: stream, time and result of its k-th row."""

    def __init__(self, plan: LoadPlan, lane: int, lanes: int) -> None:
        self.plan = plan
        self.lane = lane
        self.lanes = lanes
        self.counter = 0
        # a CreateObservations request carries ten Datastreams, a POST one row of one
        self.group_rows = max(1, plan.rows_per_request // 10) if plan.mode == "create" else 1

    def take(self, count: int) -> list[tuple[int, int, int]]:
        """The next rows as (stream, epoch, 4 x result)."""
        rows = []
        streams = self.plan.streams
        for _ in range(count):
            k = self.counter
            self.counter += 1
            stream = streams[(k // self.group_rows + self.lane) % len(streams)]
            rows.append((stream, self.plan.base_epoch + k, (k * 7 + self.lane) % 4000))
        return rows


def _request_bytes(plan: LoadPlan, rows: list[tuple[int, int, int]]) -> bytes:
    if plan.mode == "create":
        groups: dict[int, list[str]] = defaultdict(list)
        for stream, epoch, x4 in rows:
            groups[stream].append(f'["{iso(epoch)}",{x4 / 4}]')
        body = (
            "["
            + ",".join(
                f'{{"Datastream":{{"@iot.id":{stream}}},"components":["phenomenonTime",'
                f'"result"],"dataArray":[{",".join(items)}]}}'
                for stream, items in groups.items()
            )
            + "]"
        ).encode()
        path = f"/{plan.slug}/v1.1/CreateObservations"
    else:
        stream, epoch, x4 = rows[0]
        body = f'{{"phenomenonTime":"{iso(epoch)}","result":{x4 / 4}}}'.encode()
        path = f"/{plan.slug}/v1.1/Datastreams({stream})/Observations"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{plan.port}\r\n"
        f"Authorization: Bearer {plan.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def _create_order(rows: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Rows in the order the CreateObservations answer lists them (grouped by stream)."""
    groups: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for row in rows:
        groups[row[0]].append(row)
    return [row for group in groups.values() for row in group]


class Connection:
    """One keep-alive HTTP/1.1 connection with a minimal response reader."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def open(self) -> socket.socket:
        """The socket, connected anew when needed."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        return self.sock

    def close(self) -> None:
        """Forget the socket (after an error or a Connection: close)."""
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send a request and read one response: status, headers (lower-case), body."""
        sock = self.open()
        sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill(sock)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._chunked(sock)
        else:
            length = int(headers.get("content-length", "0"))
            while len(self.buffer) < length:
                self._fill(sock)
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _fill(self, sock: socket.socket) -> None:
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buffer += data

    def _chunked(self, sock: socket.socket) -> bytes:
        parts = []
        while True:
            while b"\r\n" not in self.buffer:
                self._fill(sock)
            size_line, _, self.buffer = self.buffer.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self.buffer) < size + 2:
                self._fill(sock)
            parts.append(self.buffer[:size])
            self.buffer = self.buffer[size + 2 :]
            if size == 0:
                return b"".join(parts)


def _lane(plan: LoadPlan, lane: int, lanes: int, start: float, tally: Tally) -> None:
    """One connection's loop until the deadline; acknowledged rows go into the tally."""
    source = RowSource(plan, lane, lanes)
    connection = Connection(plan.port)
    per_request = plan.rows_per_request if plan.mode == "create" else 1
    deadline = start + plan.duration
    sampled = 0
    lucky = random.Random(lane)  # noqa: S311 - reservoir sampling, not security
    quota = plan.max_rows_per_lane or 1 << 62
    while time.perf_counter() < deadline and source.counter < quota:
        rows = source.take(min(per_request, quota - source.counter))
        if plan.mode == "create":
            rows = _create_order(rows)
        request = _request_bytes(plan, rows)
        while True:
            sent = time.perf_counter()
            try:
                status, headers, body = connection.exchange(request)
            except OSError as error:
                connection.close()
                tally.unanswered += 1
                tally.first_error = tally.first_error or f"{type(error).__name__}: {error}"
                time.sleep(0.05)
                break
            latency = time.perf_counter() - sent
            tally.requests += 1
            tally.statuses[status] += 1
            if status == 503:
                tally.retries_503 += 1
                time.sleep(min(float(headers.get("retry-after", "1") or 1), 1.0) / 10)
                continue
            acked = _acknowledged(plan, status, body, rows, tally)
            _record(tally, acked)
            tally.per_second[int(time.perf_counter() - start)] += len(acked)
            sampled += 1
            if len(tally.latencies) < RESERVOIR:
                tally.latencies.append(latency)
            else:
                slot = lucky.randrange(sampled)
                if slot < RESERVOIR:
                    tally.latencies[slot] = latency
            break
    connection.close()


def _acknowledged(
    plan: LoadPlan, status: int, body: bytes, rows: list[tuple[int, int, int]], tally: Tally
) -> list[tuple[int, int, int]]:
    if plan.mode == "post":
        if status == 201:
            return rows
        tally.failed_requests += 1
        tally.first_error = tally.first_error or f"{status}: {body[:300]!r}"
        return []
    if status != 201:
        tally.failed_requests += 1
        tally.first_error = tally.first_error or f"{status}: {body[:300]!r}"
        return []
    answer = json.loads(body)
    if len(answer) != len(rows):
        tally.failed_requests += 1
        tally.first_error = tally.first_error or f"answer of {len(answer)} for {len(rows)} rows"
        return []
    acked = [row for row, link in zip(rows, answer, strict=True) if link != "error"]
    tally.rows_refused += len(rows) - len(acked)
    return acked


def _record(tally: Tally, rows: list[tuple[int, int, int]]) -> None:
    tally.rows_acked += len(rows)
    for stream, epoch, x4 in rows:
        old = tally.sums.get(stream)
        tally.sums[stream] = (
            StreamSums(1, x4, epoch) if old is None else old + StreamSums(1, x4, epoch)
        )


def worker(
    plan: LoadPlan,
    index: int,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[Tally],
) -> None:
    """One worker process: `plan.connections` threads; puts its tally on the queue."""
    lanes = plan.workers * plan.connections
    tallies = [Tally() for _ in range(plan.connections)]
    barrier.wait()
    start = time.perf_counter()
    cpu_start = _cpu()
    threads = [
        threading.Thread(
            target=_lane,
            args=(plan, index * plan.connections + number, lanes, start, tallies[number]),
        )
        for number in range(plan.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    total.cpu_seconds = _cpu() - cpu_start
    total.elapsed = time.perf_counter() - start
    total.statuses = dict(total.statuses)
    total.per_second = dict(total.per_second)
    results.put(total)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_load(plan: LoadPlan) -> Tally:
    """Run the plan with its worker processes; the merged tally."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(plan.workers + 1)
    results: multiprocessing.Queue[Tally] = context.Queue()
    processes = [
        context.Process(target=worker, args=(plan, index, barrier, results))
        for index in range(plan.workers)
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=120)
    total = Tally()
    for _ in processes:
        total.merge(results.get(timeout=plan.duration + 300))
    for process in processes:
        process.join(timeout=30)
    return total


# --- the generator's own ceiling: the same load against a server that does nothing ----------


def _sink_serve(listener: socket.socket, rows_per_request: int, mode: str) -> None:
    if mode == "create":
        link = '"http://127.0.0.1/v1.1/Observations(1)"'
        body = ("[" + ",".join([link] * rows_per_request) + "]").encode()
    else:
        body = b'{"@iot.id":1}'
    response = (
        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_sink_connection, args=(conn, response), daemon=True).start()


def _sink_connection(conn: socket.socket, response: bytes) -> None:
    buffer = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(1 << 16)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while len(buffer) < length:
                data = conn.recv(1 << 16)
                if not data:
                    return
                buffer += data
            buffer = buffer[length:]
            conn.sendall(response)


def sink_main(port: int, rows_per_request: int, mode: str) -> None:
    """A null HTTP server: reads each request and answers a canned 201."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(512)
    _sink_serve(listener, rows_per_request, mode)


def generator_ceiling(plan: LoadPlan, seconds: float) -> dict[str, Any]:
    """Rows/s and requests/s the generator reaches against the null server, on this machine."""
    from bench.common import free_port, wait_port

    port = free_port()
    context = multiprocessing.get_context("spawn")
    sink = context.Process(
        target=sink_main, args=(port, plan.rows_per_request, plan.mode), daemon=True
    )
    sink.start()
    try:
        wait_port(port, 30)
        sink_plan = LoadPlan(**{**plan.__dict__, "port": port, "duration": seconds})
        tally = run_load(sink_plan)
    finally:
        sink.terminate()
        sink.join()
    return {
        "seconds": round(tally.elapsed, 2),
        "obs_per_s": round(tally.rows_acked / tally.elapsed, 1),
        "requests_per_s": round(tally.requests / tally.elapsed, 1),
        "generator_cpu_seconds": round(tally.cpu_seconds, 2),
        "note": "the null server runs on the same cores, so this is a lower bound",
    }
