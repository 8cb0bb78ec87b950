"""Bad input is refused in Open311's own error format with the right status, and nothing is
stored: the town's report and photo counts stay as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import func, select

from stadtkern.db import Database
from stadtkern.maengelmelder.models import Photo, Report, Reporter
from tests.maengelmelder.conftest import Town, pothole_form
from tests.maengelmelder.images import image, over_the_photo_limit


def _counts(database: Database) -> tuple[int, int, int]:
    with database.read() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Report, Photo, Reporter)
        )


@pytest.fixture
def unchanged(database: Database) -> Iterator[None]:
    """The test must leave every report, photo and reporter table as it found it."""
    before = _counts(database)
    yield
    assert _counts(database) == before


def _error(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert isinstance(body, list)
    assert len(body) == 1
    assert body[0]["code"] == status
    description: str = body[0]["description"]
    return description


BAD_FORMS = [
    ({"service_code": "nope"}, "service_code 'nope'"),
    ({"service_code": ""}, "service_code is required"),
    ({"lat": "", "long": "", "address_string": ""}, "a location is required"),
    ({"lat": "north"}, "lat must be a number"),
    ({"lat": "91"}, "lat must be a latitude"),
    ({"long": ""}, "lat and long come together"),
    ({"attribute[depth]": ""}, "attribute[depth] is required"),
    ({"attribute[depth]": "tief"}, "attribute[depth] must be a number"),
    ({"attribute[surface]": "gravel"}, "'gravel' is not one of its values"),
    ({"attribute[hazards][]": "tram"}, "'tram' is not one of its values"),
    ({"attribute[seen]": "gestern"}, "attribute[seen] must be a date"),
    ({"attribute[seen]": "2027-01-01T10:00:00"}, "needs a time zone"),
    ({"attribute[colour]": "rot"}, "attribute[colour] is not an attribute"),
    ({"attribute[landmark]": "x" * 256}, "longer than 255"),
    ({"description": "y" * 4001}, "description is longer than 4000"),
    ({"email": "not-an-address"}, "email is not an e-mail address"),
    ({"media_url": "javascript:alert(1)"}, "media_url must be an http"),
    ({"homepage": "http://spam.example"}, "refused"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_FORMS)
def test_bad_form_is_refused_with_400(
    client: TestClient, town: Town, unchanged: None, change: dict[str, str], reason: str
) -> None:
    """Each wrong field: 400 naming it; nothing stored."""
    answer = client.post(f"{town.v2}/requests.json", data=pothole_form(town, **change))
    assert reason in _error(answer, 400)


def test_errors_in_xml(client: TestClient, town: Town, unchanged: None) -> None:
    """The .xml path answers errors as <errors><error><code/><description/></error></errors>."""
    answer = client.post(f"{town.v2}/requests.xml", data=pothole_form(town, service_code="nope"))
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(answer.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "400"
    assert "service_code" in (root.findtext("error/description") or "")


def test_api_key_is_required_and_checked(client: TestClient, town: Town, unchanged: None) -> None:
    """No key, a wrong key, another town's key, a key without the role: 403."""
    url = f"{town.v2}/requests.json"
    assert "api_key is required" in _error(
        client.post(url, data=pothole_form(town, api_key="")), 403
    )
    assert "invalid api_key" in _error(
        client.post(url, data=pothole_form(town, api_key="sk_000000000000_wrong")), 403
    )
    assert "lacks the role" in _error(
        client.post(url, data=pothole_form(town, api_key=town.admin)), 403
    )


def test_foreign_key_and_jurisdiction(
    client: TestClient, town: Town, make_town: object, unchanged: None
) -> None:
    """Another town's app key is refused; a wrong jurisdiction_id is 404."""
    other = make_town()  # type: ignore[operator]
    url = f"{town.v2}/requests.json"
    _error(client.post(url, data=pothole_form(town, api_key=other.app)), 403)
    assert "jurisdiction_id" in _error(
        client.get(f"{town.v2}/services.json", params={"jurisdiction_id": "elsewhere"}), 404
    )
    assert (
        client.get(f"{town.v2}/services.json", params={"jurisdiction_id": town.slug}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("upload", "status", "reason"),
    [
        (("doc.jpg", b"%PDF-1.4 not an image", "image/jpeg"), 400, "JPEG, PNG or WebP"),
        (("anim.gif", image("GIF"), "image/gif"), 400, "JPEG, PNG or WebP"),
        (("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"), 400, "readable"),
        (("huge.png", over_the_photo_limit(), "image/png"), 413, "larger than"),
    ],
)
def test_bad_media_is_refused(
    client: TestClient,
    town: Town,
    unchanged: None,
    upload: tuple[str, bytes, str],
    status: int,
    reason: str,
) -> None:
    """Non-images, unknown formats, broken and oversized photos: refused, nothing stored."""
    answer = client.post(
        f"{town.v2}/requests.json", data=pothole_form(town), files={"media": upload}
    )
    assert reason in _error(answer, status)


def test_unknown_things_are_404(client: TestClient, town: Town) -> None:
    """Unknown service, request and token: 404 in Open311's format; no town: the platform's."""
    assert "no category" in _error(client.get(f"{town.v2}/services/nope.json"), 404)
    _error(client.get(f"{town.v2}/requests/999999999.json"), 404)
    _error(client.get(f"{town.v2}/requests/abc.json"), 404)
    _error(client.get(f"{town.v2}/tokens/nothing.json"), 404)
    elsewhere = client.get("/no-such-town/open311/v2/services.json")
    assert elsewhere.status_code == 404
    assert elsewhere.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"start_date": "yesterday"}, "start_date must be"),
        ({"status": "lost"}, "status 'lost'"),
        ({"bbox": "1,2,3"}, "bbox must be"),
        ({"bbox": "8,50,7,49"}, "west <= east"),
        ({"lat": "49.4"}, "lat and long come together"),
        ({"lat": "49.4", "long": "7.7", "radius": "999999"}, "radius must be"),
        ({"page_size": "1000"}, "page_size"),
        ({"page": "0"}, "page must be"),
        ({"service_request_id": "1,x"}, "service_request_id 'x'"),
    ],
)
def test_bad_search_is_400(
    client: TestClient, town: Town, params: dict[str, str], reason: str
) -> None:
    """Wrong filters of GET requests: 400 naming them."""
    assert reason in _error(client.get(f"{town.v2}/requests.json", params=params), 400)


def test_rate_limit_per_client(client: TestClient, town: Town, database: Database) -> None:
    """An app may send `posts_per_window` (10) reports per window; then 429 with Retry-After."""
    url = f"{town.v2}/requests.json"
    for _ in range(10):
        assert client.post(url, data=pothole_form(town)).status_code == 200
    before = _counts(database)
    answer = client.post(url, data=pothole_form(town))
    _error(answer, 429)
    assert int(answer.headers["retry-after"]) > 0
    assert _counts(database) == before


def test_only_the_report_routes_take_a_photo_sized_body(client: TestClient, town: Town) -> None:
    """The module allows large bodies for its uploads only; other routes keep the 1 MiB."""
    body = b"x" * 2_000_000
    elsewhere = client.post(
        f"/{town.slug}/open311/v2/requests.json?x=1",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # It reached the endpoint, which answers in Open311's own format.
    assert elsewhere.status_code == 403, elsewhere.text[:200]  # no api_key
    assert elsewhere.headers["content-type"].startswith("application/json")
    other = client.post(
        f"/{town.slug}/maengelmelder/categories",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert other.status_code == 413
    assert other.headers["content-type"] == "application/problem+json"
