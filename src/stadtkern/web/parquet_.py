"""Parquet files of the downloads: typed columns that data tools read without guessing.

A CSV leaves every reader to guess types and time zones; Parquet states them. Times are
timestamps in UTC (microseconds), numeric results float64, anything else (text, booleans,
JSON objects) a string column, and each column carries what it means (unit, ObservedProperty)
as field metadata. The module is named with a trailing underscore so it never shadows a
library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

MEDIA_TYPE = "application/vnd.apache.parquet"
TIME = pa.timestamp("us", tz="UTC")


def _field(name: str, kind: Any, **meta: str) -> Any:
    return pa.field(name, kind, metadata={key: value for key, value in meta.items() if value})


def _written(table: Any) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _numeric(values: Sequence[Any]) -> bool:
    """Numbers only (booleans are not numbers here), gaps allowed."""
    return all(
        value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        for value in values
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)  # booleans as true/false, objects as JSON


def observations_parquet(
    rows: Sequence[tuple[datetime, Any]],
    *,
    name: str,
    unit: str,
    property_name: str,
    definition: str,
) -> bytes:
    """A Datastream's Observations: phenomenonTime (UTC) and result (float64 when every
    result is a number, else text)."""
    results = [result for _at, result in rows]
    values: list[float | str | None]
    if _numeric(results):
        kind, values = pa.float64(), [None if r is None else float(r) for r in results]
    else:
        kind, values = pa.string(), [_text(r) for r in results]
    schema = pa.schema(
        [
            _field("phenomenonTime", TIME, description="when the value was measured"),
            _field("result", kind, unit=unit, property=property_name, definition=definition),
        ],
        metadata={"datastream": name},
    )
    return _written(pa.table([[at for at, _r in rows], values], schema=schema))


def readings_parquet(rows: Iterable[dict[str, Any]], *, town: str) -> bytes:
    """The portal's latest readings, one row per reading: the CSV's columns, and the
    ObservedProperty's definition and the Datastream's id."""
    listed = list(rows)
    schema = pa.schema(
        [
            _field("place", pa.string()),
            _field("kind", pa.string()),
            _field("lon", pa.float64(), crs="EPSG:4326"),
            _field("lat", pa.float64(), crs="EPSG:4326"),
            _field("quantity", pa.string(), description="ObservedProperty name"),
            _field("definition", pa.string(), description="ObservedProperty definition"),
            _field("value", pa.float64(), unit="see column unit"),
            _field("unit", pa.string()),
            _field("time", TIME, description="when the value was measured"),
            _field("datastream", pa.int64()),
        ],
        metadata={"town": town},
    )
    columns = [[row[field.name] for row in listed] for field in schema]
    return _written(pa.table(columns, schema=schema))
