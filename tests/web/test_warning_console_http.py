"""The warning console's forms over HTTP, on both backends: exercise, the two-person rule for
a real warning, stopping it, and refusals that change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.warning.conftest import Staff
from tests.warning.helpers import CENTRE, register_lanterns

ORIGIN = {"Origin": "http://testserver"}


def _town(client: TestClient, make_town: Callable[..., Staff]) -> Staff:
    town = make_town(modules=["sensorthings", "warning", "web"])
    register_lanterns(client, town, 3)
    west, south = CENTRE[0] - 0.01, CENTRE[1] - 0.01
    square = [[west, south], [west + 0.05, south], [west + 0.05, south + 0.02],
              [west, south + 0.02], [west, south]]  # fmt: skip
    zone = {
        "key": "mitte",
        "name": "Mitte",
        "kind": "district",
        "geometry": {"type": "Polygon", "coordinates": [square]},
    }
    answer = client.post(f"/{town.slug}/warning/zones", json=zone, headers=town.headers)
    assert answer.status_code == 201, answer.text
    return town


def _session(client: TestClient, slug: str, token: str) -> str:
    """Log in through the console form; the CSRF token of the new session."""
    client.cookies.clear()
    answer = client.post(
        f"/{slug}/console/login", data={"token": token}, headers=ORIGIN, follow_redirects=False
    )
    assert answer.status_code == 303
    page = client.get(f"/{slug}/console/warnings/new").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _form(csrf: str, status: str, **extra: str) -> dict[str, str | list[str]]:
    return {
        "csrf": csrf,
        "status": status,
        "zone": ["mitte"],
        "event": "Probealarm",
        "signal": "test_tone",
        "headline_de": "Probealarm in der Mitte",
        "headline_en": "Test alarm in the centre",
        "instruction_de": "Keine Gefahr.",
        "repeat": "1",
        "action": "send",
        **extra,
    }


def test_an_exercise_goes_out_at_once(client: TestClient, make_town: Callable[..., Staff]) -> None:
    town = _town(client, make_town)
    csrf = _session(client, town.slug, town.issuer)
    preview = client.post(
        f"/{town.slug}/console/warnings/new?lang=en",
        data=_form(csrf, "Exercise", action="preview"),
        headers=ORIGIN,
    )
    assert preview.status_code == 200, preview.text[:500]
    assert "3 lanterns in the area" in preview.text
    sent = client.post(
        f"/{town.slug}/console/warnings/new",
        data=_form(csrf, "Exercise"),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    page = client.get(sent.headers["location"] + "?lang=en")
    assert "EXERCISE" in page.text
    assert "active" in page.text
    assert "of 3 lanterns acknowledged" in page.text
    client.cookies.clear()


def test_a_real_warning_needs_a_second_person_then_stops_with_one_click(
    client: TestClient, make_town: Callable[..., Staff]
) -> None:
    town = _town(client, make_town)
    csrf = _session(client, town.slug, town.issuer)
    sent = client.post(
        f"/{town.slug}/console/warnings/new",
        data=_form(csrf, "Actual", signal="warning", event="Gasaustritt"),
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert sent.status_code == 303
    detail = sent.headers["location"]
    assert "pending_approval" in client.get(detail).text
    refused = client.post(f"{detail}/approve?lang=en", data={"csrf": csrf}, headers=ORIGIN)
    assert refused.status_code == 403  # the issuer cannot approve their own warning
    assert "Not done" in refused.text
    assert "pending_approval" in refused.text
    csrf2 = _session(client, town.slug, town.approver)
    approved = client.post(
        f"{detail}/approve", data={"csrf": csrf2}, headers=ORIGIN, follow_redirects=False
    )
    assert approved.status_code == 303
    page = client.get(f"{detail}?lang=en").text
    assert "REAL WARNING" in page
    assert "active" in page
    stopped = client.post(
        f"{detail}/cancel", data={"csrf": csrf2}, headers=ORIGIN, follow_redirects=False
    )
    assert stopped.status_code == 303
    assert "cancelled" in client.get(detail).text
    client.cookies.clear()


def test_a_form_without_zone_or_headline_is_refused_and_nothing_is_made(
    client: TestClient, make_town: Callable[..., Staff]
) -> None:
    town = _town(client, make_town)
    csrf = _session(client, town.slug, town.issuer)
    form = _form(csrf, "Exercise", headline_de="")
    form["zone"] = []
    answer = client.post(f"/{town.slug}/console/warnings/new?lang=en", data=form, headers=ORIGIN)
    assert answer.status_code == 422
    assert "Please correct" in answer.text
    listing = client.get(f"/{town.slug}/warning/alerts", headers=town.bearer(town.viewer))
    assert listing.json() == []
    wrong_csrf = client.post(
        f"/{town.slug}/console/warnings/new", data=_form("nope", "Exercise"), headers=ORIGIN
    )
    assert wrong_csrf.status_code == 403
    assert client.get(f"/{town.slug}/warning/alerts", headers=town.bearer(town.viewer)).json() == []
    client.cookies.clear()


def test_a_viewer_sees_but_cannot_issue(
    client: TestClient, make_town: Callable[..., Staff]
) -> None:
    town = _town(client, make_town)
    csrf = _session(client, town.slug, town.viewer)
    answer = client.post(
        f"/{town.slug}/console/warnings/new?lang=en", data=_form(csrf, "Exercise"), headers=ORIGIN
    )
    assert answer.status_code == 403
    assert client.get(f"/{town.slug}/warning/alerts", headers=town.bearer(town.viewer)).json() == []
    client.cookies.clear()
