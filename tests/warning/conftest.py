"""Fixtures of the warning tests: a town with the warning module and its staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

MODULES = ["sensorthings", "warning"]


@dataclass(frozen=True)
class Staff:
    """A town with the warning module and one key per role that matters to warnings."""

    slug: str
    admin: str
    operator: str
    viewer: str
    issuer: str
    issuer2: str
    approver: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        """An Authorization header for a key."""
        return {"Authorization": f"Bearer {token}"}

    @property
    def headers(self) -> dict[str, str]:
        """The admin's Authorization header."""
        return self.bearer(self.admin)


@pytest.fixture
def make_town(
    database: Database, make_tenant: Callable[..., TenantFixture]
) -> Callable[..., Staff]:
    """Factory of towns with the warning module; each call makes a new one."""

    def make(modules: list[str] = MODULES) -> Staff:
        tenant = make_tenant(modules=modules)

        def key(*roles: str) -> str:
            return issue_token(database, tenant=tenant.slug, roles=list(roles))

        return Staff(
            slug=tenant.slug,
            admin=tenant.admin_token,
            operator=key("operator"),
            viewer=key("viewer"),
            issuer=key("operator", "warning_issuer"),
            issuer2=key("operator", "warning_issuer"),
            approver=key("viewer", "warning_approver"),
        )

    return make


@pytest.fixture
def town(make_town: Callable[[], Staff]) -> Staff:
    """A new town with the warning module."""
    return make_town()
