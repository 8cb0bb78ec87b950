"""The overview's data from one read: the table's pages, the map's embedded places, the
cursor the live stream starts from, and JSON that cannot end its script block."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

from stadtkern.web.console_data import Device, Value
from stadtkern.web.console_overview import PAGE_ROWS, embedded, number, overview
from stadtkern.web.rendering import environment

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _town(count: int) -> list[Device]:
    return [
        Device(
            thing_id=n,
            name=f"Ort {n:04d}</script>",
            kind="air" if n % 2 else "noise",
            district="Nord" if n % 3 else "Süd",
            gateway=None,
            code=None,
            lon=7.7 + n / 10_000 if n % 10 else None,  # every tenth has no place
            lat=49.4,
            values=[Value("PM10", 10.0 + n, "µg/m³", AT, 1000 + n, 5000 + n)],
        )
        for n in range(1, count + 1)
    ]


def test_the_table_shows_one_page_and_the_map_every_place() -> None:
    every = _town(250)
    data = overview(every, "air", "", 2, "de")
    assert len(data["devices"]) == 125
    assert data["pages"] == 2
    assert len(data["rows"]) == 125 - PAGE_ROWS
    assert data["first_row"] == PAGE_ROWS + 1
    assert parse_qs(data["page_query"](1)) == {"kind": ["air"], "page": ["1"]}
    places = json.loads(str(data["places"]))
    assert len(places["features"]) == len([d for d in data["devices"] if d.lon is not None])
    first = places["features"][0]
    assert first["properties"]["readings"] == [{"id": 1001, "name": "PM10", "text": "11 µg/m³"}]
    assert data["cursor"] == 5250  # the newest Observation of the whole town


def test_a_page_beyond_the_last_shows_the_last() -> None:
    data = overview(_town(30), "", "Süd", 7, "en")
    assert (data["page"], data["pages"]) == (1, 1)
    assert [d.district for d in data["rows"]] == ["Süd"] * 10


def test_embedded_json_cannot_close_its_script_block() -> None:
    text = str(embedded({"name": "</script><script>alert(1)</script>"}))
    assert "<" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>"}


def test_numbers_are_written_as_the_templates_write_them() -> None:
    values = [0, -0.0, -0.04, 0.05, 0.15, 2.35, 999.95, 1234.5, -1234.56, 1e6, 1e15, 12.25]
    values += [n * 7.919 - 5_000 for n in range(2_000)]
    for language in ("de", "en"):
        written = environment(language).filters["number"]
        assert [number(v, language) for v in values] == [written(v) for v in values]
