"""`Datastreams/$latest`: the latest Observation of every Datastream, for map views.

    GET /{tenant}/v1.1/Datastreams/$latest?bbox=7.7,49.4,7.8,49.5&kind=lantern&$top=1000

Reads `sta_latest_observation` (one row per Datastream, kept by the ingest and the writer
in the transaction that stores the Observation), joined by primary key with
`sta_latest_head` (the rest of each entry as JSON text, kept by triggers): no Observation is
scanned, and the page is written as text (`latest_sql` on PostgreSQL, `latest_rows` on
SQLite). Only Datastreams that have Observations are listed, in id order, continued by
`$skiptoken`. `bbox` keeps Things with a current Location in the box (spatial index on both
backends), `kind` Things whose `properties/kind` is that string.
"""

from __future__ import annotations

import json
import math
from typing import Any

from shapely.geometry import box
from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from stadtkern.db import spatial
from stadtkern.errors import BadRequest
from stadtkern.sensorthings import latest_rows, latest_sql
from stadtkern.sensorthings.aggregate import planner_settings
from stadtkern.sensorthings.catalogue import DATASTREAM, LOCATION, THING
from stadtkern.sensorthings.context import Document, ReadContext
from stadtkern.sensorthings.counting import count_mode, count_rows
from stadtkern.sensorthings.keyset import SKIP_TOKEN, decode_token, encode_token, scope_of
from stadtkern.sensorthings.maps import property_map
from stadtkern.sensorthings.models import LatestObservation, ThingLocation
from stadtkern.sensorthings.pages import Window, token_url
from stadtkern.sensorthings.query import QueryOptions, compile_filter, parse_filter

LATEST_OBSERVATION = LatestObservation.__table__
SCOPE = scope_of("Datastreams/$latest", None)
# Query options that mean something here; the others would be silently ignored, so refused.
_OPTIONS = ("top", "skip", "skiptoken", "count")


def latest_values(session: Session, context: ReadContext, options: QueryOptions) -> Document:
    """A page of `{Datastream, Thing, location, Observation}`, one per Datastream."""
    _refuse_other_options(options)
    latest, head = LATEST_OBSERVATION, latest_rows.HEAD
    stream, thing = DATASTREAM.table, THING.table
    filters = _place_and_kind(context, thing)
    joined: Any = latest
    if filters:  # only bbox and kind need the Thing; the entries' text is in the head
        joined = latest.join(stream, stream.c.id == latest.c.datastream_id).join(
            thing, thing.c.id == stream.c.thing_id
        )
    where = [latest.c.tenant_id == context.tenant.id, *filters]
    frame = _window(options, context)
    page_where = list(where)
    if options.skiptoken is not None:
        (after,) = decode_token(options.skiptoken, SCOPE, 1)
        if not isinstance(after, int):
            raise BadRequest(f"{SKIP_TOKEN}: malformed token")
        page_where.append(latest.c.datastream_id > after)
    postgresql = session.get_bind().dialect.name == "postgresql"
    query = (
        select(*latest_rows.columns(stored=not postgresql))
        .select_from(joined.join(head, head.c.datastream_id == latest.c.datastream_id))
        .where(*page_where)
        .order_by(latest.c.datastream_id)
        .limit(frame.top + 1)
    )
    if frame.skip:
        query = query.offset(frame.skip)
    base = latest_rows.json_string(context.base_url)
    if postgresql:
        first, last = frame.skip + 1, frame.skip + frame.top
        paged = latest_sql.page_json(query, base=base, first=first, last=last)
        # JIT compilation (about 12 ms) would cost more than the whole query.
        with planner_settings(session, jit="off"):
            entries, returned, last_id = session.execute(paged).one()
        more = returned > frame.top and frame.top > 0
    else:
        rows = session.execute(query).all()
        more = len(rows) > frame.top and frame.top > 0
        rows = rows[: frame.top]
        last_id = rows[-1][0] if rows else None
        entries = latest_rows.entries_json(rows, base)
    body: dict[str, Any] = {}
    if options.count:
        mode, annotate = count_mode(context)
        limit = context.settings.count_limit
        body.update(
            count_rows(session, joined, where, mode, limit=limit, annotate=annotate).annotations()
        )
    if more:
        token = encode_token(SCOPE, [int(last_id)])
        assert token is not None  # noqa: S101 - an integer always encodes
        url = f"{context.base_url}/Datastreams/$latest"
        body["@iot.nextLink"] = token_url(url, context.query_items, frame.top, token)
    # The entries are JSON text already: the body is sent as text.
    head_text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))[:-1]
    return Document(f'{head_text}{"," if body else ""}"value":{entries}}}'.encode())


def _refuse_other_options(options: QueryOptions) -> None:
    plain = QueryOptions(**{name: getattr(options, name) for name in _OPTIONS})
    if plain != options:
        raise BadRequest(
            "Datastreams/$latest takes only $top, $skip, $skiptoken, $count, "
            "bbox, kind and countMode"
        )
    if options.skip and options.skiptoken is not None:
        raise BadRequest(f"{SKIP_TOKEN} and $skip cannot be combined")


def _window(options: QueryOptions, context: ReadContext) -> Window:
    settings = context.settings
    top = settings.default_top if options.top is None else options.top
    return Window(options.skip or 0, min(top, settings.latest_max_top))


def _place_and_kind(context: ReadContext, thing: Any) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    bbox = _single(context, "bbox")
    if bbox is not None:
        area = box(*parse_bbox(bbox))
        location = LOCATION.table
        placed = (
            select(ThingLocation.thing_id)
            .join(location, location.c.id == ThingLocation.location_id)
            .where(ThingLocation.thing_id == thing.c.id, spatial.intersects(location.c.geom, area))
        )
        terms.append(exists(placed))
    kind = _single(context, "kind")
    if kind is not None:
        literal = "'" + kind.replace("'", "''") + "'"
        condition = parse_filter(f"properties/kind eq {literal}")
        terms.append(compile_filter(condition, property_map(THING, thing)))
    return terms


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """`minLon,minLat,maxLon,maxLat` in WGS 84; BadRequest naming what is wrong."""
    parts = text.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(parts) != 4 or len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        raise BadRequest(f"bbox: expected minLon,minLat,maxLon,maxLat but found {text!r}")
    min_lon, min_lat, max_lon, max_lat = numbers
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BadRequest(
            f"bbox: {text!r} is not a box in WGS 84 (min <= max, longitudes within ±180, "
            "latitudes within ±90)"
        )
    return min_lon, min_lat, max_lon, max_lat


def location_of(thing_id: ColumnElement[Any]) -> Any:
    """The GeoJSON of a Thing's first current Location (by id), or NULL."""
    location = LOCATION.table
    return (
        select(location.c.location_json)
        .join(ThingLocation, ThingLocation.location_id == location.c.id)
        .where(ThingLocation.thing_id == thing_id)
        .order_by(location.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _single(context: ReadContext, name: str) -> str | None:
    values = [value for key, value in context.query_items if key == name]
    if len(values) > 1:
        raise BadRequest(f"{name} is given more than once")
    return values[0] if values else None
