"""`python -m bench <name> --backend sqlite|postgres --scale N [--duration S] [--out FILE]`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.common import DEFAULT_OUT_DIR, Options, Result

BENCHMARKS = (
    "ingest-http", "ingest-post", "ingest-mqtt", "query", "warning", "demo", "console-map",
    "open311",
)  # fmt: skip
# per benchmark: duration, connections per worker, workers, rows per request, Datastreams
DEFAULTS: dict[str, tuple[float, int, int, int, int]] = {
    "ingest-http": (60.0, 4, 2, 1000, 100),
    "ingest-post": (60.0, 32, 2, 1, 100),
    "ingest-mqtt": (60.0, 25, 2, 1, 50),
    "query": (0.0, 1, 1, 1, 10_000),
    # warning: duration is the longest wait for every lantern's answer; workers: fleet processes
    "warning": (120.0, 1, 2, 1, 1),
    # demo: the demo city's fleet publishes for the duration (its rate: --rate)
    "demo": (30.0, 1, 1, 1, 0),
    # console-map: --scale is the number of Things, --repeat the page loads timed
    "console-map": (0.0, 1, 1, 1, 0),
    # open311: --scale is the number of reports (default 100,000), --repeat the requests timed
    "open311": (0.0, 1, 1, 1, 0),
}


def parse(argv: list[str]) -> Options:
    """The options of one run, with the benchmark's defaults filled in."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=BENCHMARKS)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--scale",
        type=int,
        default=0,
        help="query: Observations in the table; ingest: most rows sent (0: no limit)",
    )
    parser.add_argument(
        "--lanterns",
        dest="scale",
        type=int,
        help="warning: lanterns (default 1000); demo: lanterns of the fleet (default 500)",
    )
    parser.add_argument("--duration", type=float, help="seconds of sustained load (default 60)")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="demo: Observations per second (default 2000)"
    )
    parser.add_argument("--out", type=Path, help="result file (default var/bench/...json)")
    parser.add_argument("--connections", type=int, help="connections (MQTT: publishers) per worker")
    parser.add_argument("--workers", type=int, help="load generator processes")
    parser.add_argument("--rows-per-request", type=int, help="CreateObservations rows per request")
    parser.add_argument("--streams", type=int, help="Datastreams written (query: for $latest)")
    parser.add_argument("--repeat", type=int, default=50, help="query: requests per measurement")
    parser.add_argument(
        "--ceiling-rows",
        type=int,
        default=0,
        help="rows of the ceiling (default: all acknowledged)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (query: reuse it next time)"
    )
    parser.add_argument(
        "--generator-seconds",
        type=float,
        default=10.0,
        help="HTTP ingest: seconds of the generator's own ceiling run (0: skip it)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="ingest: sample the server with py-spy under load"
    )
    parser.add_argument("--work-dir", type=Path, help="directory of databases and logs")
    args = parser.parse_args(argv)
    duration, connections, workers, rows, streams = DEFAULTS[args.name]
    work_dir = args.work_dir or Path(
        tempfile.mkdtemp(prefix=f"{args.name}-", dir=_ensure(DEFAULT_OUT_DIR / "work"))
    )
    return Options(
        name=args.name,
        backend=args.backend,
        scale=args.scale,
        duration=args.duration if args.duration is not None else duration,
        out=args.out or _default_out(args.name, args.backend, args.scale),
        connections=args.connections or connections,
        workers=args.workers or workers,
        rows_per_request=args.rows_per_request or rows,
        streams=args.streams or streams,
        repeat=args.repeat,
        ceiling_rows=args.ceiling_rows,
        keep=args.keep,
        work_dir=_ensure(work_dir),
        generator_seconds=args.generator_seconds,
        profile=args.profile,
        rate=args.rate,
    )


def _default_out(name: str, backend: str, scale: int) -> Path | None:
    """warning: `var/bench/warning-<backend>-<lanterns>.json`; others: time-stamped."""
    if name != "warning":
        return None
    return DEFAULT_OUT_DIR / f"warning-{backend}-{scale or 1000}.json"


def _ensure(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def runner(name: str) -> Callable[[Options], Result]:
    """The function that runs a benchmark (imported late: each pulls in its own libraries)."""
    if name in ("ingest-http", "ingest-post"):
        from bench import ingest_http

        return ingest_http.run
    if name == "ingest-mqtt":
        from bench import ingest_mqtt

        return ingest_mqtt.run
    if name == "warning":
        from bench import warning

        return warning.run
    if name == "demo":
        from bench import demo_load

        return demo_load.run
    if name == "console-map":
        from bench import console_map

        return console_map.run
    if name == "open311":
        from bench import open311

        return open311.run
    from bench import query

    return query.run


def main(argv: list[str] | None = None) -> int:
    """Run one benchmark, write its result file, print its one-line summary."""
    options = parse(sys.argv[1:] if argv is None else argv)
    result = runner(options.name)(options)
    path = result.write(options.out)
    print(result.summary)
    print(f"result: {path}")
    return 0 if result.checks.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
