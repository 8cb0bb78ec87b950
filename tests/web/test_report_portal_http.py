"""The citizen's defect form over HTTP on both backends: the two steps, "already reported?"
with "me too", the confirmation and the public page; bad input shown at its field with
nothing stored; forms only from the portal's own origin."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from stadtkern.db import Database
from tests.conftest import TenantFixture
from tests.maengelmelder.conftest import LAT, LON
from tests.maengelmelder.images import jpeg_with_gps, over_the_photo_limit
from tests.web.reports_town import ORIGIN, DefectTown, counts, make_defect_town, visitor


@pytest.fixture
def town(
    client: TestClient, database: Database, make_tenant: Callable[..., TenantFixture]
) -> DefectTown:
    return make_defect_town(client, database, make_tenant)


def _details(**overrides: str) -> dict[str, str]:
    form = {
        "service_code": "pothole",
        "lat": str(LAT),
        "long": str(LON),
        "address_string": "Stiftsplatz 1",
        "description": "Tiefes Loch vor der Stiftskirche",
        "attribute[depth]": "12",
        "email": "erika@example.org",
        "first_name": "Erika",
        "homepage": "",
    }
    form.update(overrides)
    return form


def _send(browser: TestClient, town: DefectTown, photo: bytes | None = None, **fields: str) -> Any:
    files = {"photo": ("loch.jpg", photo, "image/jpeg")} if photo is not None else None
    return browser.post(
        f"/{town.slug}/portal/reports/new?lang=en",
        data=_details(**fields),
        files=files,
        headers=ORIGIN,
    )


def test_nav_and_step_one(client: TestClient, town: DefectTown) -> None:
    start = client.get(f"/{town.slug}/portal?lang=en")
    assert f'href="/{town.slug}/portal/reports/new"' in start.text
    form = client.get(f"/{town.slug}/portal/reports/new?lang=en")
    assert form.status_code == 200
    assert '<optgroup label="Straße">' in form.text
    assert 'value="pothole"' in form.text
    assert 'id="report-map"' in form.text
    assert 'name="lat"' in form.text


def test_no_nav_entry_without_the_module(
    client: TestClient, make_tenant: Callable[..., TenantFixture]
) -> None:
    other = make_tenant(modules=["web"])
    assert "/portal/reports/new" not in client.get(f"/{other.slug}/portal?lang=en").text
    assert client.get(f"/{other.slug}/portal/reports/new").status_code == 404


def test_check_needs_a_place_and_a_known_category(client: TestClient, town: DefectTown) -> None:
    base = f"/{town.slug}/portal/reports/check?lang=en"
    nowhere = client.get(f"{base}&service_code=pothole")
    assert nowhere.status_code == 422
    assert 'id="location-error"' in nowhere.text
    assert "Please give the place" in nowhere.text
    assert re.search(
        r'id="location"[^>]*aria-describedby="location-hint location-error"', nowhere.text
    )
    unknown = client.get(f"{base}&service_code=nope&address_string=Markt")
    assert unknown.status_code == 422
    assert 'id="service_code-error"' in unknown.text
    address_only = client.get(f"{base}&service_code=pothole&address_string=Markt+3")
    assert address_only.status_code == 200
    assert "Without a point on the map" in address_only.text
    comma = client.get(f"{base}&service_code=pothole&lat=49,4447&long=7,7689")
    assert comma.status_code == 200
    assert "No open report of this kind" in comma.text


def test_send_with_photo_then_confirmation_and_public_page(
    client: TestClient, town: DefectTown, database: Database
) -> None:
    browser = visitor(client)
    sent = _send(browser, town, jpeg_with_gps())
    assert sent.status_code == 303, sent.text[:500]
    confirmation = browser.get(sent.headers["location"] + "?lang=en")
    found = re.search(
        rf'href="/{town.slug}/portal/reports/(\d+)" id="tracking-link"', confirmation.text
    )
    assert found is not None
    token = re.search(r'<code id="token">([^<]+)</code>', confirmation.text)
    assert token is not None
    page = browser.get(f"/{town.slug}/portal/reports/{found.group(1)}?lang=en")
    assert page.status_code == 200
    assert "Schlagloch" in page.text
    assert "Received" in page.text
    assert "erika@example.org" not in page.text
    assert "Erika" not in page.text
    photo = re.search(r'src="(/[^"]+/open311/v2/media/[^"]+\.jpg)"', page.text)
    assert photo is not None
    image = Image.open(io.BytesIO(browser.get(photo.group(1)).content))
    assert not image.getexif()
    answer = browser.get(f"/{town.slug}/open311/v2/tokens/{token.group(1)}.json")
    assert answer.json()[0]["service_request_id"] == found.group(1)
    listing = browser.get(f"/{town.slug}/portal/reports?lang=en")
    assert f'/portal/reports/{found.group(1)}"' in listing.text
    points = browser.get(f"/{town.slug}/portal/reports.geojson").json()
    assert points["features"][0]["geometry"]["coordinates"] == [LON, LAT]


def test_already_reported_and_me_too(client: TestClient, town: DefectTown) -> None:
    first = visitor(client)
    assert _send(first, town).status_code == 303
    second = visitor(client)
    check = second.get(
        f"/{town.slug}/portal/reports/check?lang=en&service_code=pothole"
        f"&lat={LAT + 0.0001}&long={LON}"
    )
    assert "are within 50 m of your place" in check.text
    found = re.search(r'action="(/[^"]+/portal/reports/(\d+)/support)"', check.text)
    assert found is not None
    refused = second.post(found.group(1))
    assert refused.status_code == 403
    for _ in range(2):  # the same person counts once
        supported = second.post(found.group(1), headers=ORIGIN)
        assert supported.status_code == 303
    page = second.get(supported.headers["location"] + "&lang=en")
    assert "your support was counted" in page.text
    assert re.search(r"<dt>Supporters</dt><dd>1</dd>", page.text)
    far = second.get(
        f"/{town.slug}/portal/reports/check?lang=en&service_code=pothole"
        f"&lat={LAT + 0.001}&long={LON}"
    )
    assert "No open report of this kind within 50 m" in far.text


@pytest.mark.parametrize(
    ("fields", "photo", "status", "field"),
    [
        ({"lat": "", "long": "", "address_string": ""}, None, 422, "location"),
        ({"service_code": "nope"}, None, 422, "service_code"),
        ({"attribute[depth]": ""}, None, 422, "attribute-depth"),
        ({"attribute[depth]": "tief"}, None, 422, "attribute-depth"),
        ({"description": "x" * 4001}, None, 422, "description"),
        ({"email": "nicht-da"}, None, 422, "email"),
        ({}, b"GIF89a not a photo", 422, "photo"),
        ({}, "big", 413, "photo"),
    ],
    ids=["no-place", "unknown-category", "required-question", "wrong-answer", "too-long",
         "bad-email", "not-an-image", "oversized-photo"],
)  # fmt: skip
def test_bad_input_is_shown_at_its_field_and_stores_nothing(
    client: TestClient,
    town: DefectTown,
    database: Database,
    fields: dict[str, str],
    photo: bytes | str | None,
    status: int,
    field: str,
) -> None:
    before = counts(database, town.slug)
    upload = over_the_photo_limit() if photo == "big" else photo
    assert upload is None or isinstance(upload, bytes)
    answer = _send(visitor(client), town, upload, **fields)
    assert answer.status_code == status, answer.text[:500]
    assert "Nothing was sent yet" in answer.text
    assert f'id="{field}-error"' in answer.text
    assert f'href="#{field}"' in answer.text
    assert counts(database, town.slug) == before


def test_honeypot_and_origin(client: TestClient, town: DefectTown, database: Database) -> None:
    before = counts(database, town.slug)
    caught = _send(visitor(client), town, homepage="http://spam.example")
    assert caught.status_code == 422
    assert "The report was refused" in caught.text
    foreign = visitor(client).post(
        f"/{town.slug}/portal/reports/new", data=_details(), headers={"Origin": "http://evil"}
    )
    assert foreign.status_code == 403
    assert counts(database, town.slug) == before


def test_rate_limit_per_address(client: TestClient, town: DefectTown, database: Database) -> None:
    browser = visitor(client)
    for _ in range(10):
        assert _send(browser, town).status_code == 303
    before = counts(database, town.slug)
    refused = _send(browser, town)
    assert refused.status_code == 429
    assert "Too many reports" in refused.text
    assert counts(database, town.slug) == before
    assert _send(visitor(client), town).status_code == 303  # another address is not held up
