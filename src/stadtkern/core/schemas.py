"""Request and response bodies of the core API (XCreate / XUpdate / XPublic)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")
# Top-level paths the platform uses itself; a tenant slug must not shadow them.
RESERVED_SLUGS = frozenset(
    {"admin", "api", "auth", "docs", "healthz", "metrics", "openapi", "readyz", "redoc", "static"}
)
LOCALES = ("de", "en")
# Amtlicher Regionalschlüssel: 2 digits Land (01-16), 1 Regierungsbezirk, 2 Kreis,
# 4 Gemeindeverband, 3 Gemeinde.
ARS = re.compile(r"^(0[1-9]|1[0-6])[0-9]{10}$")
# Ids and sequence numbers are 64-bit on both backends; a larger number names nothing and must
# not reach the database driver, which cannot bind it (SQLite raises OverflowError).
MAX_ROW_ID = 2**63 - 1


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


# The patterns are published in the OpenAPI document; the validators give the clearer errors.
Slug = Annotated[
    str,
    AfterValidator(validate_slug),
    WithJsonSchema({"type": "string", "pattern": SLUG.pattern, "minLength": 3, "maxLength": 40}),
]
RegionalKey = Annotated[
    str, AfterValidator(validate_ars), WithJsonSchema({"type": "string", "pattern": ARS.pattern})
]
Boundary = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "description": "GeoJSON Polygon or MultiPolygon in WGS 84",
            "required": ["type", "coordinates"],
            "properties": {
                "type": {"enum": ["Polygon", "MultiPolygon"]},
                "coordinates": {"type": "array"},
            },
        }
    ),
]
TimeZoneName = Annotated[str, AfterValidator(validate_timezone)]
Locale = Annotated[str, Field(pattern="^(de|en)$")]
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


def refuse_nul(value: object) -> object:
    """Refuse NUL characters anywhere in a value: PostgreSQL cannot store them in text or JSON."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    return value


class RequestBody(BaseModel):
    """A request body: unknown fields and NUL characters are refused, strings are stripped.

    Strict: JSON types are taken as documented, so 0.0 or "no" is not a boolean and "7" is
    not an id; fields that parse text (times) opt out one by one.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return refuse_nul(value)


class TenantCreate(RequestBody):
    """A new municipality."""

    slug: Slug = Field(description="URL name, e.g. 'kaiserslautern'")
    name: str = Field(min_length=1, max_length=200, description="Display name")
    ars: RegionalKey = Field(description="Official regional key (Amtlicher Regionalschlüssel)")
    boundary: Boundary | None = None
    timezone: TimeZoneName = "Europe/Berlin"
    locale: Locale = "de"
    modules: list[str] = Field(default_factory=list, description="Modules switched on")


class TenantCopy(RequestBody):
    """A new municipality adopting the configuration of an existing one."""

    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    ars: RegionalKey
    boundary: Boundary | None = None


class TenantUpdate(RequestBody):
    """Changes to a municipality; fields left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    ars: RegionalKey | None = None
    boundary: Boundary | None = None
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


class PrincipalCreate(RequestBody):
    """A person or machine account in a tenant."""

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="user", pattern="^(user|service)$")
    roles: list[str] = Field(default_factory=list)


class PrincipalUpdate(RequestBody):
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


class ApiKeyCreate(RequestBody):
    """A new API key for a principal."""

    principal_id: RowId
    label: str = Field(default="", max_length=200)
    expires_at: datetime | None = Field(default=None, strict=False)

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


class LoginRequest(RequestBody):
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
