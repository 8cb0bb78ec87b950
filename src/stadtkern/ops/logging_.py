"""Structured logging: readable text for people, one JSON object per line for machines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with every `extra` field as a key."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(*, level: str, json_format: bool) -> None:
    """Set up the root logger once for the process (idempotent)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_format
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_stadtkern", False):
            root.removeHandler(existing)
    handler._stadtkern = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # amqtt logs every packet at INFO; the platform's own log says what matters.
    logging.getLogger("amqtt").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # Readiness checks read the schema revision; Alembic would log each of them.
    logging.getLogger("alembic.runtime.migration").setLevel(max(logging.WARNING, root.level))
