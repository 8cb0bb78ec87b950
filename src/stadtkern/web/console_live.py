"""HTTP adapter of the console's live values: `GET /{tenant}/console/live`, Server-Sent Events.

The overview page opens this stream with its filter and the cursor it was rendered at
(`after`, an Observation id); each event carries the new latest values of the shown
Things, written as the page writes them (the person's language, the town's time zone), and
the cursor as its id, so a browser that reconnects (EventSource sends `Last-Event-ID`) gets
what it missed from the latest-value table first. A stream lasts at most `STREAM_SECONDS`
(then the browser reconnects and the session is checked again) and sends a comment every
`HEARTBEAT_SECONDS` so that proxies keep it open. See live_feed.py for where values come
from.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep
from stadtkern.modules.contract import ModuleContext
from stadtkern.web import console_data, live_data
from stadtkern.web.console_gate import Gate
from stadtkern.web.console_overview import value_text
from stadtkern.web.i18n import choose_language
from stadtkern.web.live_data import LiveValue
from stadtkern.web.live_feed import LiveFeed, Watcher
from stadtkern.web.rendering import local_time

STREAM_SECONDS = 300.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000  # how long a browser waits before it reconnects
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering


def live_feed(context: ModuleContext) -> LiveFeed:
    """The platform's live feed, made once and woken by the SensorThings ingest's commits."""
    feed = context.extras.get("live_feed")
    if isinstance(feed, LiveFeed):
        return feed
    made = LiveFeed(context.platform.database)
    sensorthings = context.platform.contexts.get("sensorthings")
    if sensorthings is not None:
        from stadtkern.sensorthings.wiring import ingest_of

        ingest_of(sensorthings).on_commit(made.committed)
    context.extras["live_feed"] = made
    return made


async def close_live_feed(context: ModuleContext) -> None:
    """End every live stream (the platform stops)."""
    feed = context.extras.get("live_feed")
    if isinstance(feed, LiveFeed):
        await feed.close()


def build_live_router(context: ModuleContext) -> APIRouter:
    """The console's live stream."""
    router = APIRouter(prefix="/{tenant}/console", tags=["console"], include_in_schema=False)
    gate = Gate(context.platform)
    feed = live_feed(context)

    @router.get("/live")
    async def live(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        kind: str = Query(default="", max_length=200),
        district: str = Query(default="", max_length=200),
        after: int | None = Query(default=None, ge=0),
    ) -> Response:
        identity, _csrf = await to_thread.run_sync(gate.staff, request, tenant)
        if identity is None:
            raise Unauthenticated("log in to the console first")
        cursor = _last_event_id(request, after)
        things = None
        if kind or district:
            things = await to_thread.run_sync(_chosen, platform, tenant, kind, district)
        watcher = await feed.join(tenant.id, things)
        try:
            missed: list[LiveValue] = []
            if cursor is not None:
                missed = await to_thread.run_sync(_missed, platform, tenant, cursor, things)
        except BaseException:
            feed.leave(watcher)
            raise
        writer = _Writer(tenant, choose_language(request, tenant.locale))
        return StreamingResponse(
            _events(feed, watcher, missed, writer), media_type="text/event-stream", headers=HEADERS
        )

    return router


def _last_event_id(request: Request, after: int | None) -> int | None:
    """Where the browser left off: its Last-Event-ID on a reconnect, else the page's cursor."""
    header = request.headers.get("last-event-id")
    if header is None or header == "":
        return after
    if not header.isdigit() or len(header) > 19:
        raise InvalidInput("Last-Event-ID must be the id of an event of this stream")
    return int(header)


def _chosen(platform: Any, tenant: TenantRef, kind: str, district: str) -> frozenset[int]:
    """Ids of the Things the filter keeps (as the overview chooses them)."""
    with platform.database.read() as session:
        every = console_data.things(session, tenant.id)
    return frozenset(
        thing_id
        for thing_id, device in every.items()
        if (not kind or device.kind == kind) and (not district or device.district == district)
    )


def _missed(
    platform: Any, tenant: TenantRef, cursor: int, things: frozenset[int] | None
) -> list[LiveValue]:
    with platform.database.read() as session:
        found = live_data.changed_since(session, tenant.id, cursor)
    return [value for value in found if things is None or value.thing_id in things]


class _Writer:
    """Values as the overview writes them, in one language."""

    def __init__(self, tenant: TenantRef, language: str) -> None:
        self.tenant = tenant
        self.language = language

    def event(self, values: list[LiveValue], cursor: int) -> str:
        """One SSE event with the values; its id is the cursor to resume from."""
        data = {"values": [self.value(value) for value in values]}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {cursor}\nevent: values\ndata: {text}\n\n"

    def value(self, value: LiveValue) -> dict[str, Any]:
        """A value with its text and time, both as the page shows them."""
        return {
            "datastream": value.datastream_id,
            "thing": value.thing_id,
            "value": value.value,
            "unit": value.unit,
            "text": value_text(value.value, value.unit, self.language),
            "at": value.at.isoformat(),
            "when": local_time(value.at, self.tenant, self.language),
        }


async def _events(
    feed: LiveFeed, watcher: Watcher, missed: list[LiveValue], writer: _Writer
) -> AsyncIterator[str]:
    ends = time.monotonic() + STREAM_SECONDS
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if missed:
            watcher.cursor = max(watcher.cursor, *(value.observation_id for value in missed))
            yield writer.event(missed, watcher.cursor)
        while (left := ends - time.monotonic()) > 0:
            values = await watcher.take(min(HEARTBEAT_SECONDS, left))
            if values is None:
                break
            yield writer.event(values, watcher.cursor) if values else ": still here\n\n"
    finally:
        feed.leave(watcher)
