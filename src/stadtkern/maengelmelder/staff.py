"""The town's people who work on reports, and giving a report to one of them.

The staff API's `assign` takes any name (an app may track crews the platform does not know);
the console offers only people of the town who hold a defect role, so that a report is never
handed to a misspelt name nobody will ever see.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stadtkern.core.principals import role_holders
from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput
from stadtkern.maengelmelder import DEFECT_ADMIN, HANDLER
from stadtkern.maengelmelder.models import Update
from stadtkern.maengelmelder.workflow import assign


def assignable(*, session: Session, tenant: TenantRef) -> list[str]:
    """Names of the town's people holding `defect_handler` or `defect_admin`, sorted."""
    holders = role_holders(session=session, tenant=tenant)
    return sorted({*holders.get(HANDLER, []), *holders.get(DEFECT_ADMIN, [])})


def assign_to_staff(
    *, session: Session, tenant: TenantRef, report_id: int, assignee: str, actor: str
) -> Update:
    """Give a report to a person of the town's staff (empty: to nobody)."""
    name = assignee.strip()
    if name and name not in assignable(session=session, tenant=tenant):
        raise InvalidInput(f"'{name[:100]}' does not work on reports in this town")
    return assign(session=session, tenant=tenant, report_id=report_id, assignee=name, actor=actor)
