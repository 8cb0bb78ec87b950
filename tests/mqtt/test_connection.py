"""Broker URLs and reconnect delays."""

from __future__ import annotations

import random
import ssl
from pathlib import Path

import pytest

from stadtkern.mqtt.connection import (
    Backoff,
    BrokerAddress,
    broker_address,
    split_bind,
    tls_context,
)
from stadtkern.settings import MqttSettings
from tests.mqtt.pki import make_pki


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://broker.example", BrokerAddress("broker.example", 1883)),
        ("mqtt://broker.example:1999", BrokerAddress("broker.example", 1999)),
        ("mqtts://broker.example", BrokerAddress("broker.example", 8883, tls=True)),
        (
            "mqtts://plat%40form:s%3Acret@10.0.0.5:8884",
            BrokerAddress("10.0.0.5", 8884, tls=True, username="plat@form", password="s:cret"),
        ),
        ("mqtt://user@[::1]", BrokerAddress("::1", 1883, username="user")),
    ],
)
def test_broker_urls(url: str, expected: BrokerAddress) -> None:
    assert broker_address(MqttSettings(url=url)) == expected


def test_embedded_means_the_embedded_listener() -> None:
    settings = MqttSettings(url="embedded", embedded_bind="0.0.0.0:1999")
    assert broker_address(settings) == BrokerAddress("127.0.0.1", 1999)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://broker.example", "scheme 'http'"),
        ("broker.example:1883", "must be 'embedded'"),
        ("mqtt://", "no host"),
        ("mqtt://broker.example:99999", "invalid port"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        broker_address(MqttSettings(url=url))


@pytest.mark.parametrize("bind", ["1884", "host:", "host:port", "host:70000"])
def test_bad_listener_addresses_are_refused(bind: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        split_bind(bind)


class Highest(random.Random):
    """Always the upper end of the range: shows the ceiling of each delay."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_backoff_ceiling_doubles_up_to_the_maximum() -> None:
    backoff = Backoff(0.5, 30.0, Highest())
    delays = [backoff.next_delay() for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_backoff_delays_stay_within_their_bounds() -> None:
    backoff = Backoff(0.5, 30.0)
    for attempt in range(40):
        assert 0.5 <= backoff.next_delay() <= min(30.0, 0.5 * 2**attempt)


def test_backoff_starts_again_after_a_reset() -> None:
    backoff = Backoff(1.0, 60.0, Highest())
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_backoff_with_a_ceiling_below_the_floor_uses_the_floor() -> None:
    backoff = Backoff(2.0, 1.0)
    assert {backoff.next_delay() for _ in range(5)} == {2.0}


def test_tls_files_need_an_mqtts_url(tmp_path: Path) -> None:
    settings = MqttSettings(url="mqtt://broker.example", ca_file=tmp_path / "ca.pem")
    with pytest.raises(ValueError, match="not mqtts://"):
        broker_address(settings)


def test_tls_context_verifies_the_broker(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, client_name="platform")
    context = tls_context(MqttSettings(url="mqtts://broker.example", ca_file=pki.ca))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_tls_insecure_skips_only_the_host_name(tmp_path: Path) -> None:
    pki = make_pki(tmp_path, client_name="platform")
    settings = MqttSettings(url="mqtts://broker.example", ca_file=pki.ca, tls_insecure=True)
    context = tls_context(settings)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert not context.check_hostname


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"ca_file": "missing.pem"}, "cannot be loaded"),
        ({"cert_file": "missing.pem", "key_file": "missing.key"}, "cannot be loaded"),
        ({"key_file": "client.key"}, "key_file is set without cert_file"),
    ],
)
def test_unusable_tls_files_are_refused_at_construction(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    settings = MqttSettings(
        url="mqtts://broker.example", **{key: tmp_path / name for key, name in files.items()}
    )
    with pytest.raises(ValueError, match=message):
        tls_context(settings)
