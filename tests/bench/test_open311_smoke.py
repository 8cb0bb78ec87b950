"""`python -m bench open311` at a tiny scale on both backends: it runs and answers pages of the
right size (timing is never asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from bench.__main__ import main
from bench.common import PG_ADMIN_URL

from tests.conftest import unavailable


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_open311_bench_runs(backend: str, tmp_path: Path) -> None:
    """500 reports, 20 bbox searches: figures complete, every answer a page of at most 50."""
    if backend == "postgres":
        try:
            psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        except psycopg.OperationalError as exc:
            unavailable(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    out = tmp_path / "result.json"
    main(["open311", "--backend", backend, "--scale", "500", "--repeat", "20",
          "--out", str(out), "--work-dir", str(tmp_path / "work")])  # fmt: skip
    result = json.loads(out.read_text())
    assert result["checks"]["ok"] is True
    assert result["figures"]["reports"] == 500
    assert result["figures"]["requests"] == 20
    assert set(result["figures"]["latency_ms"]) >= {"p50_ms", "p95_ms"}
