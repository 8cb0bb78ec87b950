"""A Datastream's Observations as a file: CSV, GeoJSON or Parquet, for console and portal."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from fastapi.responses import Response

from stadtkern.errors import InvalidInput
from stadtkern.sensorthings.csv_ import spreadsheet_safe
from stadtkern.web.parquet_ import MEDIA_TYPE as PARQUET
from stadtkern.web.parquet_ import observations_parquet
from stadtkern.web.stream_data import StreamInfo

FORMATS = ("csv", "geojson", "parquet")


def check_format(suffix: str) -> None:
    """InvalidInput unless the suffix names a format we write."""
    if suffix not in FORMATS:
        raise InvalidInput("downloads: observations.csv, .geojson or .parquet")


def observations_file(
    info: StreamInfo, rows: list[tuple[datetime, Any]], suffix: str, filename: str
) -> Response:
    """The Observations in the asked format, as an attachment named `filename`."""
    check_format(suffix)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if suffix == "csv":
        return Response(_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
    if suffix == "parquet":
        body = observations_parquet(
            rows,
            name=info.name,
            unit=info.unit,
            property_name=info.property_name,
            definition=info.definition,
        )
        return Response(body, media_type=PARQUET, headers=headers)
    collection = {
        "type": "FeatureCollection",
        "name": info.name,
        "features": [
            {
                "type": "Feature",
                "geometry": None,
                "properties": {"phenomenonTime": at.isoformat(), "result": result},
            }
            for at, result in rows
        ],
    }
    return Response(json.dumps(collection), media_type="application/geo+json", headers=headers)


def _csv(rows: list[tuple[datetime, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["phenomenonTime", "result"])
    for at, result in rows:
        value = spreadsheet_safe(result) if isinstance(result, str) else result
        writer.writerow([at.isoformat(), value])
    return out.getvalue()
