"""Platform settings: environment variables with the prefix STADTKERN_ and an optional TOML file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_SECRET = "change-me"  # noqa: S105 - the marker start-up refuses outside dev mode
CONFIG_FILE_ENV = "STADTKERN_CONFIG"


class MqttSettings(BaseModel):
    """How the platform reaches its MQTT broker."""

    model_config = {"extra": "forbid"}

    url: str = Field(
        default="embedded",
        description="'embedded' for the in-process broker, or mqtt://user:pass@host:port / mqtts://",
    )
    embedded_bind: str = Field(
        default="127.0.0.1:1884", description="Listener of the embedded broker"
    )
    client_id: str = Field(default="stadtkern-platform", description="Persistent-session client id")
    ca_file: Path | None = Field(default=None, description="CA bundle for TLS (mqtts://)")
    cert_file: Path | None = Field(default=None, description="Client certificate for TLS")
    key_file: Path | None = Field(default=None, description="Client key for TLS")
    tls_insecure: bool = Field(
        default=False, description="Skip host name verification (tests only)"
    )
    keepalive: int = Field(default=30, ge=5, le=3600, description="Keep-alive in seconds")
    reconnect_min_delay: float = Field(default=0.5, gt=0, description="First reconnect delay (s)")
    reconnect_max_delay: float = Field(
        default=30.0, gt=0, description="Largest reconnect delay (s)"
    )
    outbox_batch: int = Field(
        default=100, ge=1, le=10_000, description="Outbox rows sent per round"
    )
    inflight: int = Field(default=20, ge=1, le=1000, description="QoS 1 messages awaiting PUBACK")
    inbound_concurrency: int = Field(
        default=512,
        ge=1,
        le=10_000,
        description="Inbound messages handled at once (acknowledged in the order received)",
    )
    inbound_backlog: int = Field(
        default=2000,
        ge=1,
        le=1_000_000,
        description="Inbound messages waiting to be handled before the client reads no more",
    )
    outbox_lease_seconds: float = Field(
        default=60.0, ge=1, description="How long a process holds outbox rows it is sending"
    )


class OidcSettings(BaseModel):
    """Optional OpenID Connect bearer tokens (for example from the city's Keycloak)."""

    model_config = {"extra": "forbid"}

    enabled: bool = False
    issuer: str = ""
    audience: str = ""
    jwks_url: str = ""
    jwks_file: Path | None = None
    roles_claim: str = Field(
        default="stadtkern_roles",
        description="Dotted path of the claim holding 'tenant:role' strings",
    )
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    client_id: str = Field(
        default="", description="Client id of the console's browser login (none: no button)"
    )
    client_secret: SecretStr | None = Field(
        default=None, description="Secret of a confidential client (none: a public client)"
    )
    provider_name: str = Field(
        default="OpenID Connect", max_length=60, description="Shown as 'Log in with <name>'"
    )
    scope: str = Field(default="openid profile", description="Scopes the browser login asks for")

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> OidcSettings:
        if self.enabled and not (
            self.issuer and self.audience and (self.jwks_url or self.jwks_file)
        ):
            raise ValueError("OIDC needs issuer, audience and jwks_url or jwks_file when enabled")
        if self.client_id and not self.enabled:
            raise ValueError("the OIDC browser login (client_id) needs OIDC enabled")
        if self.client_id and "openid" not in self.scope.split():
            raise ValueError("the OIDC scope must contain 'openid'")
        return self


class Settings(BaseSettings):
    """Effective configuration of one Stadtkern process."""

    model_config = SettingsConfigDict(
        env_prefix="STADTKERN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    dev_mode: bool = Field(default=False, description="Relaxes secret checks and cookie security")
    database_url: str = Field(
        default="sqlite:///var/stadtkern.sqlite",
        description="sqlite:///path or postgresql+psycopg://user@host/db",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description=(
            "Keys the HMAC of stored API-key and session secrets; changing it ends all keys "
            "and sessions"
        ),
    )
    modules: list[str] | None = Field(
        default=None, description="Modules to load (comma-separated); all installed when unset"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = Field(default="", description="Base URL as seen by clients")
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body")
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    session_cookie_secure: bool = Field(default=True, description="Send cookies over HTTPS only")
    auth_failure_limit: int = Field(default=10, ge=1, description="Failed logins per window")
    auth_failure_window_seconds: int = Field(default=300, ge=1)
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process remembers a verified API key and a tenant lookup "
        "(0: never); a key revoked or a tenant disabled in another process stops working "
        "within this time",
    )
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    module_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-module settings tables: [module_settings.<name>]"
    )

    @field_validator("modules", mode="before")
    @classmethod
    def _split_modules(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = os.environ.get(CONFIG_FILE_ENV)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @property
    def token_pepper(self) -> bytes:
        """Key of the HMAC under which API-key and session secrets are stored."""
        return self.secret_key.get_secret_value().encode()

    @property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite backend is configured."""
        return self.database_url.startswith("sqlite")

    def insecure_reasons(self) -> list[str]:
        """Why these settings must not run outside dev mode (empty when they may)."""
        reasons = []
        secret = self.secret_key.get_secret_value()
        if not secret or secret == DEFAULT_SECRET or len(secret) < 32:
            reasons.append(
                "STADTKERN_SECRET_KEY is empty, the default or shorter than 32 characters"
            )
        if "://" in self.mqtt.url and _url_password(self.mqtt.url) == DEFAULT_SECRET:
            reasons.append("the MQTT password is the default")
        return reasons


def _url_password(url: str) -> str | None:
    return urlsplit(url).password


SECRET_FIELDS = ("secret_key",)


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration with every secret and URL password masked."""
    data = settings.model_dump(mode="json")
    for field in SECRET_FIELDS:
        data[field] = "********" if data.get(field) else ""
    for path in (("database_url",), ("mqtt", "url")):
        holder = data
        for key in path[:-1]:
            holder = holder[key]
        parts = urlsplit(holder[path[-1]])
        if parts.password:
            netloc = f"{parts.username}:********@{parts.hostname}"
            if parts.port:
                netloc += f":{parts.port}"
            holder[path[-1]] = urlunsplit(parts._replace(netloc=netloc))
    return data
