"""The docs are part of the product: every setting and command must be documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel

from stadtkern.cli import app
from stadtkern.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _variables(model: type[BaseModel], prefix: str) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _variables(annotation, f"{prefix}{name.upper()}__")
        else:
            names.append(f"{prefix}{name.upper()}")
    return names


def test_every_setting_is_documented() -> None:
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    variables = _variables(Settings, "STADTKERN_")
    assert "STADTKERN_MQTT__URL" in variables
    missing = [name for name in variables if f"`{name}`" not in operations]
    assert not missing, f"document these settings in docs/operations.md: {missing}"


def _commands(group: Any, prefix: str) -> list[str]:
    # Typer may bring its own click, so groups are recognised by their sub-commands.
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, f"{prefix}{name} ")
        else:
            found.append(f"{prefix}{name}")
    return found


def test_every_command_is_documented() -> None:
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    commands = _commands(root, "stadtkern ")
    assert "stadtkern tenant create" in commands
    missing = [
        c for c in commands if c not in operations and c.replace("stadtkern ", "") not in operations
    ]
    assert not missing, f"document these commands in docs/operations.md: {missing}"


def test_architecture_names_the_contract_members() -> None:
    architecture = (DOCS / "architecture.md").read_text(encoding="utf-8")
    for member in (
        "settings_model",
        "roles",
        "migrations",
        "routers",
        "topic_handlers",
        "background_tasks",
        "copy_configuration",
        "on_start",
        "on_stop",
    ):
        assert f"`{member}" in architecture, member
