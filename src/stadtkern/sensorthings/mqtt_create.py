"""MQTT Create: Observations published to `{tenant}/v1.1/...Observations` are created.

Topics: `v1.1/Observations`, `v1.1/Datastreams(id)/Observations`,
`v1.1/MultiDatastreams(id)/Observations` and `v1.1/FeaturesOfInterest(id)/Observations`.
The broker has already checked that the client may publish there (the topic ACL of
`stadtkern.mqtt.access`). The handler returns once the Observation is committed (through
the ingest pipeline where it can), so the message is acknowledged only then; a payload
that can never become an Observation is logged and dropped (acknowledged), since
redelivering it would fail the same way.

A subscriber of such a topic hears both the client's publish and the server's message about
the created entity. The server's messages carry `@iot.selfLink`; a payload with one is not a
create request and is ignored, so the server never creates from its own messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from anyio import to_thread

from stadtkern.core.refs import TenantRef
from stadtkern.errors import StadtkernError
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest
from stadtkern.sensorthings.ingest.rows import Row, plan_create
from stadtkern.sensorthings.notifications import VERSION_PREFIX

logger = logging.getLogger(__name__)
CREATE_TOPICS = ("v1.1/Observations", "v1.1/+/Observations")
_PARENTS = ("Datastreams(", "MultiDatastreams(", "FeaturesOfInterest(")


def create_handlers(dispatcher: Dispatcher, base_url: str) -> list[TopicHandler]:
    """The topic handlers that create Observations (a burst of messages in one submission)."""

    async def handle(message: InboundMessage) -> None:
        await create_from_message(dispatcher, message, base_url)

    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        return await create_from_burst(dispatcher, messages, base_url)

    return [
        TopicHandler(pattern, handle, qos=1, handle_burst=handle_burst) for pattern in CREATE_TOPICS
    ]


async def create_from_message(
    dispatcher: Dispatcher, message: InboundMessage, base_url: str
) -> int | None:
    """Create the Observation a message carries; its id, or None when it was dropped."""
    request = _request(message)
    if request is None:
        return None
    tenant_base = _tenant_base(base_url, message.tenant)
    # Returns after the commit; waits while the ingest queue is full (the broker holds the
    # messages meanwhile). An error of the pipeline itself (shutting down, database down)
    # propagates: the message stays unacknowledged and comes again.
    fast = await dispatcher.create_fast(message.tenant, request, base_url=tenant_base, wait=True)
    if fast is not None:
        fast_id: int = fast.body["@iot.id"]
        return fast_id
    return await to_thread.run_sync(_create_in_general, dispatcher, message, request, tenant_base)


async def create_from_burst(
    dispatcher: Dispatcher, messages: Sequence[InboundMessage], base_url: str
) -> list[BaseException | None]:
    """Create the Observations of messages that arrived together: the rows of each tenant as
    one submission of the ingest pipeline, so one commit (and one wake-up of the event loop)
    answers them all. Per message: None once it is committed or dropped, or the error that
    leaves it unacknowledged. A message the pipeline refuses, or that it does not take
    (a nested entity), goes to the general writer as a single message would."""
    outcomes: list[BaseException | None] = [None] * len(messages)
    pipeline = dispatcher.ingest
    now = datetime.now(UTC)
    rows_of: dict[int, list[tuple[int, Row]]] = {}
    requests: dict[int, StaRequest] = {}
    general: list[tuple[int, StaRequest]] = []
    for index, message in enumerate(messages):
        request = _request(message)
        if request is None:
            continue
        requests[index] = request
        plan = None if pipeline is None else plan_create(request.path, request.body, now)
        if plan is None:
            general.append((index, request))
        else:
            rows_of.setdefault(message.tenant.id, []).append((index, plan.row))
    if pipeline is not None and rows_of:
        answers = await asyncio.gather(
            *(
                pipeline.submit(
                    messages[items[0][0]].tenant,
                    [row for _index, row in items],
                    base_url=_tenant_base(base_url, messages[items[0][0]].tenant),
                    wait=True,
                )
                for items in rows_of.values()
            ),
            return_exceptions=True,
        )
        for items, answer in zip(rows_of.values(), answers, strict=True):
            for position, (index, _row) in enumerate(items):
                if isinstance(answer, BaseException):
                    outcomes[index] = answer  # the pipeline failed: the message comes again
                elif not isinstance(answer[position], int):
                    general.append((index, requests[index]))
    if general:
        general.sort(key=lambda item: item[0])
        results = await to_thread.run_sync(
            _create_all_in_general, dispatcher, messages, general, base_url
        )
        for (index, _request_made), result in zip(general, results, strict=True):
            outcomes[index] = result
    return outcomes


def _request(message: InboundMessage) -> StaRequest | None:
    """The POST a message stands for; None (logged) when it is not a create request."""
    path = message.topic[len(VERSION_PREFIX) :]
    if path != "Observations" and not path.startswith(_PARENTS):
        logger.info("MQTT create: %r is not an Observations topic", message.topic)
        return None
    try:
        body = json.loads(message.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        logger.info("MQTT create on %r: the payload is not JSON; dropped", message.topic)
        return None
    if isinstance(body, dict) and "@iot.selfLink" in body:
        return None  # the server's own message about an entity, not a create request
    return StaRequest("POST", path, body=body)


def _tenant_base(base_url: str, tenant: TenantRef) -> str:
    return f"{base_url.rstrip('/')}/{tenant.slug}/v1.1"


def _create_in_general(
    dispatcher: Dispatcher, message: InboundMessage, request: StaRequest, tenant_base: str
) -> int | None:
    """Create through the general writer; None (logged) when it refuses the request."""
    try:
        answer = dispatcher.handle(message.tenant, request, base_url=tenant_base, may_write=True)
    except StadtkernError as error:
        logger.info("MQTT create on %r refused: %s", message.topic, error.detail)
        return None
    created: int = answer.body["@iot.id"]
    return created


def _create_all_in_general(
    dispatcher: Dispatcher,
    messages: Sequence[InboundMessage],
    general: Sequence[tuple[int, StaRequest]],
    base_url: str,
) -> list[BaseException | None]:
    """`_create_in_general` for several messages, each in a transaction of its own."""
    results: list[BaseException | None] = []
    for index, request in general:
        message = messages[index]
        try:
            _create_in_general(dispatcher, message, request, _tenant_base(base_url, message.tenant))
        except Exception as error:  # the message stays unacknowledged and comes again
            results.append(error)
        else:
            results.append(None)
    return results
