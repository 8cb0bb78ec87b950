"""What a write did, for the answer and for the MQTT notifications sent after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stadtkern.sensorthings.entities import EntityType

Operation = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class Change:
    """One entity created, updated or deleted by a request."""

    entity: EntityType
    id: int
    operation: Operation
    fields: frozenset[str]  # JSON names changed (every field on create)


@dataclass(frozen=True)
class Written:
    """The entity a create or update addressed, and every change the request made."""

    entity: EntityType
    id: int
    changes: tuple[Change, ...]


class ChangeLog:
    """Changes in the order they happened, one per entity: an update of an entity the same
    request created stays a create; later updates add their fields."""

    def __init__(self) -> None:
        self._changes: dict[tuple[str, int], Change] = {}

    def created(self, entity: EntityType, entity_id: int) -> None:
        """Record a new entity."""
        every = frozenset(field.name for field in entity.fields)
        self._changes[(entity.name, entity_id)] = Change(entity, entity_id, "create", every)

    def updated(self, entity: EntityType, entity_id: int, fields: frozenset[str]) -> None:
        """Record changed fields (or navigation properties) of an entity."""
        key = (entity.name, entity_id)
        known = self._changes.get(key)
        if known is None:
            self._changes[key] = Change(entity, entity_id, "update", fields)
        elif known.operation == "update":
            self._changes[key] = Change(entity, entity_id, "update", known.fields | fields)

    def deleted(self, entity: EntityType, entity_id: int) -> None:
        """Record a deleted entity."""
        self._changes[(entity.name, entity_id)] = Change(entity, entity_id, "delete", frozenset())

    def snapshot(self) -> dict[tuple[str, int], Change]:
        """The changes so far, to restore when a savepoint rolls back."""
        return dict(self._changes)

    def restore(self, snapshot: dict[tuple[str, int], Change]) -> None:
        """Forget what was recorded after the snapshot."""
        self._changes = dict(snapshot)

    def changes(self) -> tuple[Change, ...]:
        """Every change recorded, in order."""
        return tuple(self._changes.values())
