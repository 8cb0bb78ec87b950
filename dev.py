#!/usr/bin/env python3
"""Set up and run Stadtkern on a fresh machine with nothing but Python.

    python3 dev.py run    # virtual environment, then the demo city on SQLite + embedded MQTT
    python3 dev.py serve  # the bare platform on SQLite + embedded MQTT, no demo data
    python3 dev.py test   # virtual environment, then ruff, mypy and the whole test suite

Everything lands in .venv/ and var/ inside the checkout; nothing is installed system-wide
except Debian's python3-venv when it is missing and we run as root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".stadtkern-installed"
INPUTS = ("pyproject.toml", "constraints.txt", "examples/stadtkern-example-module/pyproject.toml")


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*command: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(result.returncode)


def _create_venv() -> None:
    say("creating the virtual environment in .venv")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)  # noqa: S603
    if result.returncode == 0:
        return
    shutil.rmtree(VENV, ignore_errors=True)
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        say("Python's venv module is missing; installing Debian's python3-venv")
        run(apt, "update", "-qq")
        run(apt, "install", "-y", "-qq", "python3-venv")
        run(sys.executable, "-m", "venv", str(VENV))
        return
    sys.exit("Python's venv module is missing: install it (Debian: apt-get install python3-venv)")


def ensure_environment() -> None:
    """Create .venv and install the platform with its test extras when inputs changed."""
    if not (BIN / "python").exists():
        _create_venv()
    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    if STAMP.exists() and STAMP.read_text() == digest.hexdigest():
        return
    say("installing Stadtkern and its dependencies")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    run(*pip, "install", "--upgrade", "pip")
    run(
        *pip,
        "install",
        "-c",
        "constraints.txt",
        "-e",
        ".[dev]",
        "-e",
        "examples/stadtkern-example-module",
    )
    STAMP.write_text(digest.hexdigest())


def command_run(arguments: list[str]) -> None:
    """Start the demo: the platform on its embedded default with a simulated city."""
    stadtkern = str(BIN / "stadtkern")
    os.chdir(ROOT)  # the demo keeps its data in var/demo of the checkout
    os.execv(stadtkern, [stadtkern, "demo", *arguments])  # noqa: S606


def command_serve(arguments: list[str]) -> None:
    """Start the bare platform on its embedded default (no demo data)."""
    env = dict(os.environ)
    env.setdefault("STADTKERN_DEV_MODE", "true")
    env.setdefault("STADTKERN_DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'stadtkern.sqlite'}")
    env.setdefault("STADTKERN_SESSION_COOKIE_SECURE", "false")
    stadtkern = str(BIN / "stadtkern")
    run(stadtkern, "db", "upgrade", env=env)
    run(stadtkern, "bootstrap", env=env)
    os.execve(stadtkern, [stadtkern, "serve", *arguments], env)  # noqa: S606


PARALLEL = ["-n", "2", "--dist", "loadfile"]


def command_test(arguments: list[str]) -> None:
    """Lint, type-check and run the whole suite (both backends, both brokers)."""
    say("ruff")
    run(str(BIN / "ruff"), "check", "src", "tests", "examples", "bench", "scripts", "dev.py")
    run(
        str(BIN / "ruff"),
        "format",
        "--check",
        "src",
        "tests",
        "examples",
        "bench",
        "scripts",
        "dev.py",
    )
    say("mypy --strict")
    run(str(BIN / "mypy"))
    say("pytest")
    # Two workers (the suite waits on databases, brokers and browsers as much as it computes);
    # a file's tests stay together so that its fixtures are made once.
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in arguments) else PARALLEL
    run(str(BIN / "pytest"), *parallel, *arguments)


def main() -> None:
    commands = {"run": command_run, "serve": command_serve, "test": command_test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    ensure_environment()
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
