"""Who may use the console's administration: a session of the town with the role `admin`
(platform administrators hold it in every town). Others are told so on a 403 page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stadtkern.core.roles import ADMIN
from stadtkern.web.console_gate import RoleGate

if TYPE_CHECKING:
    from stadtkern.platform import Platform


def admin_gate(platform: Platform) -> RoleGate:
    """The console's door (a live session, CSRF, same origin) plus the role admin."""
    return RoleGate(platform, ADMIN, "console/admin_forbidden.html")
