"""`stadtkern bootstrap`: the first platform administrator of a new installation."""

from __future__ import annotations

from sqlalchemy import select

from stadtkern.cli.common import CLI_ACTOR, console, database, err, load_settings
from stadtkern.core.accounts import create_machine_account
from stadtkern.core.models import Principal, RoleGrant
from stadtkern.core.roles import PLATFORM_ADMIN
from stadtkern.modules import discover_modules


def bootstrap() -> None:
    """Create a platform administrator and print its key, unless one exists already."""
    with database() as db, db.write() as session:
        existing = session.scalar(
            select(Principal.id)
            .join(RoleGrant, RoleGrant.principal_id == Principal.id)
            .where(Principal.tenant_id.is_(None), RoleGrant.role == PLATFORM_ADMIN)
            .limit(1)
        )
        if existing is not None:
            console.print(
                "platform administrator exists; create more keys with `stadtkern key create`"
            )
            return
        issued = create_machine_account(
            session=session,
            tenant_slug=None,
            name="platform-admin",
            roles=[PLATFORM_ADMIN],
            installed=discover_modules(None),
            expires_at=None,
            actor=CLI_ACTOR,
            pepper=load_settings().token_pepper,
        )
    err.print("First platform administrator created. Its API key, shown only now:")
    console.print(f"  {issued.token}", highlight=False, soft_wrap=True)
    err.print("Use it as 'Authorization: Bearer <key>' on /admin/tenants to create a town.")
