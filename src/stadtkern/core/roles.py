"""The core's roles and how they include one another."""

from __future__ import annotations

from stadtkern.modules.contract import RoleSpec

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"
PLATFORM_ADMIN = "platform_admin"

CORE_ROLES = (
    RoleSpec(VIEWER, "Reads the tenant's data"),
    RoleSpec(OPERATOR, "Operates devices and processes the tenant's data"),
    RoleSpec(ADMIN, "Administers the tenant: users, keys, roles, modules"),
)

# A core role includes the core roles below it; module roles are never implied, so that
# rules such as the warning module's two-person rule cannot be bypassed by being admin.
IMPLIED = {ADMIN: {ADMIN, OPERATOR, VIEWER}, OPERATOR: {OPERATOR, VIEWER}, VIEWER: {VIEWER}}


def effective_roles(granted: set[str] | frozenset[str]) -> frozenset[str]:
    """The roles a principal holds, with the core roles its grants imply."""
    roles = set(granted)
    for role in granted:
        roles |= IMPLIED.get(role, set())
    return frozenset(roles)
