"""The command line: tenants, keys, schema, configuration, modules, audit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from stadtkern.cli import app
from stadtkern.core import keys
from stadtkern.db import Database, migrations
from tests.conftest import TEST_PEPPER, unique_slug

runner = CliRunner()


@pytest.fixture
def env(database: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing the CLI at the test database."""
    url = database.url.render_as_string(hide_password=False)
    monkeypatch.setenv("STADTKERN_DATABASE_URL", url)
    monkeypatch.setenv("STADTKERN_DEV_MODE", "true")
    return {"STADTKERN_DATABASE_URL": url}


def test_every_command_has_help() -> None:
    for command in (
        [],
        ["serve"],
        ["bootstrap"],
        ["modules"],
        ["config", "check"],
        ["db", "upgrade"],
        ["db", "current"],
        ["tenant", "create"],
        ["tenant", "list"],
        ["tenant", "show"],
        ["tenant", "disable"],
        ["tenant", "enable"],
        ["key", "create"],
        ["key", "list"],
        ["key", "revoke"],
        ["audit", "verify"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage" in result.output


def test_tenant_lifecycle(env: dict[str, str], tmp_path: Path) -> None:
    slug = unique_slug()
    boundary = tmp_path / "kl.geojson"
    boundary.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[7.7, 49.4], [7.8, 49.4], [7.8, 49.5], [7.7, 49.4]]],
                },
            }
        )
    )
    created = runner.invoke(
        app,
        [
            "tenant",
            "create",
            slug,
            "--name",
            "Kaiserslautern",
            "--ars",
            "073120000000",
            "--boundary",
            str(boundary),
            "--modules",
            "example",
        ],
    )
    assert created.exit_code == 0, created.output
    shown = runner.invoke(app, ["tenant", "show", slug])
    assert shown.exit_code == 0
    data = json.loads(shown.output)
    assert data["modules"] == ["example"]
    assert data["boundary"]["type"] == "MultiPolygon"

    copy = unique_slug()
    copied = runner.invoke(
        app, ["tenant", "create", copy, "--from", slug, "--name", "Kusel", "--ars", "073360000000"]
    )
    assert copied.exit_code == 0, copied.output
    assert json.loads(runner.invoke(app, ["tenant", "show", copy]).output)["modules"] == ["example"]

    listed = runner.invoke(app, ["tenant", "list"], env={"COLUMNS": "200"})
    assert slug in listed.output
    assert copy in listed.output
    assert runner.invoke(app, ["tenant", "disable", slug]).exit_code == 0
    assert json.loads(runner.invoke(app, ["tenant", "show", slug]).output)["disabled"] is True


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--name", "X", "--ars", "123"], "ARS"),
        (["--name", "X", "--ars", "073120000000", "--timezone", "Mars/Base"], "time zone"),
        (["--name", "X", "--ars", "073120000000", "--modules", "nope"], "unknown modules"),
    ],
)
def test_tenant_create_refuses_bad_input(
    env: dict[str, str], arguments: list[str], message: str
) -> None:
    slug = unique_slug()
    result = runner.invoke(app, ["tenant", "create", slug, *arguments])
    assert result.exit_code != 0
    assert message in result.output
    assert runner.invoke(app, ["tenant", "show", slug]).exit_code == 1


def test_key_create_shows_token_once_and_it_works(env: dict[str, str], database: Database) -> None:
    slug = unique_slug()
    runner.invoke(app, ["tenant", "create", slug, "--name", "X", "--ars", "073120000000"])
    result = runner.invoke(app, ["key", "create", "--tenant", slug, "--role", "operator"])
    assert result.exit_code == 0, result.output
    token = next(line.strip() for line in result.output.splitlines() if line.startswith("sk_"))
    with database.read() as session:
        found = keys.verify_token(session, token, TEST_PEPPER)
        assert found is not None
    key_id = token.split("_")[1]
    listed = runner.invoke(app, ["key", "list", "--tenant", slug], env={"COLUMNS": "200"})
    assert key_id in listed.output
    assert token not in listed.output
    assert runner.invoke(app, ["key", "revoke", key_id, "--tenant", slug]).exit_code == 0
    with database.read() as session:
        assert keys.verify_token(session, token, TEST_PEPPER) is None


