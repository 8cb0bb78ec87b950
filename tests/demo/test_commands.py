"""`stadtkern simulate` and the demo's set-up refuse what they cannot use and say why."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from stadtkern.cli import app
from stadtkern.cli.demo_setup import reset_database
from tests.conftest import free_port

runner = CliRunner()


def test_simulate_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STADTKERN_SIMULATOR_KEY", raising=False)
    result = runner.invoke(app, ["simulate", "--tenant", "kaiserslautern"])
    assert result.exit_code == 2
    assert "STADTKERN_SIMULATOR_KEY" in result.output


def test_simulate_refuses_a_wrong_history(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTKERN_SIMULATOR_KEY", "sk_000000000000_secret")
    result = runner.invoke(app, ["simulate", "--tenant", "kusel", "--history", "a week"])
    assert result.exit_code == 2
    assert "--history" in result.output


def test_simulate_reports_an_unreachable_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTKERN_SIMULATOR_KEY", "sk_000000000000_secret")
    url = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["simulate", "--tenant", "kusel", "--url", url])
    assert result.exit_code == 1
    assert "simulation stopped" in result.output


def test_reset_removes_the_sqlite_files(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").write_bytes(b"x")
    keep = tmp_path / "credentials.json"
    keep.write_text("{}")
    reset_database(f"sqlite:///{database}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.json"]
