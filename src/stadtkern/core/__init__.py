"""The core module: tenants, principals and roles, API keys, sessions, audit log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter

from stadtkern.core.roles import CORE_ROLES
from stadtkern.modules.contract import BaseModule, ModuleContext, RoleSpec


class CoreModule(BaseModule):
    """Tenancy, authentication and audit: what every other module stands on."""

    name = "core"
    title = "Core: tenants, access and audit"
    roles: Sequence[RoleSpec] = CORE_ROLES
    migrations = Path(__file__).parent / "migrations"
    depends_on: Sequence[str] = ()

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """The admin API, tenant administration and authentication routes."""
        from stadtkern.core.api import routers

        return routers()


module = CoreModule()
