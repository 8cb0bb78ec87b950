"""HTTP adapter of signing keys (provisioning, rotation) and warning days."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from stadtkern.core.refs import Identity
from stadtkern.core.roles import ADMIN, VIEWER
from stadtkern.errors import Forbidden
from stadtkern.http.deps import PlatformDep, TenantDep, require
from stadtkern.http.problems import responses
from stadtkern.modules.contract import ModuleContext
from stadtkern.warning import ISSUER, keys, rotation, warning_day
from stadtkern.warning.models import WarningDay
from stadtkern.warning.wiring import env_of

ChannelName = Literal["live", "exercise"]


class WarningDayInput(BaseModel):
    """When the warning day is and which signal sounds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    scheduled_for: AwareDatetime = Field(alias="scheduledFor")
    signal: Literal["warning", "all_clear", "test_tone"] = "warning"
    note: str = Field("", max_length=2000)


class ChannelChoice(BaseModel):
    """Which channel's key: live (real alerts) or exercise."""

    model_config = ConfigDict(extra="forbid")

    channel: ChannelName


def _day_json(day: WarningDay) -> dict[str, Any]:
    return {
        "id": day.id,
        "scheduledFor": day.scheduled_for.isoformat(),
        "state": day.state,
        "signal": day.signal,
        "note": day.note,
        "createdBy": day.created_by,
    }


def build_ops_router(context: ModuleContext) -> APIRouter:
    """Routes under `/{tenant}/warning/keys` and `/{tenant}/warning/warning-days`."""
    router = APIRouter(prefix="/{tenant}/warning", tags=["warning"])
    env = env_of(context)

    @router.get(
        "/keys",
        summary="Public command keys (to provision lanterns)",
        responses=responses(401, 403, 404),
    )
    def public_keys(
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> list[dict[str, str]]:
        """Per channel the active key and a prepared next key; private keys never leave."""
        with platform.database.write() as session:
            return keys.public_keys(session, tenant, env.secret)

    @router.post(
        "/keys/rotate",
        summary="Announce a new signing key to every lantern",
        responses=responses(401, 403, 404, 422),
    )
    def rotate(
        choice: ChannelChoice,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(require(ADMIN))],
    ) -> dict[str, Any]:
        """Step one of a rotation; watch its delivery like an alert's."""
        now = datetime.now(UTC)
        with platform.database.write() as session:
            upcoming, alert = rotation.start(session, tenant, choice.channel, who, env, now)
            return {
                "kid": upcoming.kid,
                "publicKey": upcoming.public_key,
                "alert": alert.identifier,
            }

    @router.post(
        "/keys/activate",
        summary="Sign with the announced key from now on",
        responses=responses(401, 403, 404, 422),
    )
    def activate(
        choice: ChannelChoice,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(require(ADMIN))],
    ) -> dict[str, Any]:
        """Step two: the old key is retired; lanterns are told to drop it."""
        now = datetime.now(UTC)
        with platform.database.write() as session:
            active, alert, missing = rotation.finish(session, tenant, choice.channel, who, env, now)
            return {"kid": active.kid, "alert": alert.identifier, "lanternsWithoutKey": missing}

    @router.post(
        "/warning-days",
        status_code=201,
        summary="Schedule a warning day: a test of every lantern",
        responses=responses(401, 403, 404, 422),
    )
    def schedule(
        body: WarningDayInput,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> dict[str, Any]:
        """One person (an issuer), like every exercise."""
        with platform.database.write() as session:
            day = warning_day.schedule(
                session,
                tenant,
                who,
                body.scheduled_for,
                datetime.now(UTC),
                signal=body.signal,
                note=body.note,
            )
            return _day_json(day)

    @router.get(
        "/warning-days", summary="The town's warning days", responses=responses(401, 403, 404)
    )
    def list_days(
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> list[dict[str, Any]]:
        """Newest first."""
        with platform.database.read() as session:
            days = session.scalars(
                select(WarningDay)
                .where(WarningDay.tenant_id == tenant.id)
                .order_by(WarningDay.scheduled_for.desc())
            )
            return [_day_json(day) for day in days]

    @router.post(
        "/warning-days/{day_id}/cancel",
        summary="Call off a warning day that has not started",
        responses=responses(401, 403, 404, 409),
    )
    def cancel(
        day_id: int,
        tenant: TenantDep,
        platform: PlatformDep,
        who: Annotated[Identity, Depends(require(VIEWER))],
    ) -> dict[str, Any]:
        """Issuers only."""
        if not who.has_role(ISSUER):
            raise Forbidden("this action needs the role 'warning_issuer'")
        with platform.database.write() as session:
            return _day_json(warning_day.cancel_day(session, tenant, day_id, who))

    @router.get(
        "/warning-days/{day_id}/report",
        summary="A warning day's result per lantern (JSON or CSV)",
        responses={
            **responses(401, 403, 404),
            200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}},
        },
    )
    def day_report(
        day_id: int,
        request: Request,
        tenant: TenantDep,
        platform: PlatformDep,
        _who: Annotated[Identity, Depends(require(VIEWER))],
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ) -> Any:
        """Figures against the 99 % target, then every lantern."""
        with platform.database.read() as session:
            result = warning_day.report(session, tenant, day_id, datetime.now(UTC))
        if format == "json":
            return result
        out = io.StringIO()
        writer = csv.writer(out)
        columns = ("lantern", "name", "district", "state", "reason", "startedAt", "finishedAt")
        writer.writerow(columns)
        for row in result["lanterns"]:
            writer.writerow([row[column] if row[column] is not None else "" for column in columns])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    return router
