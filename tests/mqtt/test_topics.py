"""Topic names, tenant prefixes and MQTT wildcard matching."""

from __future__ import annotations

import pytest

from stadtkern.mqtt.topics import (
    MAX_TOPIC_BYTES,
    check_topic_filter,
    filter_covers,
    full_topic,
    split_tenant,
    tenant_filter,
    topic_matches,
)


def test_tenant_topics_carry_the_slug() -> None:
    assert full_topic("kl", "v1.1/Things") == "kl/v1.1/Things"


def test_platform_topics_use_the_reserved_prefix() -> None:
    assert full_topic(None, "health/broker") == "_platform/health/broker"


@pytest.mark.parametrize(
    ("slug", "relative", "message"),
    [
        ("kl", "sensors/+/temp", "wildcard"),
        ("kl", "sensors/#", "wildcard"),
        ("kl", "", "empty"),
        ("kl", "/sensors", "empty level after the tenant"),
        ("", "sensors", "slug for an MQTT topic is empty"),
        ("k/l", "sensors", "must not contain"),
        ("+", "sensors", "must not contain"),
        ("_platform", "sensors", "reserved"),
        ("$SYS", "sensors", "reserved"),
        ("kl", "nul\x00byte", "null character"),
        ("kl", "bad-\ud800-surrogate", "not valid UTF-8"),
        ("kl", "x" * MAX_TOPIC_BYTES, "limit is 65535"),
    ],
)
def test_invalid_topics_are_refused_with_a_clear_message(
    slug: str, relative: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        full_topic(slug, relative)


def test_the_longest_topic_is_accepted() -> None:
    relative = "é" * ((MAX_TOPIC_BYTES - len("kl/")) // 2)
    assert len(full_topic("kl", relative).encode()) <= MAX_TOPIC_BYTES


def test_handler_patterns_are_subscribed_below_any_tenant() -> None:
    assert tenant_filter("v1.1/#") == "+/v1.1/#"
    assert tenant_filter("example/ping") == "+/example/ping"


@pytest.mark.parametrize("pattern", ["a/#/b", "a/b#", "a+/b", "", "/a"])
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="MQTT topic"):
        tenant_filter(pattern)


def test_valid_filters_pass() -> None:
    for topic_filter in ("#", "+", "+/+", "a/+/c/#", "$SYS/#"):
        check_topic_filter(topic_filter)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/b", "a/c", False),
        ("a/b", "a/b/c", False),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/+", "a/", True),  # '+' matches an empty level
        ("+/+", "/x", True),
        ("a/+/c", "a/b/c", True),
        ("a/#", "a", True),  # '#' includes the parent level
        ("a/#", "a/b/c", True),
        ("a/#", "b/a", False),
        ("#", "a/b", True),
        ("+/v1.1/#", "kl/v1.1/Things", True),
        ("+/v1.1/#", "kl/v1.0/Things", False),
        ("#", "$SYS/broker/uptime", False),  # wildcards never match '$' topics
        ("+/broker/uptime", "$SYS/broker/uptime", False),
        ("$SYS/#", "$SYS/broker/uptime", True),
        ("$SYS/+/uptime", "$SYS/broker/uptime", True),
        ("+/#", "kl/$weird", True),  # the '$' rule only concerns the first level
    ],
)
def test_wildcard_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("kl/v1.1/Things", ("kl", "v1.1/Things")),
        ("_platform/health", ("_platform", "health")),
        ("kl", None),
        ("kl/", None),
        ("/v1.1", None),
    ],
)
def test_split_tenant(topic: str, expected: tuple[str, str] | None) -> None:
    assert split_tenant(topic) == expected


@pytest.mark.parametrize(
    ("general", "specific", "expected"),
    [
        ("+/v1.1/#", "+/v1.1/Things", True),
        ("+/v1.1/#", "+/v1.1/+/x", True),
        ("+/v1.1/#", "+/v1.1/#", True),
        ("+/v1.1/#", "+/v1.1", True),  # '#' includes the parent level
        ("+/v1.1/Things", "+/v1.1/#", False),
        ("+/a/+", "+/a/b", True),
        ("+/a/b", "+/a/+", False),
        ("+/a/+/#", "+/a/#", False),  # "x/a" matches only the second
        ("+/a/+", "+/+/b", False),  # they overlap, neither covers the other
    ],
)
def test_filter_covers(general: str, specific: str, expected: bool) -> None:
    assert filter_covers(general, specific) is expected
