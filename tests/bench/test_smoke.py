"""Every benchmark at a tiny scale on both backends: it runs, its figures are complete and
nothing acknowledged is lost. Timing is never asserted (docs/performance.md holds the figures).
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from bench.__main__ import main
from bench.common import PG_ADMIN_URL
from bench.mosquitto_ import binary

from bench import console_map
from tests.conftest import unavailable

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each smoke test on both backends; PostgreSQL only where it runs."""
    name: str = request.param
    if name == "postgres":
        try:
            psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    return name


def _run(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "result.json"
    code = main([*args, "--out", str(out), "--work-dir", str(tmp_path / "work")])
    result: dict[str, object] = json.loads(out.read_text())
    assert code == 0, result
    return result


def _no_loss(result: dict[str, object], acknowledged: int) -> None:
    checks = result["checks"]
    assert isinstance(checks, dict)
    assert checks["ok"] is True, checks
    assert checks["lost"] == 0
    assert checks["stored_but_not_acknowledged"] == 0
    # the duration may end a run before it sent `scale` rows
    assert 0 < checks["acknowledged"] == checks["stored"] <= acknowledged


def test_ingest_http_creates_every_row_it_was_acknowledged(backend: str, tmp_path: Path) -> None:
    """CreateObservations: 1,600 rows in 2 s, all stored; ceiling and generator ceiling run."""
    result = _run(
        tmp_path, "ingest-http", "--backend", backend, "--scale", "1600", "--duration", "2",
        "--streams", "4", "--rows-per-request", "100", "--connections", "2", "--workers", "1",
        "--generator-seconds", "0.5",
    )  # fmt: skip
    _no_loss(result, 1600)
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["ceiling"]["rows"] == result["checks"]["stored"]  # type: ignore[index]
    assert figures["generator"]["ceiling"]["obs_per_s"] > 0
    assert figures["server_vmhwm_mib"] > 0


def test_ingest_post_stores_each_single_observation(backend: str, tmp_path: Path) -> None:
    """Single-Observation POSTs from several connections, every 201 stored."""
    result = _run(
        tmp_path, "ingest-post", "--backend", backend, "--scale", "200", "--duration", "2",
        "--streams", "3", "--connections", "4", "--workers", "1", "--generator-seconds", "0",
    )  # fmt: skip
    _no_loss(result, 200)
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["server_cpu_seconds"] > 0  # the server's own CPU time over the load
    assert figures["server_cpu_ms_per_request"] > 0


def test_ingest_mqtt_stores_every_message_the_broker_acknowledged(
    backend: str, tmp_path: Path
) -> None:
    """50 publishers at QoS 1 through an authenticated Mosquitto; the bare broker measured."""
    if binary() is None:
        unavailable("mosquitto is not installed")
    result = _run(
        tmp_path, "ingest-mqtt", "--backend", backend, "--scale", "200", "--duration", "2",
        "--connections", "25", "--workers", "2",
    )  # fmt: skip
    _no_loss(result, 200)
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["bare_broker"]["received"] == figures["bare_broker"]["published_acknowledged"]


def test_query_answers_every_read_path_correctly(backend: str, tmp_path: Path) -> None:
    """A small generated table; each query answers correctly (or is reported missing)."""
    result = _run(
        tmp_path, "query", "--backend", backend, "--scale", "3000", "--repeat", "2",
        "--streams", "20",
    )  # fmt: skip
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["observations"] == 3000
    queries = figures["queries"]
    assert queries["top100_desc"]["available"] is True
    for name, measured in queries.items():
        assert measured.get("correct", True) is True, (name, measured)


def test_performance_doc_shows_how_to_run_every_benchmark() -> None:
    """docs/performance.md gives the one-line command of each benchmark."""
    from bench.__main__ import BENCHMARKS
    from bench.common import REPO

    text = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    missing = [name for name in BENCHMARKS if f"python -m bench {name}" not in text]
    assert not missing, f"document these benchmarks in docs/performance.md: {missing}"


def test_warning_starts_every_lantern_exactly_once(backend: str, tmp_path: Path) -> None:
    """20 lanterns: baseline and two approved alerts; each lantern started each signal once,
    the platform stored every "started" with the lantern's own time, and the figures exist."""
    if binary() is None:
        unavailable("mosquitto is not installed")
    result = _run(tmp_path, "warning", "--backend", backend, "--lanterns", "20", "--duration", "60")
    checks = result["checks"]
    assert isinstance(checks, dict)
    assert checks["ok"] is True, checks
    figures = result["figures"]
    assert isinstance(figures, dict)
    for phase in ("alert", "alert_with_spread", "bare_broker"):
        loss = figures[phase]["loss"]
        assert (loss["lanterns_started"], loss["missing"], loss["duplicates"]) == (20, 0, 0)
        assert figures[phase]["signal_started"]["n"] == 20
        assert figures[phase]["command_arrived"]["n"] == 20
    for phase in ("alert", "alert_with_spread"):
        stored = figures[phase]["loss"]
        assert stored["report_started_at_equal_to_lantern"] == 20
        assert stored["coverage"]["targeted"] == 20
        assert figures[phase]["ack_recorded"]["n"] == 20
        assert figures[phase]["approve_request_s"] > 0
    assert figures["with_ack_spread"]["ack_spread_s"] > 0
    assert {"p50_ms", "p95_ms", "p99_ms", "share_within_1s"} <= set(figures["signal_started"])
    assert figures["server_vmhwm_mib"] > 0
    assert figures["setup"]["fleet_processes"] == 2


def test_demo_fleet_load_stores_every_observation_as_sent(tmp_path: Path) -> None:
    """The demo fleet with 5 lanterns at 200 obs/s for 3 s (SQLite): provisioned complete,
    every acknowledged Observation stored once with the value the fleet's model gives."""
    if binary() is None:
        unavailable("mosquitto is not installed")
    result = _run(
        tmp_path, "demo", "--backend", "sqlite", "--lanterns", "5", "--duration", "3",
        "--rate", "200",
    )  # fmt: skip
    checks = result["checks"]
    assert isinstance(checks, dict)
    _no_loss(result, checks["published"])
    assert checks["duplicates"] == 0
    assert checks["values_not_as_sent"] == 0
    assert checks["devices_provisioned"] == checks["devices_in_fleet"]
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["devices"] > 5
    assert figures["datastreams"] >= figures["datastreams_publishing"] > 0
    assert figures["provisioning_s"] > 0
    assert figures["target_rate_obs_per_s"] == 200
    assert figures["published_obs_per_s"] > 0
    assert figures["stored_obs_per_s"] > 0
    assert figures["natural_rate_obs_per_s"] > 0


def test_console_map_times_the_map_and_sums_the_javascript(tmp_path: Path) -> None:
    """The console map benchmark with the smallest fleet, one timed load (SQLite)."""
    if not Path(console_map.CHROMIUM).exists():
        unavailable("chromium is not installed")
    result = _run(tmp_path, "console-map", "--backend", "sqlite", "--scale", "1", "--repeat", "1")
    figures = result["figures"]
    assert isinstance(figures, dict)
    assert figures["things"] > 300  # every device but the lanterns, and one lantern
    assert figures["loads"] == 1
    assert figures["load_ms_median"] > 0
    files = figures["javascript_files"]
    assert isinstance(files, dict)
    assert any(name.startswith("maplibre-gl.mjs") for name in files)
    assert 0 < figures["javascript_gzip_bytes"] < figures["javascript_raw_bytes"]
