"""Photos: recognised by content, re-encoded without EXIF or GPS, served at the media URL."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from stadtkern.errors import InvalidInput, PayloadTooLarge
from stadtkern.maengelmelder.photos import clean_photo, sniff
from tests.maengelmelder.conftest import Town, pothole_form
from tests.maengelmelder.images import GPS_IFD, image, jpeg_with_gps


def test_sniff_goes_by_content() -> None:
    """JPEG, PNG and WebP by their magic bytes; anything else is None."""
    assert sniff(jpeg_with_gps()) == "jpeg"
    assert sniff(image("PNG")) == "png"
    assert sniff(image("WEBP")) == "webp"
    assert sniff(image("GIF")) is None
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


def test_exif_and_gps_are_gone() -> None:
    """The source has a camera make and GPS; the stored JPEG has no EXIF at all."""
    source = Image.open(io.BytesIO(jpeg_with_gps()))
    assert source.getexif().get_ifd(GPS_IFD)
    cleaned = clean_photo(jpeg_with_gps(), max_bytes=1_000_000, max_side=2048)
    stored = Image.open(io.BytesIO(cleaned.content))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert b"Exif" not in cleaned.content
    assert b"Stadtkern Test Camera" not in cleaned.content


def test_large_photos_shrink_and_limits_hold() -> None:
    """A photo over the side limit shrinks; over the byte limit or not an image: refused."""
    cleaned = clean_photo(image("PNG", (1200, 600)), max_bytes=1_000_000, max_side=300)
    assert (cleaned.width, cleaned.height) == (300, 150)
    with pytest.raises(PayloadTooLarge):
        clean_photo(jpeg_with_gps(), max_bytes=100, max_side=300)
    with pytest.raises(InvalidInput):
        clean_photo(b"GIF89a....", max_bytes=1000, max_side=300)


def test_photo_is_served_without_metadata(client: TestClient, town: Town) -> None:
    """POST with a WebP photo; its media_url serves a JPEG without EXIF."""
    answer = client.post(
        f"{town.v2}/requests.json",
        data=pothole_form(town),
        files={"media": ("loch.webp", image("WEBP", (40, 30)), "image/webp")},
    )
    assert answer.status_code == 200, answer.text
    request_id = answer.json()[0]["service_request_id"]
    media_url = client.get(f"{town.v2}/requests/{request_id}.json").json()[0]["media_url"]
    assert media_url.startswith("http")
    photo = client.get(media_url)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).size == (40, 30)
    path = media_url.split("/open311/v2/")[1]
    assert (
        client.get(f"{town.v2}/{path}".replace(path.split("/")[-1], "unknown.jpg")).status_code
        == 404
    )
