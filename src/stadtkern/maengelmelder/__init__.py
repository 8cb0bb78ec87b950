"""Mängelmelder: citizens report defects (potholes, broken lights, illegal dumping) and the
town's departments process them, over Open311 GeoReport v2 so that apps written for one city
work in the next. See docs/maengelmelder.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.maengelmelder.settings import MaengelmelderSettings
from stadtkern.modules.contract import (
    BackgroundTask,
    BaseModule,
    BodyAllowance,
    ModuleContext,
    RoleSpec,
)

HANDLER = "defect_handler"
DEFECT_ADMIN = "defect_admin"
OPEN311_CLIENT = "open311_client"
FORM_FIELDS_BYTES = 262_144  # description, answers, contact and multipart framing


class MaengelmelderModule(BaseModule):
    """Categories, departments, reports and their history, the Open311 API, notices."""

    name = "maengelmelder"
    title = "Defect reports (Mängelmelder, Open311 GeoReport v2)"
    settings_model = MaengelmelderSettings
    migrations = Path(__file__).parent / "migrations"
    depends_on = ("core",)
    roles = (
        RoleSpec(HANDLER, "Processes defect reports: status, notes, assignment, merging"),
        RoleSpec(DEFECT_ADMIN, "Manages report categories and departments"),
        RoleSpec(OPEN311_CLIENT, "A third-party app that submits reports through Open311"),
    )

    def routers(self, context: ModuleContext) -> Sequence[APIRouter]:
        """`/{tenant}/open311/v2/...` (the standard) and `/{tenant}/maengelmelder/...` (staff)."""
        from stadtkern.maengelmelder.api import build_routers

        return build_routers(context)

    def body_allowances(self, context: ModuleContext) -> Sequence[BodyAllowance]:
        """A report with a photo, through Open311 or the portal's form: the photo limit and
        room for the form's fields (a phone's photo is larger than the platform's 1 MiB)."""
        settings = context.settings
        assert isinstance(settings, MaengelmelderSettings)  # noqa: S101 - this module's own
        limit = settings.max_photo_bytes + FORM_FIELDS_BYTES
        return (
            BodyAllowance("POST", r"/[^/]+/open311/v2/requests\.(json|xml)", limit),
            BodyAllowance("POST", r"/[^/]+/portal/reports/new", limit),
        )

    def background_tasks(self, context: ModuleContext) -> Sequence[BackgroundTask]:
        """The mail courier and the retention purge."""
        from stadtkern.maengelmelder.wiring import background_tasks

        return background_tasks(context)

    def copy_configuration(self, session: Session, source: TenantRef, target: TenantRef) -> None:
        """Departments and categories are configuration; reports are data and stay."""
        from stadtkern.maengelmelder.catalogue import copy_catalogue

        copy_catalogue(session=session, source=source, target=target)


module = MaengelmelderModule()