def test_key_create_refuses_unknown_role(env: dict[str, str]) -> None:
    slug = unique_slug()
    runner.invoke(app, ["tenant", "create", slug, "--name", "X", "--ars", "073120000000"])
    result = runner.invoke(app, ["key", "create", "--tenant", slug, "--role", "emperor"])
    assert result.exit_code == 1
    assert "unknown roles" in result.output


def test_bootstrap_creates_one_platform_admin(env: dict[str, str]) -> None:
    first = runner.invoke(app, ["bootstrap"])
    assert first.exit_code == 0
    second = runner.invoke(app, ["bootstrap"])
    assert "exists" in second.output
    assert "sk_" not in second.output


def test_db_current_reports_each_branch(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["db", "current"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "core" in result.output
    assert "example" in result.output
    assert "current" in result.output


def test_db_upgrade_on_fresh_database(
    make_database: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = make_database("sqlite")  # type: ignore[operator]
    monkeypatch.setenv("STADTKERN_DATABASE_URL", database.url.render_as_string(hide_password=False))
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 1
    assert "out of date" in before.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert all(state.is_current for state in migrations.branch_states(database))


def test_modules_lists_installed_and_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTKERN_MODULES", "core")
    result = runner.invoke(app, ["modules"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert rows["core"].rstrip(" │").endswith("yes")
    assert rows["example"].rstrip(" │").endswith("no")


def test_config_check_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-" + "x" * 40
    monkeypatch.setenv("STADTKERN_SECRET_KEY", secret)
    monkeypatch.setenv("STADTKERN_DATABASE_URL", "postgresql+psycopg://city:pw123@db.local/stadt")
    monkeypatch.setenv("STADTKERN_MQTT__URL", "mqtts://platform:mqttpw@broker.local:8883")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert "pw123" not in result.output
    assert "mqttpw" not in result.output
    assert "********" in result.output
    assert "configuration is valid" in result.output


def test_config_check_refuses_default_secret_outside_dev_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("STADTKERN_SECRET_KEY", raising=False)
    monkeypatch.setenv("STADTKERN_DEV_MODE", "false")
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 1
    assert "SECRET_KEY" in result.output


def test_config_check_reads_toml_and_reports_errors(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "stadtkern.toml"
    config.write_text('dev_mode = true\nport = 8123\n[mqtt]\nurl = "mqtt://broker:1883"\n')
    monkeypatch.setenv("STADTKERN_CONFIG", str(config))
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert '"port": 8123' in result.output
    assert "mqtt://broker:1883" in result.output
    config.write_text("dev_mode = true\nport = 99999\nunknown = 1\n")
    bad = runner.invoke(app, ["config", "check"])
    assert bad.exit_code == 2
    assert "PORT" in bad.output
    assert "UNKNOWN" in bad.output


def test_audit_verify_reports_tampering(
    make_database: Callable[[str], Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = make_database("sqlite")
    migrations.upgrade(database)
    monkeypatch.setenv("STADTKERN_DATABASE_URL", database.url.render_as_string(hide_password=False))
    monkeypatch.setenv("STADTKERN_DEV_MODE", "true")
    for index in range(3):
        created = runner.invoke(
            app, ["tenant", "create", f"town-{index}", "--name", "X", "--ars", "073120000000"]
        )
        assert created.exit_code == 0, created.output
    intact = runner.invoke(app, ["audit", "verify"], env={"COLUMNS": "200"})
    assert intact.exit_code == 0, intact.output
    assert "3 entries" in intact.output
    with database.write() as session:
        session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("UPDATE audit_entry SET actor = 'someone else' WHERE seq = 2"))
    broken = runner.invoke(app, ["audit", "verify"], env={"COLUMNS": "200"})
    assert broken.exit_code == 1
    assert "changed" in broken.output
    bad_head = runner.invoke(app, ["audit", "verify", "--expected-head", "3:abc"])
    assert bad_head.exit_code == 2
