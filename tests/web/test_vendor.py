"""The vendored JavaScript and CSS are what MANIFEST.json says, licensed permissively, and small.

Offline: the manifest written by scripts/vendor_assets.py is checked against the files in the
repository. Whether those match a fresh npm install is `python3 scripts/vendor_assets.py
--check` (needs the npm registry).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STATIC_VENDOR = REPO / "src" / "stadtkern" / "web" / "static" / "vendor"
TESTS_VENDOR = REPO / "tests" / "web" / "vendor"
MANIFEST = STATIC_VENDOR / "MANIFEST.json"
NOT_ASSETS = {MANIFEST, STATIC_VENDOR / "README.md"}

ALLOWED_LICENCES = frozenset({"BSD-3-Clause", "MIT", "MPL-2.0", "ISC", "Apache-2.0", "0BSD"})
# Packages compiled into a vendored file (listed under "bundled") may also be BSD-2-Clause.
ALLOWED_BUNDLED_LICENCES = ALLOWED_LICENCES | {"BSD-2-Clause"}
# The issue allows 700 kB of gzipped JavaScript per page; the libraries get at most 600 kB.
PAGE_LIBRARIES_GZIPPED_BUDGET = 600_000


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


def _spdx_allowed(expression: str, allowed: frozenset[str]) -> bool:
    tokens = re.split(r"\s+(?:OR|AND)\s+", expression.replace("(", " ").replace(")", " ").strip())
    if re.search(r"\sAND\s", expression):
        return all(token in allowed for token in tokens)
    return any(token in allowed for token in tokens)


def test_every_listed_file_has_the_recorded_hash_and_size() -> None:
    files = _manifest()["files"]
    assert files
    wrong = []
    for entry in files:
        path = REPO / entry["file"]
        if not path.is_file():
            wrong.append(f"missing: {entry['file']}")
            continue
        data = path.read_bytes()
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
            wrong.append(f"changed: {entry['file']}")
    assert not wrong, f"run python3 scripts/vendor_assets.py: {wrong}"


def test_files_agree_with_their_package_and_target() -> None:
    manifest = _manifest()
    targets = {"static": STATIC_VENDOR, "tests": TESTS_VENDOR}
    for entry in manifest["files"]:
        package = manifest["packages"][entry["package"]]
        assert (entry["version"], entry["license"]) == (package["version"], package["license"])
        assert entry["target"] == package["target"]
        assert (REPO / entry["file"]).parent == targets[entry["target"]]
    assert {entry["package"] for entry in manifest["files"]} == set(manifest["packages"])


def test_nothing_unlisted_lies_in_the_vendor_directories() -> None:
    manifest = _manifest()
    listed = {REPO / entry["file"] for entry in manifest["files"]}
    listed |= {REPO / package["licence_file"] for package in manifest["packages"].values()}
    present = {p for d in (STATIC_VENDOR, TESTS_VENDOR) for p in d.rglob("*") if p.is_file()}
    unlisted = sorted(str(p.relative_to(REPO)) for p in present - listed - NOT_ASSETS)
    assert not unlisted, f"vendored without a manifest entry: {unlisted}"


def test_every_package_has_a_licence_text() -> None:
    for name, package in _manifest()["packages"].items():
        path = REPO / package["licence_file"]
        assert path.is_file(), name
        text = path.read_text(encoding="utf-8")
        assert text.strip(), name
        for bundled in package["bundled"]:
            assert f": {bundled['package']} {bundled['version']} (" in text, bundled


def test_licences_are_permissive() -> None:
    for name, package in _manifest()["packages"].items():
        assert package["license"] in ALLOWED_LICENCES, (name, package["license"])
        for bundled in package["bundled"]:
            licence = bundled["license"]
            assert _spdx_allowed(licence, ALLOWED_BUNDLED_LICENCES), (name, bundled)


def test_axe_is_only_for_the_tests() -> None:
    axe = _manifest()["packages"]["axe-core"]
    assert axe["target"] == "tests"
    assert (TESTS_VENDOR / "axe.min.js").is_file()
    assert not list(STATIC_VENDOR.glob("axe*"))


def test_libraries_leave_room_in_the_page_javascript_budget() -> None:
    page_scripts = [
        REPO / entry["file"]
        for entry in _manifest()["files"]
        if entry["target"] == "static" and entry["file"].endswith((".js", ".mjs"))
    ]
    assert {path.name for path in page_scripts} >= {
        "maplibre-gl.mjs",
        "uPlot.iife.min.js",
        "htmx.min.js",
    }
    gzipped = sum(
        len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)) for path in page_scripts
    )
    assert gzipped <= PAGE_LIBRARIES_GZIPPED_BUDGET, f"{gzipped:,} B gzipped"
