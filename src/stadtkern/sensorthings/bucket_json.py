"""The body of `$aggregate` written as JSON text: thousands of buckets (8,784 for a year of
hours) without a dictionary per bucket or a datetime per time.

    {"value":[{"start":"2026-01-01T00:00:00Z","end":"2026-01-01T01:00:00Z","avg":3.2,...},...]}

Numbers are written as `json.dumps` writes them (floats by `repr`, counts as integers); a
bucket's start is the previous bucket's end when they touch, so most times are made once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from stadtkern.sensorthings.times import epoch_instant


def buckets_json(rows: Sequence[Sequence[Any]], seconds: int, functions: Sequence[str]) -> bytes:
    """`rows` are (bucket start in Unix seconds, one value per function: `count` an int,
    the others floats), oldest first."""
    members = [(f',"{name}":', str if name == "count" else _float) for name in functions]
    parts = []
    touching, touching_text = None, ""
    for begin, *results in rows:
        start = touching_text if begin == touching else epoch_instant(begin)
        touching = begin + seconds
        touching_text = epoch_instant(touching)
        values = "".join(
            [f"{name}{write(value)}" for (name, write), value in zip(members, results, strict=True)]
        )
        parts.append(f'{{"start":"{start}","end":"{touching_text}"{values}}}')
    return ('{"value":[' + ",".join(parts) + "]}").encode()


def _float(value: float) -> str:
    return repr(value) if math.isfinite(value) else json.dumps(value)
