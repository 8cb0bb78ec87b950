"""Test data of the warning tests: lanterns on a line through Kaiserslautern, alert bodies."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from stadtkern.devices.lantern.protocol import device_key_from_seed, public_key_text
from tests.warning.conftest import Staff

# Stiftsplatz, in Kaiserslautern's centre; lanterns stand east of it, 0.001° apart.
CENTRE = (7.7689, 49.4447)
CAP_XSD_MEMBER = "static/CAP-v1.2-schema.xsd"


def device_key(slug: str, code: str) -> Ed25519PrivateKey:
    """The device key a simulated lantern of this town has (as simulated_lantern makes it)."""
    return device_key_from_seed(f"\x00{slug}\x00{code}".encode())


def register_lanterns(client: TestClient, town: Staff, count: int, prefix: str = "L") -> list[str]:
    """Register `count` lanterns in a row east of the centre; their codes."""
    codes = []
    for index in range(count):
        code = f"{prefix}{index:04d}"
        body = {
            "code": code,
            "name": f"Laterne {code}",
            "lon": CENTRE[0] + 0.001 * index,
            "lat": CENTRE[1],
            "district": "Innenstadt-Ost" if index % 2 else "Innenstadt-West",
            "publicKey": public_key_text(device_key(town.slug, code).public_key()),
            "heartbeatSeconds": 60,
        }
        answer = client.post(f"/{town.slug}/warning/lanterns", json=body, headers=town.headers)
        assert answer.status_code == 201, answer.text
        codes.append(code)
    return codes


def around_centre(radius_km: float = 5.0) -> dict[str, Any]:
    """An area with every registered test lantern."""
    return {"circles": [{"lat": CENTRE[1], "lon": CENTRE[0], "radiusKm": radius_km}]}


def alert_body(status: str = "Actual", **overrides: Any) -> dict[str, Any]:
    """A complete alert: a gas leak in the centre, German and English."""
    body: dict[str, Any] = {
        "status": status,
        "event": "Gasaustritt",
        "headline": {
            "de": "Gasaustritt in der Innenstadt",
            "en": "Gas leak in the city centre",
        },
        "instruction": {
            "de": "Fenster und Türen schließen. Gebiet meiden.",
            "en": "Close windows and doors. Avoid the area.",
        },
        "area": around_centre(),
        "signal": "warning",
        "repeat": 1,
    }
    body.update(overrides)
    return body
