"""Discovery of modules through the `stadtkern.modules` entry-point group."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import EntryPoint, entry_points

from stadtkern.modules.contract import StadtkernModule

ENTRY_POINT_GROUP = "stadtkern.modules"
MODULE_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class ModuleError(RuntimeError):
    """A module cannot be loaded or does not meet the contract."""


def _load(entry_point: EntryPoint) -> StadtkernModule:
    try:
        module = entry_point.load()
    except Exception as exc:
        raise ModuleError(f"module {entry_point.name!r} failed to import: {exc}") from exc
    if not isinstance(module, StadtkernModule):
        raise ModuleError(f"entry point {entry_point.value!r} does not meet the module contract")
    if module.name != entry_point.name or not MODULE_NAME.match(module.name):
        raise ModuleError(
            f"entry point {entry_point.name!r} names module {module.name!r}; they must agree "
            "and match [a-z][a-z0-9_]{1,39}"
        )
    return module


def discover_modules(enabled: Sequence[str] | None = None) -> list[StadtkernModule]:
    """Installed modules in dependency order, limited to `enabled` (core is always loaded)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if enabled is not None:
        unknown = sorted(set(enabled) - set(found))
        if unknown:
            raise ModuleError(f"STADTKERN_MODULES names modules that are not installed: {unknown}")
        wanted = {"core", *enabled}
    else:
        wanted = set(found)
    loaded = {name: _load(found[name]) for name in sorted(wanted)}
    ordered: list[StadtkernModule] = []
    visiting: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if any(module.name == name for module in ordered):
            return
        if name in visiting:
            raise ModuleError(f"module dependency cycle: {' -> '.join((*chain, name))}")
        if name not in loaded:
            raise ModuleError(f"module {chain[-1]!r} needs {name!r}, which is not loaded")
        visiting.add(name)
        for dependency in loaded[name].depends_on:
            if dependency != name:
                visit(dependency, (*chain, name))
        visiting.discard(name)
        ordered.append(loaded[name])

    for name in sorted(loaded):
        visit(name, ())
    return ordered
