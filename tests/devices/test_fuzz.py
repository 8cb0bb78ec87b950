"""Whatever arrives on a command topic, the lantern answers with a reason and never crashes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stadtkern.devices.lantern.firmware import Lantern, LanternIdentity, Publish
from stadtkern.devices.lantern.protocol import (
    CHANNELS,
    REASONS,
    Ack,
    Command,
    ProtocolError,
    unpack_envelope,
)
from stadtkern.devices.lantern.state import StateStore
from tests.devices.conftest import CODE, T0, TENANT, Keys

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
ENVELOPE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, "1", True, None, 1.0, -1]),
        "kid": st.sampled_from(["live-1", "exercise-1", "", 7]),
        "body": st.text(max_size=40),
        "sig": st.text(max_size=90),
    },
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dump(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


def _refusal(check: Callable[[], object]) -> str | None:
    try:
        check()
    except ProtocolError as error:
        return error.reason
    return None


@FUZZ
@given(st.binary(max_size=300) | JSON.map(_dump) | ENVELOPE_LIKE.map(_dump))
def test_garbage_is_only_ever_refused(payload: bytes) -> None:
    keys = Keys()
    store = StateStore(None)
    store.save(keys.state())
    lantern = Lantern(LanternIdentity(TENANT, CODE, keys.device), store)
    assert _refusal(lambda: unpack_envelope(payload)) in (*REASONS, None)
    for channel in CHANNELS:
        for item in lantern.handle_command(channel, payload, T0):
            assert isinstance(item, Publish)
            assert isinstance(item.report, Ack)
            assert item.report.state == "rejected"
    assert lantern.state.counters == {"live": 0, "exercise": 0}


@FUZZ
@given(JSON.map(_dump))
def test_any_json_body_parses_or_is_malformed(body: bytes) -> None:
    assert _refusal(lambda: Command.from_body(body)) in ("malformed", None)
