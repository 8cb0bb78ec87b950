"""The warning module's HTTP routes: register and zones, alerts, keys and warning days, and
the public feeds."""

from __future__ import annotations

from fastapi import APIRouter

from stadtkern.modules.contract import ModuleContext
from stadtkern.warning.api_alerts import build_alert_router
from stadtkern.warning.api_ops import build_ops_router
from stadtkern.warning.api_public import build_public_router
from stadtkern.warning.api_register import build_register_router


def build_routers(context: ModuleContext) -> list[APIRouter]:
    """Every router of the module."""
    return [
        build_register_router(context),
        build_alert_router(context),
        build_ops_router(context),
        build_public_router(),
    ]
