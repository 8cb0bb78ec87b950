"""The life of an alert: create, approve or reject, dispatch, cancel or give the all-clear.

Rules enforced here, whatever the adapter (HTTP, CAP ingest, warning day):
- An Actual alert or update needs an issuer and a different approver (the two-person rule);
  exercises, tests and system messages need one person. Module roles are never implied by
  admin, so no single role can do both.
- Identical alerts created within `dedup_seconds` are one alert: the first is returned.
- A tenant dispatches at most `max_dispatches_per_minute` alerts per minute; stopping
  (cancel, all-clear) is never rate-limited and never waits for a second person.
- Every step is written to the hash-chained audit log in the same transaction.
Decisions of one tenant are serialised (lock_tenant), so fifty identical requests at once
create, approve and sound one alert.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import Identity, TenantRef
from stadtkern.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from stadtkern.warning import APPROVER, ISSUER
from stadtkern.warning.alert_input import AlertInput
from stadtkern.warning.areas import AreaSpec, ResolvedArea, resolve_area, targets_in
from stadtkern.warning.cap_bridge import cap_message, reference_to
from stadtkern.warning.dispatch import Action, WarningEnv, lock_tenant, send_commands
from stadtkern.warning.models import Alert, Delivery, Lantern, Target
from stadtkern.warning.states import (
    ACTIVE,
    ALL_CLEAR,
    CANCELLED,
    DRAFT,
    OPEN_STATES,
    PENDING,
    REJECTED,
    SUPERSEDED,
)


def person_of(identity: Identity) -> str:
    """Who acts, as one person: two keys or a key and a session of one principal are one."""
    if identity.principal_id is not None:
        return f"principal:{identity.principal_id}"
    return identity.actor


def _require_any(identity: Identity, *roles: str) -> None:
    if not any(identity.has_role(role) for role in roles):
        raise Forbidden(f"this action needs the role {' or '.join(repr(r) for r in roles)}")


def _dedup_key(body: AlertInput) -> str:
    canonical = json.dumps(body.model_dump(mode="json", by_alias=True), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _identifier(tenant: TenantRef, now: datetime) -> str:
    return f"{tenant.slug}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def get_alert(session: Session, tenant: TenantRef, identifier: str) -> Alert:
    """The tenant's alert with this identifier (404 otherwise)."""
    alert = session.scalar(
        select(Alert).where(Alert.tenant_id == tenant.id, Alert.identifier == identifier)
    )
    if alert is None:
        raise NotFound(f"no alert '{identifier}'")
    return alert


def create(
    session: Session,
    tenant: TenantRef,
    body: AlertInput,
    who: Identity,
    env: WarningEnv,
    now: datetime,
    *,
    source: str = "api",
) -> tuple[Alert, bool]:
    """A new alert (or the identical one made moments ago); False when it already existed."""
    _require_any(who, ISSUER)
    lock_tenant(session, tenant.id)
    key = _dedup_key(body)
    window = now - timedelta(seconds=env.settings.dedup_seconds)
    earlier = session.scalar(
        select(Alert)
        .where(Alert.tenant_id == tenant.id, Alert.dedup_key == key, Alert.created_at >= window)
        .where(Alert.state.in_((DRAFT, PENDING, ACTIVE)))  # a closed alert may be issued again
        .order_by(Alert.id)
        .limit(1)
    )
    if earlier is not None:
        return earlier, False
    if body.msg_type == "Cancel":
        assert body.references is not None  # noqa: S101 - AlertInput demands it
        return cancel(session, tenant, body.references, who, env, now), True
    original = _referenced(session, tenant, body)
    area = resolve_area(session, tenant, body.area)
    content = body.model_dump(
        mode="json", by_alias=True, include={"event", "category", "urgency", "severity"}
    )
    content |= body.model_dump(
        mode="json",
        by_alias=True,
        include={"certainty", "sender_name", "headline", "description", "instruction", "audio"},
    )
    content |= {"voice": body.voice(), "capAreas": area.cap_areas, "zones": area.zone_keys}
    if original is not None:
        content["references"] = reference_to(original)
    alert = Alert(
        tenant_id=tenant.id,
        identifier=_identifier(tenant, now),
        sender=env.sender(tenant),
        status=body.status,
        msg_type=body.msg_type,
        channel=body.channel,
        state=DRAFT if body.status == "Draft" else PENDING,
        references_id=original.id if original is not None else None,
        signal=body.signal,
        repeat=body.repeat,
        content=content,
        area=body.area.model_dump(mode="json", by_alias=True),
        geom=area.geometry,
        expires_at=now + timedelta(minutes=body.expires_in_minutes),
        created_at=now,
        issued_by=who.actor,
        issuer_person=person_of(who),
        dedup_key=key,
        source=source,
        targeted=0,
    )
    session.add(alert)
    session.flush()
    _record(session, tenant, who.actor, "warning.alert.create", alert)
    if body.status not in ("Actual", "Draft"):
        # Exercises, tests and system messages: one person, sent at once.
        _dispatch(session, tenant, alert, who, env, now, original)
    return alert, True


