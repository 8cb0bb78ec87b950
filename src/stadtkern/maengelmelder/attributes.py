"""Answers to a category's questions, checked against their Open311 datatypes."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from stadtkern.errors import InvalidInput
from stadtkern.maengelmelder.text import plain_text

Answers = dict[str, str | list[str]]
_LIMITS = {"string": 255, "text": 4000}


def check_answers(specs: list[dict[str, Any]], given: Answers) -> dict[str, Any]:
    """The answers to store, or InvalidInput naming the first wrong one."""
    known = {spec["code"]: spec for spec in specs}
    unknown = sorted(code for code, value in given.items() if code not in known and value)
    if unknown:
        raise InvalidInput(f"attribute[{unknown[0]}] is not an attribute of this service")
    answers: dict[str, Any] = {}
    for code, spec in known.items():
        value = given.get(code)
        if value in (None, "", []):
            if spec.get("required") and spec.get("variable", True):
                raise InvalidInput(f"attribute[{code}] is required")
            continue
        assert value is not None  # noqa: S101 - narrowed above
        answers[code] = _answer(code, spec, value)
    return answers


def _answer(code: str, spec: dict[str, Any], value: str | list[str]) -> Any:
    datatype = spec["datatype"]
    keys = {choice["key"] for choice in spec.get("values", [])}
    if datatype == "multivaluelist":
        chosen = [value] if isinstance(value, str) else list(value)
        wrong = [item for item in chosen if item not in keys]
        if wrong:
            raise InvalidInput(f"attribute[{code}]: '{wrong[0]}' is not one of its values")
        return sorted(set(chosen))
    if not isinstance(value, str):
        raise InvalidInput(f"attribute[{code}] takes one value")
    if datatype == "singlevaluelist":
        if value not in keys:
            raise InvalidInput(f"attribute[{code}]: '{value}' is not one of its values")
        return value
    if datatype == "number":
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(f"attribute[{code}] must be a number") from None
        if not math.isfinite(number):
            raise InvalidInput(f"attribute[{code}] must be a finite number")
        return number
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"attribute[{code}] must be a date and time (ISO 8601)") from None
        if moment.tzinfo is None:
            raise InvalidInput(f"attribute[{code}] needs a time zone offset")
        return moment.isoformat()
    multiline = datatype == "text"
    return plain_text(
        value, field=f"attribute[{code}]", limit=_LIMITS[datatype], multiline=multiline
    )
