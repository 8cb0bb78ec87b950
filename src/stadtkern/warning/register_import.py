"""Registering many lanterns at once from a GeoJSON FeatureCollection or a CSV file.

Every row is checked before anything is written, and the answer is a report:
`{"dryRun", "total", "valid", "created", "updated", "unchanged", "errors", "warnings"}`, each
error and warning `{"row" | "feature", "code", "field", "message"}`. CSV rows are numbered by
their line in the file (the header is line 1), GeoJSON features by their index in
`features` (from 0).

- Errors (the import is refused as a whole, 422 with the report): a field that is missing
  or invalid (code, coordinates, key, ...), a code twice in the file, and in mode
  `createOnly` a code already registered (mode `upsert` updates that lantern instead).
- Warnings (the row is imported): a lantern outside the town's boundary (lanterns on a
  neighbour's street are common), an unknown CSV column or GeoJSON property (ignored).

A dry run reports what would happen and changes nothing, not even the audit log. A real run
writes every lantern with its SensorThings Thing in one transaction and one audit entry.
A new lantern costs 25-40 ms (its Thing is a deep insert of nine entities through the
SensorThings rules), so a file holds at most 5,000 lanterns: on SQLite every other write,
alerts included, waits for the import's transaction. Larger fleets come in several files.
CSV: UTF-8 (a BOM is allowed), `,` or `;` as found in the header line; with `;` numbers may
use a decimal comma.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from shapely.geometry import Point
from shapely.prepared import prep
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.models import Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.errors import BadRequest, InvalidInput
from stadtkern.geo import GeometryError, geometry_from_geojson
from stadtkern.warning.models import Lantern
from stadtkern.warning.register import add_lantern, change_lantern, changed_values
from stadtkern.warning.register_schemas import LanternInput, register_values
from stadtkern.warning.register_things import ThingWriter

MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 5_000
ImportMode = Literal["upsert", "createOnly"]
GEOJSON_TYPES = ("application/geo+json", "application/json")
CSV_TYPE = "text/csv"
# CSV column -> LanternInput field (its JSON name).
CSV_COLUMNS = {
    "code": "code",
    "name": "name",
    "lon": "lon",
    "lat": "lat",
    "district": "district",
    "siren_db": "sirenSoundLevelDb",
    "firmware": "firmware",
    "public_key": "publicKey",
    "heartbeat_s": "heartbeatSeconds",
}
REQUIRED_COLUMNS = ("code", "lon", "lat", "public_key")
NUMBERS = {"lon": float, "lat": float, "siren_db": float, "heartbeat_s": int}
PROPERTIES = frozenset(set(CSV_COLUMNS.values()) - {"lon", "lat"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_CHUNK = 500


@dataclass
class _Entry:
    """One row or feature: where it is, what it says, and what is wrong with it."""

    index: int
    raw: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    lantern: LanternInput | None = None


@dataclass
class _Source:
    """The entries of a file and how they are numbered and named."""

    place: Literal["row", "feature"]
    entries: list[_Entry]
    warnings: list[dict[str, Any]]
    names: dict[str, str]  # LanternInput field -> name in the file

    def issue(self, index: int, code: object, name: str | None, message: str) -> dict[str, Any]:
        """An error or warning about one entry."""
        shown = self.names.get(name, name) if name else None
        return {
            self.place: index,
            "code": code if isinstance(code, str) else None,
            "field": shown,
            "message": message,
        }


def import_lanterns(
    *,
    session: Session,
    writer: ThingWriter | None,
    tenant: TenantRef,
    body: bytes,
    media_type: str,
    mode: ImportMode,
    actor: str,
) -> dict[str, Any]:
    """Check a file and, given a writer (no writer: a dry run), register its lanterns.

    InvalidInput (with the report as `report`) when a real run finds any error.
    """
    source = _read(body, media_type)
    entries = source.entries
    _validate(source)
    existing = _existing(session, tenant, [e.lantern.code for e in entries if e.lantern])
    _outside_boundary(session, tenant, source)
    plan: list[tuple[_Entry, Lantern | None]] = []
    for entry in entries:
        if entry.lantern is None:
            continue
        known = existing.get(entry.lantern.code)
        if known is not None and mode == "createOnly":
            message = "a lantern with this code is registered already (mode upsert updates it)"
            entry.errors.append(source.issue(entry.index, entry.lantern.code, "code", message))
            continue
        plan.append((entry, known))
    errors = [error for entry in entries for error in entry.errors]
    created = [entry for entry, known in plan if known is None]
    changed = [(e, k) for e, k in plan if k is not None and _differs(k, e.lantern)]
    report: dict[str, Any] = {
        "dryRun": writer is None,
        "total": len(entries),
        "valid": sum(1 for entry in entries if not entry.errors),
        "created": len(created),
        "updated": len(changed),
        "unchanged": len(plan) - len(created) - len(changed),
        "errors": errors,
        "warnings": sorted(source.warnings, key=lambda warning: int(warning[source.place])),
    }
    if writer is None:
        return report
    if errors:
        report |= {"created": 0, "updated": 0, "unchanged": 0}
        raise InvalidInput(
            f"the file has {len(errors)} error(s); nothing was imported", report=report
        )
    for entry in created:
        assert entry.lantern is not None  # noqa: S101 - planned entries are valid
        add_lantern(session, writer, tenant, entry.lantern)
    for entry, known in changed:
        assert entry.lantern is not None  # noqa: S101 - planned entries are valid
        change_lantern(session, writer, known, register_values(entry.lantern))
    audit.record(
        session,
        actor=actor,
        action="warning.lantern.import",
        target="lanterns",
        tenant_slug=tenant.slug,
        payload={
            "mode": mode,
            "created": [e.lantern.code for e in created if e.lantern],
            "updated": [e.lantern.code for e, _ in changed if e.lantern],
        },
    )
    return report


def _read(body: bytes, media_type: str) -> _Source:
    if len(body) > MAX_IMPORT_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_IMPORT_BYTES} bytes")
    if not body.strip():
        raise InvalidInput("the file is empty")
    if media_type in GEOJSON_TYPES:
        return _read_geojson(body)
    if media_type == CSV_TYPE:
        return _read_csv(body)
    raise InvalidInput(f"cannot import {media_type!r}: send application/geo+json or text/csv")


def _read_geojson(body: bytes) -> _Source:
    try:
        document = json.loads(body.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"the file is not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("expected a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise InvalidInput("the FeatureCollection has no 'features' array")
    _check_count(len(features))
    source = _Source("feature", [], [], {})
    for index, feature in enumerate(features):
        entry = _Entry(index, {})
        source.entries.append(entry)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            entry.errors.append(source.issue(index, None, None, "expected a GeoJSON Feature"))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        code = properties.get("code")
        for name in sorted(set(properties) - PROPERTIES, key=str):
            source.warnings.append(source.issue(index, code, None, f"property {name!r} ignored"))
        entry.raw = {name: value for name, value in properties.items() if name in PROPERTIES}
        try:
            point = geometry_from_geojson(feature.get("geometry"), allowed=("Point",))
        except GeometryError as exc:
            entry.errors.append(source.issue(index, code, "geometry", str(exc)))
            continue
        assert isinstance(point, Point)  # noqa: S101 - only points are allowed
        entry.raw |= {"lon": float(point.x), "lat": float(point.y)}
    return source


def _read_csv(body: bytes) -> _Source:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the CSV file is not UTF-8 (byte {exc.start})") from exc
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(rows)]
        records = [(rows.line_num, row) for row in rows if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise InvalidInput(f"the CSV file cannot be read at line {rows.line_num}: {exc}") from exc
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing or len(set(header)) != len(header):
        raise InvalidInput(
            f"the CSV header needs the columns {', '.join(CSV_COLUMNS)} (at least "
            f"{', '.join(REQUIRED_COLUMNS)}), each once; missing: {', '.join(missing) or 'none'}"
        )
    _check_count(len(records))
    names = {alias: column for column, alias in CSV_COLUMNS.items()}
    source = _Source("row", [], [], names)
    for name in header:
        if name not in CSV_COLUMNS:
            source.warnings.append(source.issue(1, None, None, f"column {name!r} ignored"))
    for line, row in records:
        entry = _Entry(line, {})
        source.entries.append(entry)
        if len(row) != len(header):
            message = f"has {len(row)} cells, the header {len(header)}"
            entry.errors.append(source.issue(line, row[0].strip() if row else None, None, message))
            continue
        cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        for column, alias in CSV_COLUMNS.items():
            value = cells.get(column, "")
            if not value:
                continue
            if column in NUMBERS:
                number = _number(value, NUMBERS[column], decimal_comma=delimiter == ";")
                if number is None:
                    message = f"{value!r} is not a number"
                    entry.errors.append(source.issue(line, cells.get("code"), alias, message))
                    continue
                entry.raw[alias] = number
            else:
                entry.raw[alias] = value
        if "name" not in entry.raw and "code" in entry.raw:
            entry.raw["name"] = entry.raw["code"]
    return source


def _validate(source: _Source) -> None:
    """Check each entry against LanternInput, then look for codes given twice."""
    first: dict[str, int] = {}
    for entry in source.entries:
        if entry.errors:
            continue
        code = entry.raw.get("code")
        try:
            entry.lantern = LanternInput.model_validate(entry.raw)
        except ValidationError as exc:
            for problem in exc.errors(include_url=False):
                name = str(problem["loc"][0]) if problem["loc"] else None
                message = str(problem["msg"]).removeprefix("Value error, ")
                entry.errors.append(source.issue(entry.index, code, name, message))
            continue
        if entry.lantern.code in first:
            message = f"the code appears already ({source.place} {first[entry.lantern.code]})"
            entry.errors.append(source.issue(entry.index, code, "code", message))
            entry.lantern = None
        else:
            first[entry.lantern.code] = entry.index


def _existing(session: Session, tenant: TenantRef, codes: list[str]) -> dict[str, Lantern]:
    found: dict[str, Lantern] = {}
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start : start + _CHUNK]
        query = select(Lantern).where(Lantern.tenant_id == tenant.id, Lantern.code.in_(chunk))
        found |= {lantern.code: lantern for lantern in session.scalars(query)}
    return found


def _outside_boundary(session: Session, tenant: TenantRef, source: _Source) -> None:
    town = session.get(Tenant, tenant.id)
    if town is None or town.boundary is None:
        return
    boundary = prep(town.boundary)
    for entry in source.entries:
        if entry.lantern is not None and not boundary.covers(entry.lantern.point()):
            message = "the lantern stands outside the town's boundary"
            source.warnings.append(source.issue(entry.index, entry.lantern.code, "lon", message))


def _differs(lantern: Lantern, lantern_input: LanternInput | None) -> bool:
    assert lantern_input is not None  # noqa: S101 - planned entries are valid
    return bool(changed_values(lantern, register_values(lantern_input)))


def _number(text: str, kind: type[float] | type[int], *, decimal_comma: bool) -> float | int | None:
    if decimal_comma and text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    if kind is int:
        return int(text) if text.lstrip("+-").isdigit() else None
    return float(text)


def _check_count(count: int) -> None:
    if count > MAX_IMPORT_ROWS:
        raise InvalidInput(f"the file has {count} lanterns; at most {MAX_IMPORT_ROWS} at once")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
