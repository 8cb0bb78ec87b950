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

import json
import logging

from anyio import to_thread

from stadtkern.errors import StadtkernError
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest
from stadtkern.sensorthings.notifications import VERSION_PREFIX

logger = logging.getLogger(__name__)
CREATE_TOPICS = ("v1.1/Observations", "v1.1/+/Observations")
_PARENTS = ("Datastreams(", "MultiDatastreams(", "FeaturesOfInterest(")


def create_handlers(dispatcher: Dispatcher, base_url: str) -> list[TopicHandler]:
    """The topic handlers that create Observations."""

    async def handle(message: InboundMessage) -> None:
        await create_from_message(dispatcher, message, base_url)

    return [TopicHandler(pattern, handle, qos=1) for pattern in CREATE_TOPICS]


async def create_from_message(
    dispatcher: Dispatcher, message: InboundMessage, base_url: str
) -> int | None:
    """Create the Observation a message carries; its id, or None when it was dropped."""
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
    request = StaRequest("POST", path, body=body)
    tenant_base = f"{base_url.rstrip('/')}/{message.tenant.slug}/v1.1"
    # Returns after the commit; waits while the ingest queue is full (the broker holds the
    # messages meanwhile). An error of the pipeline itself (shutting down, database down)
    # propagates: the message stays unacknowledged and comes again.
    fast = await dispatcher.create_fast(message.tenant, request, base_url=tenant_base, wait=True)
    if fast is not None:
        fast_id: int = fast.body["@iot.id"]
        return fast_id
    try:
        answer = await to_thread.run_sync(
            lambda: dispatcher.handle(message.tenant, request, base_url=tenant_base, may_write=True)
        )
    except StadtkernError as error:
        logger.info("MQTT create on %r refused: %s", message.topic, error.detail)
        return None
    created: int = answer.body["@iot.id"]
    return created
