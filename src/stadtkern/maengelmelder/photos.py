"""Photos of defects: only real JPEG, PNG or WebP images, re-encoded without EXIF and GPS.

Photos are kept in the database (`mm_photo`), not in files: several platform processes share
only the database, a backup then holds reports and their photos together, and deleting a
report deletes its photo in the same transaction. At the default limit of 1 MB a town with
10,000 reports a year adds about 3 GB a year at most (re-encoded photos are smaller).
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import InvalidInput, NotFound, PayloadTooLarge
from stadtkern.maengelmelder.models import Photo

_MAGIC = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MAX_SOURCE_PIXELS = 40_000_000  # a 40-megapixel camera; more is a decompression bomb
STORED_TYPE = "image/jpeg"


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: JPEG bytes without metadata, and its size."""

    content: bytes
    width: int
    height: int


def sniff(data: bytes) -> str | None:
    """The image kind by its first bytes ('jpeg', 'png', 'webp'), whatever the upload claims."""
    for kind, starts in _MAGIC.items():
        if data.startswith(starts):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def clean_photo(data: bytes, *, max_bytes: int, max_side: int) -> CleanPhoto:
    """Check and re-encode an upload; raises PayloadTooLarge or InvalidInput."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"the photo is larger than {max_bytes} bytes")
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("media must be a JPEG, PNG or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]])
            if image.width * image.height > MAX_SOURCE_PIXELS:
                raise InvalidInput("the photo has too many pixels")
            image.load()
            # Turn the pixels as the camera meant before the orientation tag goes with EXIF.
            upright = ImageOps.exif_transpose(image)
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise InvalidInput("media is not a readable JPEG, PNG or WebP image") from exc
    rgb = upright.convert("RGB")
    rgb.thumbnail((max_side, max_side))
    out = io.BytesIO()
    # A new image from the pixels alone: no EXIF, GPS, XMP, ICC or comments are carried over.
    rgb.save(out, format="JPEG", quality=85, optimize=True)
    return CleanPhoto(out.getvalue(), rgb.width, rgb.height)


def store_photo(*, session: Session, tenant: TenantRef, photo: CleanPhoto) -> Photo:
    """Keep a cleaned photo under a new random key."""
    row = Photo(
        tenant_id=tenant.id,
        key=secrets.token_urlsafe(18),
        media_type=STORED_TYPE,
        content=photo.content,
        width=photo.width,
        height=photo.height,
    )
    session.add(row)
    session.flush()
    return row


def get_photo(*, session: Session, tenant: TenantRef, key: str) -> Photo:
    """A stored photo of the town by its key."""
    found = session.scalar(select(Photo).where(Photo.tenant_id == tenant.id, Photo.key == key))
    if found is None:
        raise NotFound("no such photo")
    return found
