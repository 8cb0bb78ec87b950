"""Test images made on the spot: a JPEG with EXIF GPS, PNG, WebP, and things that are not."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG whose EXIF holds a camera make and a GPS position."""
    image = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "Stadtkern Test Camera"  # Make
    exif[0x0112] = 1  # Orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (49.0, 26.0, 40.0), 3: "E", 4: (7.0, 46.0, 8.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def image(kind: str, size: tuple[int, int] = (32, 32)) -> bytes:
    """A small image in a Pillow format ('PNG', 'WEBP', 'GIF', ...)."""
    out = io.BytesIO()
    Image.new("RGBA" if kind != "GIF" else "P", size).save(out, format=kind)
    return out.getvalue()


def noisy_png(side: int) -> bytes:
    """A PNG that compresses badly, so its size grows with its side."""
    import os

    pixels = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    pixels.save(out, format="PNG")
    return out.getvalue()


def over_the_photo_limit() -> bytes:
    """A PNG just over the default photo limit (and within the body the route allows)."""
    from math import isqrt

    from stadtkern.maengelmelder.settings import MaengelmelderSettings

    return noisy_png(isqrt(MaengelmelderSettings().max_photo_bytes // 3) + 2)
