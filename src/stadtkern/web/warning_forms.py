"""The warning console's form: its fields to an AlertInput, and readable problems back."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from stadtkern.warning.alert_input import AlertInput

SIGNALS = ("warning", "test_tone", "none")
TEXT_LIMIT = 2000


def form_values(form: FormData) -> dict[str, Any]:
    """The form's fields (zones as a list), cut to sane lengths."""
    values: dict[str, Any] = {
        name: str(value)[:TEXT_LIMIT] for name, value in form.items() if name != "zone"
    }
    values["zones"] = [str(zone)[:100] for zone in form.getlist("zone")][:200]
    return values


def alert_input(values: dict[str, Any]) -> AlertInput:
    """The alert the form describes; ValidationError says what is missing or wrong."""

    def text(name: str) -> str | None:
        value = str(values.get(name, "")).strip()
        return value or None

    body: dict[str, Any] = {
        "status": "Actual" if values.get("status") == "Actual" else "Exercise",
        "event": text("event") or "",
        "headline": {"de": text("headline_de") or "", "en": text("headline_en")},
        "area": {"zones": values.get("zones", [])},
        "signal": values.get("signal") if values.get("signal") in SIGNALS else "warning",
        "repeat": _number(values.get("repeat"), 1),
    }
    instruction_de, instruction_en = text("instruction_de"), text("instruction_en")
    if instruction_de or instruction_en:
        body["instruction"] = {"de": instruction_de or "", "en": instruction_en}
    return AlertInput.model_validate(body)


def problems_of(error: ValidationError) -> list[str]:
    """One readable line per problem, naming the form's field."""
    names = {
        "event": "Event",
        "headline.de": "Headline (German)",
        "headline.en": "Headline (English)",
        "instruction.de": "Instruction (German)",
        "instruction.en": "Instruction (English)",
        "area": "Zones",
        "area.zones": "Zones",
    }
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        lines.append(f"{names.get(where, where)}: {problem['msg']}")
    return lines


def _number(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default