def _referenced(session: Session, tenant: TenantRef, body: AlertInput) -> Alert | None:
    if body.references is None:
        return None
    original = get_alert(session, tenant, body.references)
    if original.channel != body.channel:
        raise InvalidInput("an update must keep the original's kind: real or exercise")
    if original.state not in OPEN_STATES:
        raise Conflict(f"alert '{original.identifier}' is {original.state}; nothing to update")
    return original


def approve(
    session: Session,
    tenant: TenantRef,
    identifier: str,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> Alert:
    """The second person's approval: the alert is sent to its lanterns at once."""
    _require_any(who, APPROVER)
    lock_tenant(session, tenant.id)
    alert = get_alert(session, tenant, identifier)
    if alert.state != PENDING:
        raise Conflict(f"alert '{identifier}' is {alert.state}, not waiting for approval")
    if person_of(who) == alert.issuer_person:
        raise Forbidden("the two-person rule: a real alert must be approved by someone else")
    if alert.expires_at <= now:
        raise Conflict(f"alert '{identifier}' expired before it was approved")
    original = session.get(Alert, alert.references_id) if alert.references_id else None
    if original is not None and original.state not in OPEN_STATES:
        raise Conflict(f"the alert it updates is {original.state}")
    alert.approved_by, alert.approved_at = who.actor, now
    _record(session, tenant, who.actor, "warning.alert.approve", alert)
    _dispatch(session, tenant, alert, who, env, now, original)
    return alert


def reject(
    session: Session, tenant: TenantRef, identifier: str, who: Identity, reason: str, now: datetime
) -> Alert:
    """Turn down an alert waiting for approval (the issuer may withdraw it too)."""
    _require_any(who, APPROVER, ISSUER)
    lock_tenant(session, tenant.id)
    alert = get_alert(session, tenant, identifier)
    if alert.state not in (PENDING, DRAFT):
        raise Conflict(f"alert '{identifier}' is {alert.state}; only pending alerts are rejected")
    alert.state, alert.closed_by = REJECTED, who.actor
    _record(session, tenant, who.actor, "warning.alert.reject", alert, reason=reason)
    return alert


def _rate_limit(session: Session, tenant: TenantRef, env: WarningEnv, now: datetime) -> None:
    recent = session.scalar(
        select(func.count())
        .select_from(Alert)
        .where(
            Alert.tenant_id == tenant.id,
            Alert.sent_at >= now - timedelta(minutes=1),
            Alert.msg_type != "Cancel",
        )
    )
    if int(recent or 0) >= env.settings.max_dispatches_per_minute:
        raise TooManyRequests(
            f"more than {env.settings.max_dispatches_per_minute} alerts in a minute", retry_after=60
        )


def _dispatch(
    session: Session,
    tenant: TenantRef,
    alert: Alert,
    who: Identity,
    env: WarningEnv,
    now: datetime,
    original: Alert | None,
) -> None:
    _rate_limit(session, tenant, env, now)
    lanterns = targets_in(session, tenant, resolve_area_of(session, tenant, alert))
    alert.state, alert.sent_at = ACTIVE, now
    alert.cap_xml = cap_message(alert, now)
    count = send_commands(session, tenant, alert, lanterns, action="sound", env=env, now=now)
    if original is not None:
        original.state, original.closed_by = SUPERSEDED, who.actor
    _record(session, tenant, who.actor, "warning.alert.dispatch", alert, lanterns=count)


def resolve_area_of(session: Session, tenant: TenantRef, alert: Alert) -> ResolvedArea:
    """The alert's area as stored (zones resolved again: a zone may have changed since)."""
    return resolve_area(session, tenant, AreaSpec.model_validate(alert.area))


def _stop_targets(session: Session, alert: Alert) -> list[Target]:
    return [
        Target(*row)
        for row in session.execute(
            select(Lantern.id, Lantern.code)
            .join(Delivery, Delivery.lantern_id == Lantern.id)
            .where(Delivery.alert_id == alert.id)
            .order_by(Lantern.code)
        )
    ]


def _follow_up(
    session: Session,
    tenant: TenantRef,
    identifier: str,
    who: Identity,
    env: WarningEnv,
    now: datetime,
    *,
    msg_type: str,
    signal: str,
    end_state: str,
) -> Alert:
    _require_any(who, ISSUER, APPROVER)
    lock_tenant(session, tenant.id)
    original = get_alert(session, tenant, identifier)
    if original.state == PENDING:
        raise Conflict(f"alert '{identifier}' has not been sent; reject it instead")
    if original.msg_type == "Cancel" or original.state not in OPEN_STATES:
        raise Conflict(f"alert '{identifier}' is {original.state}; there is nothing to stop")
    content = dict(original.content)
    content["references"] = reference_to(original)
    content["voice"] = None
    follow = Alert(
        tenant_id=tenant.id,
        identifier=_identifier(tenant, now),
        sender=original.sender,
        status=original.status,
        msg_type=msg_type,
        channel=original.channel,
        state=ACTIVE,
        references_id=original.id,
        signal=signal,
        repeat=1,
        content=content,
        area=original.area,
        geom=original.geom,
        expires_at=now + timedelta(seconds=env.settings.command_ttl_seconds),
        created_at=now,
        sent_at=now,
        issued_by=who.actor,
        issuer_person=person_of(who),
        dedup_key=secrets.token_hex(16),
        source="api",
        targeted=0,
    )
    session.add(follow)
    session.flush()
    follow.cap_xml = cap_message(follow, now)
    original.state, original.closed_by = end_state, who.actor
    action: Action = "stop" if msg_type == "Cancel" else "sound"
    targets = _stop_targets(session, original)
    count = send_commands(
        session,
        tenant,
        follow,
        targets,
        action=action,
        env=env,
        now=now,
        stops=original.identifier,
    )
    _record(session, tenant, who.actor, f"warning.alert.{end_state}", follow, lanterns=count)
    return follow


def cancel(
    session: Session,
    tenant: TenantRef,
    identifier: str,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> Alert:
    """Withdraw an alert at once (CAP Cancel): lanterns stop; one person, no rate limit."""
    return _follow_up(
        session,
        tenant,
        identifier,
        who,
        env,
        now,
        msg_type="Cancel",
        signal="none",
        end_state=CANCELLED,
    )


def all_clear(
    session: Session,
    tenant: TenantRef,
    identifier: str,
    who: Identity,
    env: WarningEnv,
    now: datetime,
) -> Alert:
    """End an alert with the all-clear signal (CAP Update): one person, no rate limit."""
    return _follow_up(
        session,
        tenant,
        identifier,
        who,
        env,
        now,
        msg_type="Update",
        signal="all_clear",
        end_state=ALL_CLEAR,
    )


def _record(
    session: Session, tenant: TenantRef, actor: str, action: str, alert: Alert, **extra: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target=f"alert:{alert.identifier}",
        tenant_slug=tenant.slug,
        payload={
            "status": alert.status,
            "msgType": alert.msg_type,
            "state": alert.state,
            "signal": alert.signal,
            "dedupKey": alert.dedup_key,
            **extra,
        },
    )


# The actions on an alert, by the last part of their paths (API and console).
ACTIONS: tuple[str, ...] = ("approve", "reject", "cancel", "all-clear")


def act(
    session: Session,
    tenant: TenantRef,
    identifier: str,
    action: str,
    who: Identity,
    env: WarningEnv,
    now: datetime,
    *,
    reason: str = "",
) -> Alert:
    """Carry out one of ACTIONS on an alert (the HTTP routes and the console's buttons)."""
    if action == "approve":
        return approve(session, tenant, identifier, who, env, now)
    if action == "reject":
        return reject(session, tenant, identifier, who, reason, now)
    if action == "cancel":
        return cancel(session, tenant, identifier, who, env, now)
    if action == "all-clear":
        return all_clear(session, tenant, identifier, who, env, now)
    raise ValueError(f"no action {action!r} on alerts")
