"""The lantern register: which lanterns a town has, where they stand and how to verify them.

A lantern is registered with its code (the name on its MQTT topics), its place and the public
half of its device key; its SensorThings Thing is made in the same transaction (see
register_things). Health fields (battery, mains, last heartbeat, ...) are written by the
lanterns' reports, never through the register.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from shapely.geometry import Point, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import audit
from stadtkern.core.refs import TenantRef
from stadtkern.db import spatial
from stadtkern.errors import Conflict, NotFound
from stadtkern.warning.models import Alert, Delivery, Lantern
from stadtkern.warning.readiness import Status, lantern_status
from stadtkern.warning.register_schemas import (
    LanternFilter,
    LanternInput,
    LanternUpdate,
    register_values,
)
from stadtkern.warning.register_things import (
    ThingWriter,
    create_thing,
    delete_thing,
    update_thing,
)
from stadtkern.warning.settings import WarningSettings
from stadtkern.warning.states import OPEN_STATES

_STATUS_BATCH = 1000


def get_lantern(*, session: Session, tenant: TenantRef, code: str) -> Lantern:
    """The town's lantern with this code; NotFound otherwise."""
    lantern = session.scalars(
        select(Lantern).where(Lantern.tenant_id == tenant.id, Lantern.code == code)
    ).first()
    if lantern is None:
        raise NotFound(f"no lantern '{code}'")
    return lantern


def list_lanterns(
    *,
    session: Session,
    tenant: TenantRef,
    lantern_filter: LanternFilter,
    now: datetime,
    settings: WarningSettings,
) -> list[tuple[Lantern, Status]]:
    """The town's lanterns that pass the filter, by code, with their status."""
    query = select(Lantern).where(Lantern.tenant_id == tenant.id).order_by(Lantern.code)
    if lantern_filter.district is not None:
        query = query.where(Lantern.district == lantern_filter.district)
    if lantern_filter.bbox is not None:
        query = query.where(spatial.intersects(Lantern.geom, box(*lantern_filter.bbox)))
    found: list[tuple[Lantern, Status]] = []
    after = lantern_filter.after
    # The status is computed, not stored: read by code in batches until the page is full.
    batch = lantern_filter.limit if lantern_filter.status is None else _STATUS_BATCH
    while len(found) < lantern_filter.limit:
        page = query if after is None else query.where(Lantern.code > after)
        lanterns = list(session.scalars(page.limit(batch)))
        for lantern in lanterns:
            status = lantern_status(lantern, now, settings)
            if lantern_filter.status in (None, status) and len(found) < lantern_filter.limit:
                found.append((lantern, status))
        if len(lanterns) < batch:
            break
        after = lanterns[-1].code
    return found


def add_lantern(
    session: Session, writer: ThingWriter, tenant: TenantRef, lantern_input: LanternInput
) -> Lantern:
    """Register a lantern and make its Thing (no audit entry: the caller records one)."""
    lantern = Lantern(tenant_id=tenant.id, code=lantern_input.code, streams={}, report_seq=0)
    for column, value in register_values(lantern_input).items():
        setattr(lantern, column, value)
    lantern.tamper = False
    session.add(lantern)
    create_thing(session, writer, lantern)
    session.flush()
    return lantern


def change_lantern(
    session: Session, writer: ThingWriter, lantern: Lantern, values: dict[str, Any]
) -> bool:
    """Apply register values to a lantern and its Thing; False when nothing differs."""
    changed = changed_values(lantern, values)
    if not changed and lantern.thing_id is not None:
        return False
    for column, value in changed.items():
        setattr(lantern, column, value)
    update_thing(session, writer, lantern, moved="geom" in changed)
    session.flush()
    return True


def create_lantern(
    *,
    session: Session,
    writer: ThingWriter,
    tenant: TenantRef,
    lantern_input: LanternInput,
    actor: str,
) -> Lantern:
    """Register one lantern; Conflict when the code is taken."""
    taken = select(Lantern.id).where(
        Lantern.tenant_id == tenant.id, Lantern.code == lantern_input.code
    )
    if session.scalars(taken).first() is not None:
        raise Conflict(f"a lantern '{lantern_input.code}' is already registered")
    lantern = add_lantern(session, writer, tenant, lantern_input)
    _audit(session, tenant, actor, "create", lantern)
    return lantern


def update_lantern(
    *,
    session: Session,
    writer: ThingWriter,
    tenant: TenantRef,
    code: str,
    lantern_update: LanternUpdate,
    actor: str,
) -> Lantern:
    """Change a lantern's register entry (its code stays)."""
    lantern = get_lantern(session=session, tenant=tenant, code=code)
    if change_lantern(session, writer, lantern, register_values(lantern_update)):
        _audit(session, tenant, actor, "update", lantern)
    return lantern


def delete_lantern(
    *, session: Session, writer: ThingWriter, tenant: TenantRef, code: str, actor: str
) -> None:
    """Remove a lantern, its Thing and its deliveries; Conflict while an alert is active on it."""
    lantern = get_lantern(session=session, tenant=tenant, code=code)
    active = session.scalars(
        select(Alert.identifier)
        .join(Delivery, Delivery.alert_id == Alert.id)
        .where(Delivery.lantern_id == lantern.id, Alert.state.in_(OPEN_STATES))
        .limit(1)
    ).first()
    if active is not None:
        raise Conflict(f"the lantern takes part in the active alert {active}; remove it later")
    delete_thing(session, writer, lantern)
    session.delete(lantern)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="warning.lantern.delete",
        target=f"lantern:{code}",
        tenant_slug=tenant.slug,
    )


def register_entry(lantern: Lantern) -> dict[str, Any]:
    """The register fields of a lantern as JSON (for audit payloads and comparisons)."""
    point = lantern.geom
    assert isinstance(point, Point)  # noqa: S101 - the column holds points
    return {
        "code": lantern.code,
        "name": lantern.name,
        "lon": float(point.x),
        "lat": float(point.y),
        "district": lantern.district,
        "sirenSoundLevelDb": lantern.siren_db,
        "firmware": lantern.firmware,
        "publicKey": lantern.device_key,
        "heartbeatSeconds": lantern.heartbeat_s,
    }


def _audit(
    session: Session,
    tenant: TenantRef,
    actor: str,
    verb: Literal["create", "update"],
    lantern: Lantern,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"warning.lantern.{verb}",
        target=f"lantern:{lantern.code}",
        tenant_slug=tenant.slug,
        payload=register_entry(lantern),
    )


def changed_values(lantern: Lantern, values: dict[str, Any]) -> dict[str, Any]:
    """The register values that differ from the lantern's."""
    return {
        column: value
        for column, value in values.items()
        if not _same(getattr(lantern, column), value)
    }


def _same(old: object, new: object) -> bool:
    if isinstance(old, Point) and isinstance(new, Point):
        return bool(old.equals_exact(new, 0.0))
    return old == new
