"""The warning console's maps over HTTP, on both backends: zones to choose, the preview's
lanterns, each lantern's answer; nothing of it without a session."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.warning.conftest import Staff
from tests.web.test_warning_console_http import ORIGIN, _form, _session, _town


def test_zones_preview_and_answers_on_the_map(
    client: TestClient, make_town: Callable[..., Staff]
) -> None:
    town = _town(client, make_town)
    base = f"/{town.slug}/console/warnings"
    client.cookies.clear()
    assert client.get(f"{base}/zones.geojson").status_code == 401
    csrf = _session(client, town.slug, town.issuer)
    zones = client.get(f"{base}/zones.geojson")
    assert zones.headers["content-type"] == "application/geo+json"
    [zone] = zones.json()["features"]
    assert zone["properties"] == {"key": "mitte", "name": "Mitte", "kind": "district"}
    assert zone["geometry"]["type"] == "MultiPolygon"

    page = client.get(f"{base}/new?lang=en").text
    assert f'data-zones="{base}/zones.geojson"' in page
    assert 'name="zone" value="mitte"' in page  # the list stays the accessible way
    preview = client.post(
        f"{base}/new?lang=en", data=_form(csrf, "Exercise", action="preview"), headers=ORIGIN
    ).text
    found = re.search(r'<script type="application/json" id="preview-map">(.*?)</script>', preview)
    assert found is not None
    shown = json.loads(found.group(1))
    lanterns = [f for f in shown["features"] if f["properties"]["kind"] == "lantern"]
    assert len(lanterns) == 3
    assert preview.count('<tr><th scope="row">') == 3  # the same lanterns as a table

    sent = client.post(
        f"{base}/new", data=_form(csrf, "Exercise"), headers=ORIGIN, follow_redirects=False
    )
    detail = sent.headers["location"]
    page = client.get(f"{detail}?lang=en").text
    assert f'data-lanterns="{detail}/delivery.geojson"' in page
    assert 'id="delivery-legend"' in page
    answers = client.get(f"{detail}/delivery.geojson").json()["features"]
    assert len(answers) == 3
    assert {f["properties"]["answer"] for f in answers} <= {
        "waiting", "acknowledged", "finished", "failed", "refused", "silent",
    }  # fmt: skip
    assert all(f["geometry"]["type"] == "Point" for f in answers)
    assert client.get(f"{base}/nope/delivery.geojson").status_code == 404
    client.cookies.clear()
    assert client.get(f"{detail}/delivery.geojson").status_code == 401


def test_another_towns_staff_sees_no_zones_or_answers(
    client: TestClient, make_town: Callable[..., Staff]
) -> None:
    town, other = _town(client, make_town), _town(client, make_town)
    csrf = _session(client, town.slug, town.issuer)
    sent = client.post(
        f"/{town.slug}/console/warnings/new",
        data=_form(csrf, "Exercise"),
        headers=ORIGIN,
        follow_redirects=False,
    )
    identifier = sent.headers["location"].rsplit("/", 1)[-1]
    _session(client, other.slug, other.issuer)
    # The other town's session does not open this town's console.
    assert client.get(f"/{town.slug}/console/warnings/zones.geojson").status_code == 401
    answer = client.get(f"/{other.slug}/console/warnings/{identifier}/delivery.geojson")
    assert answer.status_code == 404
    client.cookies.clear()
