"""Vendor the web console's JavaScript and CSS from npm into the Python package.

Nothing is loaded from a CDN at run time: every asset the pages use lives in
src/stadtkern/web/static/vendor/ (axe-core, used only by the browser tests, in tests/web/vendor/).
This script is the record of how those files were produced:

    python3 scripts/vendor_assets.py          # install the pinned versions, copy, write manifest
    python3 scripts/vendor_assets.py --check  # fresh install; exit 1 unless committed files match

It installs the exact versions in PACKAGES into a temporary directory (`npm install --no-audit
--no-fund --ignore-scripts`, so no package code runs), copies the distribution files under flat
names, writes each package's licence text to licences/<package>.txt and writes MANIFEST.json
(package, version, SPDX licence, source path inside the npm package, sha256 and size of every
file). Packages that bundle other npm packages into the copied files (found through the files'
source maps) get those packages' licences appended and listed in the manifest.

The output is deterministic: npm resolves indirect dependencies as of NPM_BEFORE, the manifest
is written with sorted keys and holds no timestamps. To update, change the versions (and
NPM_BEFORE to a moment after their release), run the script, run tests/web/test_vendor.py and
commit the result. Only the Python standard library is needed, plus npm.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STATIC_VENDOR = REPO / "src" / "stadtkern" / "web" / "static" / "vendor"
TESTS_VENDOR = REPO / "tests" / "web" / "vendor"
TARGET_DIRS = {"static": STATIC_VENDOR, "tests": TESTS_VENDOR}
MANIFEST = STATIC_VENDOR / "MANIFEST.json"

# npm resolves the (ranged) dependencies of the pinned packages as of this moment, so that a
# later run produces the same licence texts and manifest. Move it when changing a version.
NPM_BEFORE = "2026-12-01T00:00:00Z"

# Licences a vendored package may carry (SPDX identifiers from its package.json).
ALLOWED_LICENCES = frozenset({"BSD-3-Clause", "MIT", "MPL-2.0", "ISC", "Apache-2.0", "0BSD"})
# Packages bundled *into* a vendored file may also carry these.
ALLOWED_BUNDLED_LICENCES = ALLOWED_LICENCES | {"BSD-2-Clause"}

LICENCE_FILE = re.compile(r"^(licen[cs]e|copying|notice)([.-].*)?$", re.IGNORECASE)
NODE_MODULES_PACKAGE = re.compile(r".*node_modules/((?:@[^/]+/)?[^/]+)/")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    target: str  # "static": shipped in the Python package; "tests": browser tests only
    files: tuple[tuple[str, str], ...]  # (path inside the npm package, flat vendored name)


PACKAGES: tuple[Package, ...] = (
    # MapLibre GL JS 6 ships ES modules only (no UMD maplibre-gl.js any more). The main module
    # loads its worker from "./maplibre-gl-worker.mjs" relative to its own URL, so both files
    # must stay side by side under these names.
    Package(
        "maplibre-gl",
        "6.20.0",
        "static",
        (
            ("dist/maplibre-gl.mjs", "maplibre-gl.mjs"),
            ("dist/maplibre-gl-worker.mjs", "maplibre-gl-worker.mjs"),
            ("dist/maplibre-gl.css", "maplibre-gl.css"),
        ),
    ),
    Package(
        "uplot",
        "1.6.32",
        "static",
        (
            ("dist/uPlot.iife.min.js", "uPlot.iife.min.js"),
            ("dist/uPlot.min.css", "uPlot.min.css"),
        ),
    ),
    # The 2.x line on purpose (htmx 4 is a different API).
    Package("htmx.org", "2.0.11", "static", (("dist/htmx.min.js", "htmx.min.js"),)),
    Package("axe-core", "4.14.1", "tests", (("axe.min.js", "axe.min.js"),)),
)


class VendorError(Exception):
    pass


def spdx_allowed(expression: str, allowed: frozenset[str]) -> bool:
    """Whether a (flat) SPDX expression is satisfied by the allowed licences."""
    tokens = re.split(r"\s+(?:OR|AND)\s+", expression.replace("(", " ").replace(")", " ").strip())
    if re.search(r"\sAND\s", expression):
        return all(token in allowed for token in tokens)
    return any(token in allowed for token in tokens)


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _read_package_json(package_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
    return data


def _licence_of(package_json: dict[str, Any]) -> str:
    licence = package_json.get("license")
    if not isinstance(licence, str) or not licence:
        raise VendorError(f"{package_json.get('name')}: no SPDX licence string in package.json")
    return licence


def _licence_text(package_dir: Path) -> str:
    files = sorted(p for p in package_dir.iterdir() if p.is_file() and LICENCE_FILE.match(p.name))
    if not files:
        return _readme_licence_section(package_dir)
    parts = []
    for path in files:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n").strip()
        parts.append(f"---- {path.name} ----\n\n{text}\n")
    return "\n".join(parts)


def _readme_licence_section(package_dir: Path) -> str:
    """The licence section of the README, for packages that ship no licence file."""
    readmes = sorted(p for p in package_dir.iterdir() if p.name.lower().startswith("readme"))
    for readme in readmes:
        text = readme.read_text(encoding="utf-8").replace("\r\n", "\n")
        match = re.search(r"^(#+)[^\n]*licen[cs]e[^\n]*\n(.*?)(?=^#|\Z)", text, re.I | re.M | re.S)
        if match and match.group(2).strip():
            section = f"{match.group(0).splitlines()[0]}\n\n{match.group(2).strip()}"
            return f"---- {readme.name} (no licence file in the npm package) ----\n\n{section}\n"
    raise VendorError(f"{package_dir.name}: no licence file and no licence section in the README")


def _find_dependency(start: Path, root: Path, name: str) -> Path:
    """Locate an installed package the way Node does: nearest node_modules upwards."""
    directory = start
    while True:
        candidate = directory / "node_modules" / name
        if (candidate / "package.json").is_file():
            return candidate
        if directory == root:
            raise VendorError(f"bundled package {name} is not installed next to {start.name}")
        directory = directory.parent


def _bundled_packages(package_dir: Path, sources: list[str]) -> list[str]:
    """npm packages compiled into the given files, according to their source maps."""
    names: set[str] = set()
    for source in sources:
        source_map = package_dir / f"{source}.map"
        if not source_map.is_file():
            continue
        for entry in json.loads(source_map.read_text(encoding="utf-8")).get("sources", []):
            match = NODE_MODULES_PACKAGE.match(entry)
            if match:
                names.add(match.group(1))
    return sorted(names)


def _npm_install(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not on PATH")
    package_json = {
        "name": "stadtkern-vendor",
        "version": "0.0.0",
        "private": True,
        "dependencies": {package.name: package.version for package in PACKAGES},
    }
    (workdir / "package.json").write_text(json.dumps(package_json, indent=2) + "\n")
    command = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        f"--before={NPM_BEFORE}",
    ]
    environment = {**os.environ, "npm_config_update_notifier": "false"}
    result = subprocess.run(  # noqa: S603 - fixed arguments, npm found on PATH
        command, cwd=workdir, env=environment, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise VendorError(f"npm install failed:\n{result.stdout}\n{result.stderr}")
    return workdir / "node_modules"


def build(node_modules: Path) -> dict[Path, bytes]:
    """Everything the vendor directories should hold, keyed by absolute path."""
    outputs: dict[Path, bytes] = {}
    packages: dict[str, Any] = {}
    files: list[dict[str, Any]] = []
    for package in PACKAGES:
        package_dir = node_modules / package.name
        meta = _read_package_json(package_dir)
        if meta.get("version") != package.version:
            raise VendorError(f"{package.name}: npm installed {meta.get('version')}")
        licence = _licence_of(meta)
        if licence not in ALLOWED_LICENCES:
            raise VendorError(f"{package.name}: licence {licence} is not on the allow-list")

        target_dir = TARGET_DIRS[package.target]
        texts = [f"{package.name} {package.version} ({licence})\n\n{_licence_text(package_dir)}"]
        bundled = []
        sources = [source for source, _ in package.files]
        for name in _bundled_packages(package_dir, sources):
            dependency_dir = _find_dependency(package_dir, node_modules.parent, name)
            dependency = _read_package_json(dependency_dir)
            dependency_licence = _licence_of(dependency)
            if not spdx_allowed(dependency_licence, ALLOWED_BUNDLED_LICENCES):
                raise VendorError(
                    f"{package.name} bundles {name} under {dependency_licence}, not allowed"
                )
            bundled.append(
                {"package": name, "version": dependency["version"], "license": dependency_licence}
            )
            texts.append(
                f"==== bundled into {package.name}: {name} {dependency['version']} "
                f"({dependency_licence.strip('()')}) ====\n\n{_licence_text(dependency_dir)}"
            )
        licence_path = target_dir / "licences" / f"{package.name}.txt"
        outputs[licence_path] = "\n".join(texts).encode("utf-8")

        packages[package.name] = {
            "bundled": bundled,
            "licence_file": _rel(licence_path),
            "license": licence,
            "target": package.target,
            "version": package.version,
        }
        for source, flat_name in package.files:
            source_path = package_dir / source
            if not source_path.is_file():
                raise VendorError(f"{package.name}@{package.version} has no {source}")
            data = source_path.read_bytes()
            destination = target_dir / flat_name
            if destination in outputs:
                raise VendorError(f"two files vendored as {_rel(destination)}")
            outputs[destination] = data
            files.append(
                {
                    "file": _rel(destination),
                    "license": licence,
                    "package": package.name,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "source": source,
                    "target": package.target,
                    "version": package.version,
                }
            )
    manifest = {
        "generated_by": "scripts/vendor_assets.py (do not edit by hand)",
        "npm_before": NPM_BEFORE,
        "packages": packages,
        "files": sorted(files, key=lambda entry: str(entry["file"])),
    }
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    outputs[MANIFEST] = text.encode("utf-8")
    return outputs


def _previous_outputs() -> set[Path]:
    if not MANIFEST.is_file():
        return set()
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    paths = {REPO / entry["file"] for entry in manifest.get("files", [])}
    paths |= {REPO / entry["licence_file"] for entry in manifest.get("packages", {}).values()}
    return paths


def write(outputs: dict[Path, bytes]) -> None:
    for stale in sorted(_previous_outputs() - set(outputs)):
        stale.unlink(missing_ok=True)
        print(f"removed {_rel(stale)}")
    for path, data in sorted(outputs.items()):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            print(f"wrote {_rel(path)}")


def check(outputs: dict[Path, bytes]) -> list[str]:
    problems = []
    for path, data in sorted(outputs.items()):
        if not path.is_file():
            problems.append(f"missing: {_rel(path)}")
            continue
        committed = hashlib.sha256(path.read_bytes()).hexdigest()
        expected = hashlib.sha256(data).hexdigest()
        if committed != expected:
            problems.append(f"differs: {_rel(path)} (committed {committed}, npm {expected})")
    for stale in sorted(_previous_outputs() - set(outputs)):
        problems.append(f"not produced by this script any more: {_rel(stale)}")
    return problems


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def report(outputs: dict[Path, bytes]) -> None:
    page_js = 0
    for path, data in sorted(outputs.items()):
        if path.suffix in {".js", ".mjs", ".css"}:
            print(f"{_rel(path):60} {len(data):>10,} B  {gzip_size(data):>9,} B gzipped")
            if path.suffix in {".js", ".mjs"} and path.is_relative_to(STATIC_VENDOR):
                page_js += gzip_size(data)
    print(f"JavaScript shipped to pages, gzipped together: {page_js:,} B")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="install afresh and compare with the committed files; exit 1 on any difference",
    )
    arguments = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="stadtkern-vendor-") as workdir:
            outputs = build(_npm_install(Path(workdir)))
    except VendorError as error:
        print(f"vendor_assets: {error}", file=sys.stderr)
        return 2
    if arguments.check:
        problems = check(outputs)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"all {len(outputs)} vendored files match a fresh npm install")
        return 0
    write(outputs)
    report(outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
