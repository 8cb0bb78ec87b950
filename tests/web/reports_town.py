"""A town with the Mängelmelder and the web pages, its staff keys, and visitors with their own
address (the form's rate limit counts per address, and the test platform is shared)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stadtkern.db import Database
from stadtkern.maengelmelder.models import Photo, Report
from tests.conftest import TenantFixture, issue_token
from tests.maengelmelder.conftest import set_up_catalogue

ORIGIN = {"Origin": "http://testserver"}


@dataclass(frozen=True)
class DefectTown:
    """A town with the form and the console, and a key per role."""

    slug: str
    admin: str
    defect_admin: str
    handler: str
    viewer: str
    app: str


def make_defect_town(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> DefectTown:
    """A new town with two departments and the pothole and street-light categories."""
    tenant = make_tenant(modules=["maengelmelder", "web"])

    def key(*roles: str) -> str:
        return issue_token(database, tenant=tenant.slug, roles=list(roles))

    town = DefectTown(
        slug=tenant.slug,
        admin=tenant.admin_token,
        defect_admin=key("viewer", "defect_admin"),
        handler=key("viewer", "defect_handler"),
        viewer=key("viewer"),
        app=key("open311_client"),
    )
    set_up_catalogue(client, town.slug, town.defect_admin)
    return town


def visitor(client: TestClient) -> TestClient:
    """A client of the same running platform from an address of its own."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return TestClient(client.app, client=(address, 50000), follow_redirects=False)


def log_in(client: TestClient, slug: str, token: str, page: str) -> str:
    """Log in through the console form; the CSRF token shown on `page`."""
    client.cookies.clear()
    answer = client.post(
        f"/{slug}/console/login", data={"token": token}, headers=ORIGIN, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:300]
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert found is not None
    return found.group(1)


def counts(database: Database, slug: str) -> tuple[int, int]:
    """How many reports and photos the town has."""
    from stadtkern.core.models import Tenant

    with database.read() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        reports = session.scalar(select(func.count()).where(Report.tenant_id == tenant_id))
        photos = session.scalar(select(func.count()).where(Photo.tenant_id == tenant_id))
    return int(reports or 0), int(photos or 0)
