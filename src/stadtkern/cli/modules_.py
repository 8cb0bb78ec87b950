"""`stadtkern modules`."""

from __future__ import annotations

from rich.table import Table

from stadtkern.cli.common import console, load_settings
from stadtkern.modules import discover_modules


def list_modules() -> None:
    """Installed modules, their roles, and whether this configuration loads them."""
    settings = load_settings()
    loaded = {module.name for module in discover_modules(settings.modules)}
    table = Table("module", "title", "roles", "migrations", "loaded")
    for module in discover_modules(None):
        table.add_row(
            module.name,
            module.title,
            ", ".join(role.name for role in module.roles) or "-",
            "yes" if module.migrations else "-",
            "yes" if module.name in loaded else "no",
        )
    console.print(table)
