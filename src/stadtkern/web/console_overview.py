"""What the console's overview page shows, from one read of the town's devices.

The page, its map and its live stream agree: the table shows one page of `PAGE_ROWS` devices
(rendering every row of a large town was most of the page's time), the map all devices the
filter keeps, embedded in the page as GeoJSON (the map used to fetch them, which read the
same devices a second time), and the cursor tells the live stream from which Observation on
the page is out of date.
"""

from __future__ import annotations

import json
from functools import cache
from math import ceil, isfinite
from typing import Any
from urllib.parse import urlencode

from babel.numbers import get_decimal_symbol, get_group_symbol
from markupsafe import Markup

from stadtkern.web.console_data import Device
from stadtkern.web.i18n import translations
from stadtkern.web.rendering import environment

PAGE_ROWS = 100


def overview(
    every: list[Device], kind: str, district: str, page: int, language: str
) -> dict[str, Any]:
    """The overview's template data: filters, the page of rows, the map's places, the cursor."""
    devices = [
        device
        for device in every
        if (not kind or device.kind == kind) and (not district or device.district == district)
    ]
    pages = max(1, ceil(len(devices) / PAGE_ROWS))
    page = min(page, pages)
    query = {"kind": kind, "district": district}
    return {
        "devices": devices,
        "rows": devices[(page - 1) * PAGE_ROWS : page * PAGE_ROWS],
        "page": page,
        "pages": pages,
        "first_row": (page - 1) * PAGE_ROWS + 1,
        "kinds": sorted({device.kind for device in every}),
        "districts": sorted({device.district for device in every if device.district}),
        "kind": kind,
        "district": district,
        "query": urlencode(query),
        "page_query": lambda number: urlencode({**query, "page": number}),
        "places": embedded(places(devices, language)),
        "cursor": max((value.observation_id for d in every for value in d.values), default=0),
    }


def value_text(value: float | bool | None, unit: str, language: str) -> str:
    """A value as the overview writes it: a number with its unit, yes, no, or a dash."""
    if value is True or value is False:
        gettext = translations(language).gettext
        return gettext("yes") if value else gettext("no")
    if value is None:
        return "\u2013"
    return f"{number(value, language)} {unit}".rstrip()


def number(value: float, language: str) -> str:
    """What the templates' `number` filter writes (one decimal at most, the language's
    separators), without Babel's general formatter: the map's places need thousands of
    these per page, and Babel took 25 µs each, half of the page's time on the server."""
    rounded = round(float(value), 1)
    if not isfinite(rounded):
        return str(environment(language).filters["number"](value))
    decimal, group = _separators(language)
    text = f"{rounded:,.1f}".removesuffix(".0")
    return text.translate({ord(","): group, ord("."): decimal})


@cache
def _separators(language: str) -> tuple[str, str]:
    return get_decimal_symbol(language), get_group_symbol(language)


def places(devices: list[Device], language: str) -> dict[str, Any]:
    """The devices with a place as a FeatureCollection; readings carry their Datastream id
    and text, so that the live stream can change them."""
    features = [
        {
            "type": "Feature",
            "id": device.thing_id,
            "geometry": {"type": "Point", "coordinates": [device.lon, device.lat]},
            "properties": {
                "name": device.name,
                "kind": device.kind,
                "readings": [
                    {
                        "id": value.datastream_id,
                        "name": value.stream,
                        "text": value_text(value.value, value.unit, language),
                    }
                    for value in device.values
                ],
            },
        }
        for device in devices
        if device.lon is not None and device.lat is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def embedded(document: dict[str, Any]) -> Markup:
    """JSON for a `<script type="application/json">` block: no `<` can end the block."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c"))  # noqa: S704 - escaped for a script block above
