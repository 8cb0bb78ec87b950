"""MQTT Receive: what a committed change means for the topics clients subscribe to.

Clients subscribe to resource paths as topics (`kl/v1.1/Datastreams(5)/Observations`, with
an optional `?$select=result,phenomenonTime`). For every created or updated entity, each
subscribed topic of the tenant is checked: a collection topic matches the entities it holds
(any depth: `Things(1)/Datastreams(2)/Observations`), an entity topic its entity, a property
topic its entity when that property changed. The message is the entity as a GET would
return it (with `$select` applied), written to the outbox in the same transaction as the
change, so that a subscriber never hears of a change that was rolled back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.errors import StadtkernError
from stadtkern.sensorthings import reader
from stadtkern.sensorthings.context import ReadContext
from stadtkern.sensorthings.paths import PathError, ResourcePath, parse_path
from stadtkern.sensorthings.query import QueryError, parse_query_options
from stadtkern.sensorthings.resolve import Resolved, resolve
from stadtkern.sensorthings.settings import SensorThingsSettings
from stadtkern.sensorthings.writer import Change

VERSION_PREFIX = "v1.1/"

# enqueue(session, relative topic, payload): add a publish to the outbox of the transaction.
Enqueue = Callable[[Session, str, bytes], None]


@dataclass(frozen=True)
class Subscription:
    """A topic a client subscribed to, parsed."""

    topic: str  # relative to the tenant, e.g. v1.1/Things(1)?$select=name
    path: ResourcePath
    query: list[tuple[str, str]]


def parse_subscription(topic: str) -> Subscription | None:
    """A subscribed topic as a resource path; None for topics that are not STA resources."""
    if not topic.startswith(VERSION_PREFIX) or "+" in topic or "#" in topic:
        return None
    path_text, _, query_text = topic[len(VERSION_PREFIX) :].partition("?")
    query = parse_qsl(query_text, keep_blank_values=True)
    if any(name != "$select" for name, _ in query):
        return None
    try:
        path = parse_path(path_text)
        parse_query_options(query)
    except (PathError, QueryError):
        return None
    if path.ref or path.value:
        return None
    return Subscription(topic, path, query)


def publish_changes(
    session: Session,
    tenant: TenantRef,
    changes: Sequence[Change],
    topics: Iterable[str],
    *,
    base_url: str,
    settings: SensorThingsSettings,
    enqueue: Enqueue,
) -> int:
    """Enqueue a message per matching (change, subscribed topic); returns how many."""
    subscriptions = [s for s in map(parse_subscription, topics) if s is not None]
    if not subscriptions:
        return 0
    resolved: dict[str, Resolved | None] = {}
    sent = 0
    for change in changes:
        if change.operation == "delete":
            continue
        for subscription in subscriptions:
            if subscription.path.target.name != change.entity.name:
                continue
            if subscription.topic not in resolved:
                resolved[subscription.topic] = _resolve(session, tenant, subscription.path)
            target = resolved[subscription.topic]
            if target is None or not _matches(session, subscription, target, change):
                continue
            payload = _render(session, tenant, subscription, change, base_url, settings)
            enqueue(session, subscription.topic, payload)
            sent += 1
    return sent


def _resolve(session: Session, tenant: TenantRef, path: ResourcePath) -> Resolved | None:
    try:
        return resolve(session, tenant.id, path)
    except StadtkernError:
        return None  # a topic naming entities that do not exist (yet) matches nothing


def _matches(
    session: Session, subscription: Subscription, target: Resolved, change: Change
) -> bool:
    path = subscription.path
    if path.field is not None or path.id_property:
        # A property topic: only when that property changed.
        name = path.field.name if path.field is not None else "id"
        return target.id == change.id and change.operation == "update" and name in change.fields
    if target.id is not None:
        return target.id == change.id
    members = target.members(change.entity.table)
    if members is None:
        return True
    table = change.entity.table
    return session.scalar(select(table.c.id).where(table.c.id == change.id, members)) is not None


def _render(
    session: Session,
    tenant: TenantRef,
    subscription: Subscription,
    change: Change,
    base_url: str,
    settings: SensorThingsSettings,
) -> bytes:
    path = subscription.path
    entity_path = parse_path(f"{change.entity.set_name}({change.id})")
    if path.field is not None:
        entity_path = parse_path(f"{entity_path.text()}/{path.field.name}")
    context = ReadContext(tenant, base_url, settings, list(subscription.query))
    options = parse_query_options(list(subscription.query))
    document = reader.read(session, context, entity_path, options)
    return json.dumps(document.body, ensure_ascii=False, separators=(",", ":")).encode()
