"""MQTT logins: the platform's own service credential and tenants' API keys as passwords."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from stadtkern.core import keys, tenants
from stadtkern.core.authn import Authenticator, Credentials
from stadtkern.core.models import ApiKey, Tenant
from stadtkern.core.refs import TenantRef
from stadtkern.errors import StadtkernError
from stadtkern.mqtt.access import ANONYMOUS_PRINCIPAL, MqttPrincipal

# username, password, client address -> the principal, or None to refuse the connection.
Login = Callable[[str | None, str | None, str], MqttPrincipal | None]
SERVICE_USERNAME = "stadtkern-platform"


@dataclass(frozen=True, slots=True)
class ServiceLogin:
    """The username and password of the platform's own MQTT connection."""

    username: str
    password: str

    @classmethod
    def generate(cls, username: str = SERVICE_USERNAME) -> ServiceLogin:
        """A random credential for one run of the embedded broker (never stored)."""
        return cls(username=username, password=secrets.token_urlsafe(32))

    def matches(self, username: str | None, password: str | None) -> bool:
        """True when the pair is this credential (compared in constant time)."""
        same_user = hmac.compare_digest((username or "").encode(), self.username.encode())
        same_password = hmac.compare_digest((password or "").encode(), self.password.encode())
        return same_user and same_password


class ApiKeyLogin:
    """Checks MQTT logins: no credentials is anonymous, a password must be a live tenant key.

    The username is not checked for keys (Mosquitto's files use the key id as username); what
    counts is the password, the full `sk_<key id>_<secret>` token. Keys of platform
    administrators get no MQTT access. Failed logins count towards the Authenticator's
    failure limit of the client address, like failed HTTP logins. Blocking (database): call
    it from a worker thread.
    """

    def __init__(self, *, authenticator: Authenticator, service: ServiceLogin | None) -> None:
        self._authenticator = authenticator
        self._service = service

    def __call__(
        self, username: str | None, password: str | None, client: str
    ) -> MqttPrincipal | None:
        """The principal of this login, or None to refuse it."""
        if self._service is not None and self._service.matches(username, password):
            return MqttPrincipal(name=self._service.username, platform=True)
        if not username and not password:
            return ANONYMOUS_PRINCIPAL
        address = f"mqtt:{client}"
        parts = keys.split_token(password or "")
        try:
            if parts is None:
                self._authenticator.limiter.check(address)
                self._authenticator.limiter.fail(address)
                return None
            tenant = self._tenant_of(parts[0])
            identity = self._authenticator.identify(
                Credentials(client=address, bearer=password), tenant
            )
        except StadtkernError:  # unknown, expired or revoked key; too many failures
            return None
        if tenant is None or identity is None or identity.tenant_id != tenant.id:
            return None
        return MqttPrincipal(name=parts[0], tenant_slug=tenant.slug, roles=identity.roles)

    def _tenant_of(self, key_id: str) -> TenantRef | None:
        with self._authenticator.database.read() as session:
            tenant = session.scalar(
                select(Tenant)
                .join(ApiKey, ApiKey.tenant_id == Tenant.id)
                .where(ApiKey.key_id == key_id)
            )
            if tenant is None or tenant.disabled:
                return None
            return tenants.to_ref(tenant)
