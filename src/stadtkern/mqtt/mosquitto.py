"""Mosquitto's password and ACL files, written from the platform's live tenant API keys.

Mosquitto checks logins and topics itself, from files: the password file holds each key's
`mqtt_password_hash` under the key id as username, and the ACL file the grants of
`mqtt/access.py` (the same rules the embedded broker enforces). Mosquitto reads both again on
SIGHUP.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core import keys, principals
from stadtkern.core.models import ApiKey, Principal, Tenant
from stadtkern.core.roles import effective_roles
from stadtkern.db.base import utcnow
from stadtkern.mqtt.access import (
    MqttPrincipal,
    TopicGrant,
    anonymous_grants,
    grants_of,
)
from stadtkern.mqtt.credentials import ServiceLogin

HEADER = "# Written by `stadtkern mqtt mosquitto-auth`; changes here are overwritten.\n"


@dataclass
class MosquittoAuth:
    """The contents of both files, and what was left out."""

    passwords: list[str] = field(default_factory=list)
    acl: list[str] = field(default_factory=list)
    keys: int = 0
    without_hash: list[str] = field(default_factory=list)  # key ids issued before MQTT logins

    def password_file(self) -> str:
        """The password file's text."""
        return HEADER + "".join(f"{line}\n" for line in self.passwords)

    def acl_file(self) -> str:
        """The ACL file's text."""
        return HEADER + "".join(f"{line}\n" for line in self.acl)


def _acl_lines(grants: Iterable[TopicGrant]) -> list[str]:
    return [f"topic {'readwrite' if g.write else 'read'} {g.pattern}" for g in grants]


def build_mosquitto_auth(
    *, session: Session, service: ServiceLogin | None, anonymous_read: Callable[[str], bool]
) -> MosquittoAuth:
    """Both files for the live keys of enabled tenants, the service user and anonymous reads."""
    auth = MosquittoAuth()
    enabled = list(session.scalars(select(Tenant).where(Tenant.disabled.is_(False))))
    open_slugs = [tenant.slug for tenant in enabled if anonymous_read(tenant.slug)]
    # ACL lines before the first `user` line are those of anonymous clients.
    auth.acl += ["# anonymous clients", *_acl_lines(anonymous_grants(open_slugs)), ""]
    if service is not None:
        if keys.KEY_ID.fullmatch(service.username):
            raise ValueError("the MQTT service username must not look like an API key id")
        auth.passwords.append(f"{service.username}:{keys.mosquitto_hash(service.password)}")
        platform = MqttPrincipal(name=service.username, platform=True)
        auth.acl += [f"user {service.username}", *_acl_lines(grants_of(platform)), ""]
    now = utcnow()
    rows = session.execute(
        select(ApiKey, Principal, Tenant)
        .join(Principal, Principal.id == ApiKey.principal_id)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(
            ApiKey.revoked_at.is_(None),
            (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > now),
            Principal.disabled.is_(False),
            Tenant.disabled.is_(False),
        )
        .order_by(ApiKey.key_id)
    )
    for key, principal, tenant in rows:
        roles = effective_roles(principals.roles_of(session, principal.id))
        grants = grants_of(MqttPrincipal(name=key.key_id, tenant_slug=tenant.slug, roles=roles))
        if not grants:
            continue
        if key.mqtt_password_hash is None:
            auth.without_hash.append(key.key_id)
            continue
        auth.passwords.append(f"{key.key_id}:{key.mqtt_password_hash}")
        auth.acl += [f"user {key.key_id}", *_acl_lines(grants), ""]
        auth.keys += 1
    return auth


def write_atomically(path: Path, text: str, mode: int = 0o640) -> None:
    """Replace `path` in one step, so Mosquitto never reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
