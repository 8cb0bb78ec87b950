"""Fixtures of the Mängelmelder tests: a town with categories of every attribute datatype,
departments, and keys for its staff and for a third-party app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stadtkern.db import Database
from tests.conftest import TenantFixture, issue_token

# Stiftsplatz, Kaiserslautern
LAT, LON = 49.4447, 7.7689

POTHOLE: dict[str, Any] = {
    "code": "pothole",
    "name": "Schlagloch",
    "description": "Schäden an Fahrbahn oder Gehweg",
    "group": "Straße",
    "keywords": ["Straße", "Loch"],
    "department": "tiefbau",
    "expected_days": 14,
    "attributes": [
        {"code": "depth", "datatype": "number", "required": True, "order": 1,
         "description": "Tiefe in cm"},
        {"code": "surface", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": "Belag", "values": [{"key": "asphalt", "name": "Asphalt"},
                                             {"key": "cobble", "name": "Pflaster"}]},
        {"code": "hazards", "datatype": "multivaluelist", "order": 3,
         "description": "Gefahren", "values": [{"key": "bike", "name": "Radfahrer"},
                                                {"key": "car", "name": "Autos"}]},
        {"code": "seen", "datatype": "datetime", "order": 4, "description": "Bemerkt am"},
        {"code": "landmark", "datatype": "string", "order": 5, "description": "Orientierung"},
        {"code": "details", "datatype": "text", "order": 6, "description": "Weiteres"},
    ],
}  # fmt: skip
LIGHT: dict[str, Any] = {
    "code": "streetlight",
    "name": "Straßenlaterne defekt",
    "group": "Beleuchtung",
    "department": "licht",
}


@dataclass(frozen=True)
class Town:
    """A town with the Mängelmelder, its categories, and keys per role."""

    slug: str
    admin: str
    defect_admin: str
    handler: str
    app: str

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        """An Authorization header for a key."""
        return {"Authorization": f"Bearer {token}"}

    @property
    def v2(self) -> str:
        """The Open311 root of the town."""
        return f"/{self.slug}/open311/v2"

    @property
    def staff(self) -> str:
        """The staff API root of the town."""
        return f"/{self.slug}/maengelmelder"


def set_up_catalogue(client: TestClient, slug: str, token: str) -> None:
    """Two departments and two categories, one asking questions of every datatype."""
    headers = Town.bearer(token)
    for key, name in (("tiefbau", "Tiefbauamt"), ("licht", "Stadtwerke Licht")):
        answer = client.post(
            f"/{slug}/maengelmelder/departments", json={"key": key, "name": name}, headers=headers
        )
        assert answer.status_code == 201, answer.text
    for body in (POTHOLE, LIGHT):
        answer = client.post(f"/{slug}/maengelmelder/categories", json=body, headers=headers)
        assert answer.status_code == 201, answer.text


@pytest.fixture
def make_town(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> Callable[[], Town]:
    """Factory of towns with the Mängelmelder set up."""

    def make() -> Town:
        tenant = make_tenant(modules=["maengelmelder"])

        def key(*roles: str) -> str:
            return issue_token(database, tenant=tenant.slug, roles=list(roles))

        town = Town(
            slug=tenant.slug,
            admin=tenant.admin_token,
            defect_admin=key("defect_admin"),
            handler=key("defect_handler"),
            app=key("open311_client"),
        )
        set_up_catalogue(client, town.slug, town.defect_admin)
        return town

    return make


@pytest.fixture
def town(make_town: Callable[[], Town]) -> Town:
    """A new town with the Mängelmelder."""
    return make_town()


def pothole_form(town: Town, **overrides: str) -> dict[str, str]:
    """A complete form of a pothole report."""
    form = {
        "api_key": town.app,
        "service_code": "pothole",
        "lat": str(LAT),
        "long": str(LON),
        "address_string": "Stiftsplatz 1, Kaiserslautern",
        "description": "Tiefes Loch vor der Stiftskirche",
        "email": "buerger@example.org",
        "first_name": "Erika",
        "last_name": "Mustermann",
        "attribute[depth]": "12",
        "attribute[surface]": "asphalt",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def post_report(client: TestClient, town: Town, **overrides: str) -> str:
    """Post a pothole report; its service_request_id."""
    answer = client.post(f"{town.v2}/requests.json", data=pothole_form(town, **overrides))
    assert answer.status_code == 200, answer.text
    return str(answer.json()[0]["service_request_id"])
