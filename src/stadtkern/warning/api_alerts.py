"""HTTP adapter of alerts: create, approve, reject, cancel, all-clear, coverage, CAP in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import object_session

from stadtkern.core.refs import Identity
from stadtkern.core.roles import VIEWER
from stadtkern.errors import InvalidInput, NotFound, PayloadTooLarge, Unauthenticated
from stadtkern.http.deps import PlatformDep, TenantDep, get_identity, require
from stadtkern.http.problems import responses
from stadtkern.modules.contract import ModuleContext
from stadtkern.warning import alerts
from stadtkern.warning.alert_input import AlertInput
from stadtkern.warning.cap import CAP_MEDIA_TYPE, CapInvalid, from_xml
from stadtkern.warning.cap_ingest import input_from_cap
from stadtkern.warning.coverage import coverage, lantern_report
from stadtkern.warning.models import Alert
from stadtkern.warning.register_schemas import CODE
from stadtkern.warning.states import ALERT_STATES
from stadtkern.warning.wiring import env_of

MAX_CAP_BYTES = 1 << 20
# What a CAP identifier may hold (CAP forbids spaces, commas and restricted characters).
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:@/+=-]{1,255}$"
AlertIdentifier = Annotated[
    str, Path(pattern=IDENTIFIER_PATTERN, description="The alert's CAP identifier")
]


class Reason(BaseModel):
    """Why an alert is turned down."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def alert_json(alert: Alert, base: str, now: datetime, *, with_coverage: bool) -> dict[str, Any]:
    """An alert as the API shows it, with the links to act on it."""
    content = alert.content
    own = f"{base}/alerts/{alert.identifier}"
    links = {"self": own, "cap": f"{own}/cap", "deliveries": f"{own}/deliveries"}
    if alert.state == "pending_approval":
        links |= {"approve": f"{own}/approve", "reject": f"{own}/reject"}
    if alert.state == "active" and alert.msg_type != "Cancel":
        # The prepared way out, one action away for every open alert.
        links |= {"cancel": f"{own}/cancel", "allClear": f"{own}/all-clear"}
    body: dict[str, Any] = {
        "identifier": alert.identifier,
        "sender": alert.sender,
        "status": alert.status,
        "msgType": alert.msg_type,
        "kind": "real" if alert.channel == "live" else "exercise",
        "state": alert.state,
        "references": (content.get("references") or {}).get("identifier"),
        "event": content.get("event"),
        "headline": content.get("headline"),
        "description": content.get("description"),
        "instruction": content.get("instruction"),
        "signal": alert.signal,
        "repeat": alert.repeat,
        "voice": content.get("voice"),
        "area": alert.area,
        "issuedBy": alert.issued_by,
        "approvedBy": alert.approved_by,
        "closedBy": alert.closed_by,
        "createdAt": _iso(alert.created_at),
        "sentAt": _iso(alert.sent_at),
        "expiresAt": _iso(alert.expires_at),
        "targeted": alert.targeted,
        "links": links,
    }
    if with_coverage:
        body["coverage"] = coverage_of(alert, now)
    return body


def coverage_of(alert: Alert, now: datetime) -> dict[str, int | float] | None:
    """Delivery figures (None until the alert was sent)."""
    session = object_session(alert)
    if session is None or alert.sent_at is None:
        return None
    return coverage(session, alert, now).as_json()


