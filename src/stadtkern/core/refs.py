"""Small immutable values passed explicitly through the service layer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TenantRef:
    """The tenant of a request or MQTT message, resolved once and passed on explicitly."""

    id: int
    slug: str
    name: str
    timezone: str
    locale: str
    modules: frozenset[str]

    def has_module(self, name: str) -> bool:
        """True when the module is switched on for this tenant (core always is)."""
        return name == "core" or name in self.modules


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is acting: an API key's principal, an OIDC subject or a browser session's user."""

    actor: str
    principal_id: int | None
    tenant_id: int | None
    roles: frozenset[str]
    via: str  # "api_key" | "oidc" | "session"
    platform_admin: bool = False

    def has_role(self, role: str) -> bool:
        """True when the identity holds the role (core roles include lower core roles)."""
        return role in self.roles
