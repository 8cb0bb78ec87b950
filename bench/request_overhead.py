"""What the core adds to every tenant request: tenant resolution, API-key check, roles.

Baseline and subject run in the same process on the same machine: `GET /healthz` (routing,
middleware, JSON) against `GET /{tenant}/auth/whoami` with an API key (the same plus tenant
lookup, key lookup and HMAC, role grants). The difference is the per-request cost of the
core's tenancy and authentication. Run: `.venv/bin/python bench/request_overhead.py
[--backend sqlite|postgresql] [--requests N]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import free_port, issue_token, make_settings, migrated_database

from stadtkern.app import create_app


def _timed(client: TestClient, path: str, headers: dict[str, str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text}")
    return samples


def _report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples) * 1000
    p95 = statistics.quantiles(samples, n=20)[18] * 1000
    rate = len(samples) / sum(samples)
    print(f"{name:<36} median {median:7.3f} ms   p95 {p95:7.3f} ms   {rate:6.0f} req/s")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as directory,
        migrated_database(args.backend, Path(directory)) as database,
    ):
        url = database.url.render_as_string(hide_password=False)
        settings = make_settings(url, f"mqtt://127.0.0.1:{free_port()}")
        with TestClient(create_app(settings)) as client:
            admin_key = issue_token(database, tenant=None, roles=["platform_admin"])
            admin = {"Authorization": f"Bearer {admin_key}"}
            client.post(
                "/admin/tenants",
                json={"slug": "kaiserslautern", "name": "Kaiserslautern", "ars": "073120000000"},
                headers=admin,
            )
            key = issue_token(database, tenant="kaiserslautern", roles=["viewer"])
            headers = {"Authorization": f"Bearer {key}"}
            _timed(client, "/healthz", {}, 200)  # warm-up
            _timed(client, "/kaiserslautern/auth/whoami", headers, 200)
            print(f"backend {args.backend}, {args.requests} sequential requests each, in-process")
            baseline = _report(
                "baseline GET /healthz", _timed(client, "/healthz", {}, args.requests)
            )
            subject = _report(
                "GET /{tenant}/auth/whoami (API key)",
                _timed(client, "/kaiserslautern/auth/whoami", headers, args.requests),
            )
            print(f"tenancy + authentication add {subject - baseline:.3f} ms per request (median)")


if __name__ == "__main__":
    main()
