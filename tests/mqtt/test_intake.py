"""The intake between paho's thread and the handlers: bursts, ordered PUBACKs, a bounded
hand-over. Driven without a broker: the test plays paho's thread and records acknowledgements."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence

import pytest
from prometheus_client import CollectorRegistry

from stadtkern.core.refs import TenantRef
from stadtkern.modules.contract import InboundMessage, TopicHandler
from stadtkern.mqtt.inbound import InboundRouter, Received
from stadtkern.mqtt.intake import Intake
from stadtkern.mqtt.metrics import MqttMetrics
from tests.mqtt.wire import eventually, tenant_ref

pytestmark = pytest.mark.anyio
TOWN = "kaiserslautern"
BurstHandle = Callable[[Sequence[InboundMessage]], Awaitable[Sequence[BaseException | None]]]


def message(number: int, topic: str = f"{TOWN}/v1.1/Observations") -> Received:
    return Received(topic, str(number).encode(), qos=1, retain=False, mid=number, connection=1)


class Harness:
    """An intake on the running loop with one burst handler; acknowledgements are recorded."""

    def __init__(
        self,
        handle_burst: BurstHandle,
        *,
        capacity: int = 100,
        backlog: int = 100,
        single: Callable[[InboundMessage], Awaitable[None]] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self.acknowledged: list[int] = []
        self.single: list[bytes] = []

        async def resolve(slug: str) -> TenantRef | None:
            return tenant_ref(slug, "sensors", "parking") if slug == TOWN else None

        async def record(inbound: InboundMessage) -> None:
            self.single.append(inbound.payload)

        async def never(_inbound: InboundMessage) -> None:
            raise AssertionError("a burst handler's messages do not come one by one")

        handlers = [("sensors", TopicHandler("v1.1/#", never, handle_burst=handle_burst))]
        handlers.append(("parking", TopicHandler("v1.1/Observations", single or record)))
        router = InboundRouter(
            handlers=handlers, resolve_tenant=resolve, metrics=MqttMetrics(self.registry)
        )
        loop = asyncio.get_running_loop()

        def call_in_loop(callback: Callable[[], None]) -> None:
            loop.call_soon_threadsafe(callback)

        self.intake = Intake(
            router=router,
            acknowledge=lambda done: self.acknowledged.extend(m.mid for m in done),
            call_in_loop=call_in_loop,
            capacity=capacity,
            backlog=backlog,
        )

    def paho_delivers(self, *numbers: int) -> threading.Thread:
        """Deliver messages from a thread of their own, as paho's network thread does."""

        def deliver() -> None:
            for number in numbers:
                self.intake.arrive(message(number))

        thread = threading.Thread(target=deliver)
        thread.start()
        return thread

    def failures(self) -> float:
        labels = {"module": "sensors"}
        value = self.registry.get_sample_value("stadtkern_mqtt_handler_failures_total", labels)
        return value or 0.0


async def test_messages_that_arrive_together_reach_a_burst_handler_at_once() -> None:
    bursts: list[list[bytes]] = []

    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        bursts.append([m.payload for m in messages])
        return [None] * len(messages)

    harness = Harness(handle_burst)
    harness.paho_delivers(1, 2, 3, 4, 5).join()  # all five wait before the intake runs
    runner = asyncio.create_task(harness.intake.run())
    try:
        await eventually(lambda: len(harness.acknowledged) == 5)
    finally:
        runner.cancel()
    assert bursts == [[b"1", b"2", b"3", b"4", b"5"]]
    # A handler without handle_burst still gets every message by itself.
    assert harness.single == [b"1", b"2", b"3", b"4", b"5"]
    assert harness.acknowledged == [1, 2, 3, 4, 5]


