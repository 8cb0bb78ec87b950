"""What every benchmark shares: options, the result file, the machine, percentiles."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
DEFAULT_OUT_DIR = REPO / "var" / "bench"
PG_ADMIN_URL = os.environ.get("STADTKERN_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Options:
    """The command line of one benchmark run."""

    name: str
    backend: str  # "sqlite" or "postgres"
    scale: int
    duration: float
    out: Path | None
    connections: int
    workers: int
    rows_per_request: int
    streams: int
    repeat: int
    ceiling_rows: int
    keep: bool
    work_dir: Path
    generator_seconds: float = 10.0
    profile: bool = False
    rate: float = 0.0  # demo: Observations per second the fleet sends (0: the default)


@dataclass
class Result:
    """The JSON document a benchmark writes; `figures` holds its measured numbers."""

    benchmark: str
    backend: str
    scale: int
    duration: float
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    machine: dict[str, Any] = field(default_factory=lambda: machine())
    figures: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    summary: str = ""

    def write(self, out: Path | None) -> Path:
        """Write the result file (default `var/bench/<benchmark>-<backend>-<time>.json`)."""
        if out is None:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            out = DEFAULT_OUT_DIR / f"{self.benchmark}-{self.backend}-{stamp}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.__dict__, indent=2, default=str) + "\n")
        return out


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, versions: what a figure depends on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "git_commit": _git_commit(),
        # other work on the machine during the run skews every figure: recorded with it
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _git_commit() -> str:
    try:
        done = subprocess.run(  # noqa: S603 - git with fixed arguments
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return ""
    dirty = subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, max and mean of latencies in seconds, as milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pick(fraction: float) -> float:
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[index]

    return {
        "n": len(ordered),
        "p50_ms": round(pick(0.50) * 1000, 3),
        "p95_ms": round(pick(0.95) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, timeout: float, alive: Any = None) -> None:
    """Return once something accepts connections on the port; raise after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the process meant to listen on port {port} has exited")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def rate(count: float, seconds: float) -> float:
    """Per second, rounded; 0 for an empty interval."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


@dataclass(frozen=True)
class StreamSums:
    """What one Datastream holds: row count, sum of 4 x result, sum of phenomenonTime epochs."""

    count: int = 0
    result_x4: int = 0
    epoch: int = 0

    def __add__(self, other: StreamSums) -> StreamSums:
        return StreamSums(
            self.count + other.count, self.result_x4 + other.result_x4, self.epoch + other.epoch
        )
