"""Request and response bodies of the core API (XCreate / XUpdate / XPublic)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# Top-level paths the platform uses itself; a tenant slug must not shadow them.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "auth", "docs", "healthz", "metrics", "openapi", "readyz", "redoc", "static"}
)
LOCALES = ("de", "en")
# Amtlicher Regionalschlüssel: 2 digits Land (01-16), 1 Regierungsbezirk, 2 Kreis,
# 4 Gemeindeverband, 3 Gemeinde.
ARS = re.compile(r"^(0[1-9]|1[0-6])\d{10}$")


def validate_slug(value: str) -> str:
    """A tenant slug: lower-case letters, digits and hyphens, 3-40 characters, not reserved."""
    if not SLUG.match(value) or "--" in value:
        raise ValueError(
            "a tenant slug has 3-40 characters: lower-case letters, digits and single hyphens, "
            "starting with a letter"
        )
    if value in RESERVED_SLUGS:
        raise ValueError(f"'{value}' is reserved by the platform")
    return value


def validate_ars(value: str) -> str:
    """An official regional key (ARS): 12 digits starting with a Land code 01-16."""
    if not ARS.match(value):
        raise ValueError("the regional key (ARS) has 12 digits and starts with a Land code 01-16")
    return value


def validate_timezone(value: str) -> str:
    """An IANA time zone name such as Europe/Berlin."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{value}'") from exc
    return value


Slug = Annotated[str, AfterValidator(validate_slug)]
RegionalKey = Annotated[str, AfterValidator(validate_ars)]
TimeZoneName = Annotated[str, AfterValidator(validate_timezone)]
Locale = Annotated[str, Field(pattern="^(de|en)$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TenantCreate(_Strict):
    """A new municipality."""

    slug: Slug = Field(description="URL name, e.g. 'kaiserslautern'")
    name: str = Field(min_length=1, max_length=200, description="Display name")
    ars: RegionalKey = Field(description="Official regional key (Amtlicher Regionalschlüssel)")
    boundary: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon in WGS 84"
    )
    timezone: TimeZoneName = "Europe/Berlin"
    locale: Locale = "de"
    modules: list[str] = Field(default_factory=list, description="Modules switched on")


class TenantCopy(_Strict):
    """A new municipality adopting the configuration of an existing one."""

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    ars: RegionalKey
    boundary: dict[str, Any] | None = None


class TenantUpdate(_Strict):
    """Changes to a municipality; fields left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    ars: RegionalKey | None = None
    boundary: dict[str, Any] | None = None
    timezone: TimeZoneName | None = None
    locale: Locale | None = None
    modules: list[str] | None = None
    module_settings: dict[str, dict[str, Any]] | None = None


class TenantPublic(BaseModel):
    """A municipality as the API shows it."""

    slug: str
    name: str
    ars: str
    boundary: dict[str, Any] | None
    timezone: str
    locale: str
    modules: list[str]
    module_settings: dict[str, Any]
    disabled: bool
    created_at: datetime


class PrincipalCreate(_Strict):
    """A person or machine account in a tenant."""

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="user", pattern="^(user|service)$")
    roles: list[str] = Field(default_factory=list)


class PrincipalUpdate(_Strict):
    """New roles or a disabled flag for a principal."""

    roles: list[str] | None = None
    disabled: bool | None = None


class PrincipalPublic(BaseModel):
    """A principal as the API shows it."""

    id: int
    name: str
    kind: str
    roles: list[str]
    disabled: bool
    created_at: datetime


class ApiKeyCreate(_Strict):
    """A new API key for a principal."""

    principal_id: int
    label: str = Field(default="", max_length=200)
    expires_at: datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("expires_at needs a time zone, e.g. 2027-01-01T00:00:00Z")
        return value


class ApiKeyPublic(BaseModel):
    """An API key's metadata; the secret is never shown again."""

    key_id: str
    principal_id: int
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """A new key, with its secret shown exactly once."""

    token: str


class LoginRequest(_Strict):
    """Exchange an API key or an OIDC token for a browser session."""

    token: str = Field(min_length=8, max_length=8192)


class SessionPublic(BaseModel):
    """A new browser session; the CSRF token goes into the X-CSRF-Token header of writes."""

    actor: str
    roles: list[str]
    csrf_token: str
    expires_at: datetime


class WhoAmI(BaseModel):
    """The identity behind the request."""

    actor: str
    tenant: str | None
    roles: list[str]
    via: str
    platform_admin: bool


class RolePublic(BaseModel):
    """A role of the tenant's catalogue."""

    name: str
    module: str
    description: str