async def test_nothing_is_acknowledged_before_the_handler_returns() -> None:
    called, release = asyncio.Event(), asyncio.Event()

    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        called.set()
        await release.wait()  # the commit
        return [None] * len(messages)

    harness = Harness(handle_burst)
    runner = asyncio.create_task(harness.intake.run())
    try:
        harness.paho_delivers(1, 2, 3).join()
        await asyncio.wait_for(called.wait(), 10)
        await eventually(lambda: harness.intake.in_hand == 3)
        assert harness.acknowledged == []
        release.set()
        await eventually(lambda: harness.intake.in_hand == 0)
    finally:
        runner.cancel()
    assert harness.acknowledged == [1, 2, 3]


async def test_a_failed_message_in_a_burst_does_not_hold_up_the_others() -> None:
    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        return [RuntimeError("no such Datastream") if m.payload == b"2" else None for m in messages]

    harness = Harness(handle_burst)
    harness.paho_delivers(1, 2, 3).join()
    runner = asyncio.create_task(harness.intake.run())
    try:
        await eventually(lambda: harness.intake.in_hand == 0 and harness.acknowledged != [])
    finally:
        runner.cancel()
    assert harness.acknowledged == [1, 3]  # 2 stays unacknowledged: the broker sends it again
    assert harness.failures() == 1


async def test_acknowledgements_follow_the_order_received() -> None:
    first_called, first_release, second_done = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        if messages[0].payload == b"1":
            first_called.set()
            await first_release.wait()
        else:
            second_done.set()
        return [None] * len(messages)

    harness = Harness(handle_burst)
    runner = asyncio.create_task(harness.intake.run())
    try:
        harness.paho_delivers(1, 2).join()
        await asyncio.wait_for(first_called.wait(), 10)
        harness.paho_delivers(3, 4).join()
        await asyncio.wait_for(second_done.wait(), 10)
        await eventually(lambda: harness.single == [b"1", b"2", b"3", b"4"])
        assert harness.acknowledged == []  # 3 and 4 are done, but 1 and 2 came first
        first_release.set()
        await eventually(lambda: len(harness.acknowledged) == 4)
    finally:
        runner.cancel()
    assert harness.acknowledged == [1, 2, 3, 4]


async def test_the_hand_over_is_bounded_and_paho_waits_for_room() -> None:
    release = asyncio.Event()
    taken: list[bytes] = []

    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        taken.extend(m.payload for m in messages)
        await release.wait()
        return [None] * len(messages)

    harness = Harness(handle_burst, capacity=2, backlog=3)
    runner = asyncio.create_task(harness.intake.run())
    try:
        paho = harness.paho_delivers(*range(1, 9))
        # Two in hand, three waiting: paho's thread can hand over no more and waits.
        await eventually(lambda: harness.intake.in_hand == 2 and harness.intake.waiting == 3)
        assert paho.is_alive()
        assert len(taken) == 2
        release.set()
        await eventually(lambda: len(harness.acknowledged) == 8)
        paho.join(10)
        assert not paho.is_alive()
    finally:
        runner.cancel()
    assert harness.acknowledged == list(range(1, 9))


async def test_closing_releases_paho_from_a_full_hand_over() -> None:
    async def handle_burst(messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        return [None] * len(messages)

    harness = Harness(handle_burst, backlog=1)
    paho = harness.paho_delivers(1, 2, 3)  # nobody takes them: the second waits for room
    await eventually(lambda: harness.intake.waiting == 1)
    assert paho.is_alive()
    harness.intake.close()
    paho.join(10)
    assert not paho.is_alive()
    assert harness.acknowledged == []


async def test_a_burst_handler_that_raises_leaves_its_messages_unacknowledged() -> None:
    async def handle_burst(_messages: Sequence[InboundMessage]) -> list[BaseException | None]:
        raise RuntimeError("database down")

    harness = Harness(handle_burst)
    harness.paho_delivers(1, 2).join()
    runner = asyncio.create_task(harness.intake.run())
    try:
        await eventually(lambda: harness.failures() == 2)
        await eventually(lambda: harness.intake.in_hand == 0)
    finally:
        runner.cancel()
    assert harness.acknowledged == []
