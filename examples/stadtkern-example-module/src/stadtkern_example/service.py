"""Greetings: the service layer the HTTP and MQTT adapters call."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import NotFound
from stadtkern_example.models import Greeting


def create_greeting(*, session: Session, tenant: TenantRef, text: str) -> Greeting:
    """Store a greeting for the tenant."""
    greeting = Greeting(tenant_id=tenant.id, text=text)
    session.add(greeting)
    session.flush()
    return greeting


def get_greeting(*, session: Session, tenant: TenantRef, greeting_id: int) -> Greeting:
    """One greeting of this tenant."""
    greeting = session.scalar(
        select(Greeting).where(Greeting.id == greeting_id, Greeting.tenant_id == tenant.id)
    )
    if greeting is None:
        raise NotFound(f"no greeting {greeting_id}")
    return greeting


def list_greetings(*, session: Session, tenant: TenantRef) -> list[Greeting]:
    """The tenant's greetings, oldest first."""
    return list(
        session.scalars(
            select(Greeting).where(Greeting.tenant_id == tenant.id).order_by(Greeting.id)
        )
    )


def copy_greetings(*, session: Session, source: TenantRef, target: TenantRef) -> None:
    """Copy the source tenant's greetings to the target tenant."""
    for greeting in list_greetings(session=session, tenant=source):
        session.add(Greeting(tenant_id=target.id, text=greeting.text))
