"""A production base map in a real browser: a platform configured with a MapLibre style from
another origin (a local HTTP server standing in for basemap.de: a real style JSON and real
PNG raster tiles) draws the warning console's map over it, with no console errors and no
request refused by the Content-Security-Policy."""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stadtkern.cli.demo_setup import prepare
from stadtkern.db import Database
from stadtkern.modules import discover_modules
from tests.conftest import free_port, make_settings, serving
from tests.web.conftest import visit


def _chunk(kind: bytes, data: bytes) -> bytes:
    checksum = struct.pack(">I", zlib.crc32(kind + data))
    return struct.pack(">I", len(data)) + kind + data + checksum


def _png(size: int = 256) -> bytes:
    """A plain light-green PNG tile (8-bit RGB)."""
    row = b"\x00" + bytes((0xD9, 0xEA, 0xD3)) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size))
        + _chunk(b"IEND", b"")
    )


@dataclass
class TileServer:
    """The stand-in map server and what it was asked for."""

    origin: str
    requests: list[str]


@pytest.fixture(scope="module")
def tiles() -> Iterator[TileServer]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    style = {
        "version": 8,
        "name": "test base map",
        "sources": {
            "base": {
                "type": "raster",
                "tiles": [f"{origin}/tiles/{{z}}/{{x}}/{{y}}.png"],
                "tileSize": 256,
                "attribution": "© Test tiles",
            }
        },
        "layers": [{"id": "base", "type": "raster", "source": "base"}],
    }
    tile = _png()
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            if self.path == "/style.json":
                body, kind = json.dumps(style).encode(), "application/json"
            elif self.path.startswith("/tiles/"):
                body, kind = tile, "image/png"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")  # fetched across origins
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield TileServer(origin, asked)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def production(
    tiles: TileServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A platform whose maps use the tile server's style; its base URL and an issuer's key."""
    directory: Path = tmp_path_factory.mktemp("base-map")
    url = f"sqlite:///{directory / 'web.sqlite'}"
    port = free_port()
    settings = make_settings(
        url,
        "embedded",
        port=port,
        module_settings={"web": {"base_map_style_url": f"{tiles.origin}/style.json"}},
    )
    settings.mqtt.embedded_bind = f"127.0.0.1:{free_port()}"
    database = Database(url)
    try:
        tokens = prepare(database, settings, discover_modules(None), directory / "keys.json")
    finally:
        database.dispose()
    with serving(settings) as base:
        yield base, tokens["kaiserslautern/demo-issuer"]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_map_draws_over_the_configured_style(
    tiles: TileServer, production: tuple[str, str], browser: Any, viewport: str
) -> None:
    base, token = production
    tiles.requests.clear()
    result = visit(
        browser,
        f"{base}/kaiserslautern/console/warnings/new?status=Exercise&lang=en",
        "console-warning-map-basemap",
        viewport,
        wait_for="#zones-map[data-ready]",
        token=token,
    )
    assert not result.problems(), "\n".join(result.problems())
    assert "/style.json" in tiles.requests
    assert any(path.startswith("/tiles/") for path in tiles.requests)