async def _read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"a CAP message may have at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def build_alert_router(context: ModuleContext) -> APIRouter:
    """Routes under `/{tenant}/warning/alerts` and `/{tenant}/warning/cap`."""
    router = APIRouter(prefix="/{tenant}/warning", tags=["warning"])
    env = env_of(context)

    def base_of(request: Request, slug: str) -> str:
        return f"{str(request.base_url).rstrip('/')}/{slug}/warning"

    @router.post(
        "/alerts",
        status_code=201,
        summary="Issue an alert, exercise, test, update or cancel",
        responses=responses(401, 403, 404, 409, 422, 429),
    )
    def create_alert(
        body: AlertInput,
        request: Request,
        response: Response,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> dict[str, Any]:
        """Real alerts wait for a second person; exercises and tests go out at once."""
        now = datetime.now(UTC)
        with platform.database.write() as session:
            alert, created = alerts.create(session, tenant, body, who, env, now)
            answer = alert_json(alert, base_of(request, tenant.slug), now, with_coverage=True)
        if not created:
            response.status_code = 200  # the identical alert made moments ago
        response.headers["Location"] = answer["links"]["self"]
        return answer

    @router.get(
        "/alerts", summary="The town's alerts, newest first", responses=responses(401, 403, 404)
    )
    def list_alerts(
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
        state: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Filter by state (pending_approval for the approval queue)."""
        if state is not None and state not in ALERT_STATES:
            raise InvalidInput(f"unknown state '{state}'; known: {', '.join(ALERT_STATES)}")
        now = datetime.now(UTC)
        query = select(Alert).where(Alert.tenant_id == tenant.id)
        if state is not None:
            query = query.where(Alert.state == state)
        with platform.database.read() as session:
            found = session.scalars(query.order_by(Alert.id.desc()).limit(limit))
            base = base_of(request, tenant.slug)
            return [alert_json(alert, base, now, with_coverage=False) for alert in found]

    @router.get(
        "/alerts/{identifier}",
        summary="One alert with its coverage",
        responses=responses(401, 403, 404),
    )
    def read_alert(
        identifier: AlertIdentifier,
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> dict[str, Any]:
        """Targeted, acknowledged, failed and silent lanterns, live."""
        now = datetime.now(UTC)
        with platform.database.read() as session:
            alert = alerts.get_alert(session, tenant, identifier)
            return alert_json(alert, base_of(request, tenant.slug), now, with_coverage=True)

    def _act(action: str) -> Callable[..., dict[str, Any]]:
        def route(
            identifier: AlertIdentifier,
            request: Request,
            tenant: TenantDep,
            platform: PlatformDep,
            who: Annotated[Identity, Depends(require(VIEWER))],
            body: Annotated[Reason | None, Body()] = None,
        ) -> dict[str, Any]:
            now = datetime.now(UTC)
            reason = body.reason if body is not None else ""
            with platform.database.write() as session:
                alert = alerts.act(
                    session, tenant, identifier, action, who, env, now, reason=reason
                )
                return alert_json(alert, base_of(request, tenant.slug), now, with_coverage=True)

        return route

    summaries = {
        "approve": "Approve a real alert (a second person): it is sent at once",
        "reject": "Turn down an alert waiting for approval",
        "cancel": "Cancel an alert now: lanterns stop (CAP Cancel)",
        "all-clear": "Give the all-clear for an alert (CAP Update, steady tone)",
    }
    for action in alerts.ACTIONS:
        router.add_api_route(
            f"/alerts/{{identifier}}/{action}",
            _act(action),
            methods=["POST"],
            summary=summaries[action],
            responses=responses(401, 403, 404, 409, 429),
        )

    @router.get(
        "/alerts/{identifier}/deliveries",
        summary="Every lantern's answer to an alert",
        responses=responses(401, 403, 404),
    )
    def deliveries(
        identifier: AlertIdentifier,
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        after: Annotated[
            str | None, Query(pattern=CODE.pattern, description="a lantern code")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Paged by lantern code: pass the last code as `after`."""
        now = datetime.now(UTC)
        with platform.database.read() as session:
            alert = alerts.get_alert(session, tenant, identifier)
            return lantern_report(session, alert, now, limit=limit, after=after)

    @router.get(
        "/alerts/{identifier}/cap",
        summary="The alert's CAP 1.2 message",
        response_class=Response,
        responses=responses(401, 403, 404),
    )
    def alert_cap(
        identifier: AlertIdentifier,
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> Response:
        """Exactly the XML that was sent (404 for alerts not yet sent)."""
        with platform.database.read() as session:
            alert = alerts.get_alert(session, tenant, identifier)
            if alert.cap_xml is None:
                raise NotFound(f"alert '{identifier}' has not been sent")
            return Response(alert.cap_xml, media_type=CAP_MEDIA_TYPE)

    @router.post(
        "/cap",
        status_code=201,
        summary="Take in a CAP 1.2 message (for example from the federal warning system)",
        responses=responses(401, 403, 404, 409, 413, 422, 429),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {CAP_MEDIA_TYPE: {"schema": {"type": "string"}}},
            }
        },
    )
    async def ingest_cap(
        request: Request,
        response: Response,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(get_identity)],
    ) -> dict[str, Any]:
        """Validated against the OASIS schema; a real alert still needs its second person."""
        if who is None:
            raise Unauthenticated("this resource needs an API key, OIDC token or session")
        if who.tenant_id != tenant.id and not who.platform_admin:
            raise NotFound(f"no tenant '{tenant.slug}'")
        xml = await _read_limited(request, MAX_CAP_BYTES)
        try:
            message = from_xml(xml)
        except CapInvalid as error:
            problems = [{"location": "body", "message": m, "type": "cap"} for m in error.errors]
            raise InvalidInput(str(error), errors=problems) from error
        now = datetime.now(UTC)

        def work() -> tuple[dict[str, Any], bool]:
            with platform.database.write() as session:
                body = input_from_cap(session, tenant, message, now)
                alert, created = alerts.create(session, tenant, body, who, env, now, source="cap")
                return alert_json(
                    alert, base_of(request, tenant.slug), now, with_coverage=True
                ), created

        answer, created = await anyio.to_thread.run_sync(work)
        if not created:
            response.status_code = 200
        response.headers["Location"] = answer["links"]["self"]
        return answer

    return router
