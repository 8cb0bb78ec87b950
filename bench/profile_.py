"""py-spy on the server while it is under load: where its CPU time goes (`--profile`)."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import VENV_BIN


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Start sampling the process (all threads, 100 Hz); None when py-spy is not installed."""
    binary = VENV_BIN / "py-spy"
    path = str(binary) if binary.exists() else shutil.which("py-spy")
    if path is None:
        return None
    return subprocess.Popen(  # noqa: S603 - py-spy on our own server
        [path, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))),
         "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def finish(process: subprocess.Popen[bytes] | None, out: Path, top: int = 15) -> dict[str, Any]:
    """Wait for py-spy; the functions with the most samples, on-CPU (self) and inclusive."""
    if process is None:
        return {"available": False, "note": "py-spy is not installed (pip install py-spy)"}
    process.wait(timeout=600)
    if not out.exists():
        return {"available": False, "note": "py-spy wrote no profile"}
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_short(frame) for frame in stack.split(";")]
        leaf[frames[-1]] += count
        for frame in set(frames[1:]):
            inclusive[frame] += count
    if not total:
        return {"available": False, "note": "no samples"}
    return {
        "available": True,
        "samples": total,
        "file": str(out),
        "self_percent": {name: round(100 * n / total, 1) for name, n in leaf.most_common(top)},
        "inclusive_percent": {
            name: round(100 * n / total, 1) for name, n in inclusive.most_common(top * 2)
        },
    }


def _short(frame: str) -> str:
    """`function (path/to/module.py:line)` as `function (module.py)`."""
    name, _, where = frame.partition(" (")
    module = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(module).parts
    short = "/".join(parts[-2:]) if parts else module
    return f"{name} ({short})"
