"""MQTT topic names and filters: tenant prefixes, validation and wildcard matching (MQTT 3.1.1)."""

from __future__ import annotations

PLATFORM_PREFIX = "_platform"
MAX_TOPIC_BYTES = 65_535


def full_topic(slug: str | None, relative: str) -> str:
    """The broker topic `{slug}/{relative}`, or `_platform/{relative}` for platform messages."""
    prefix = PLATFORM_PREFIX if slug is None else _checked_slug(slug)
    _check_relative(relative, "topic")
    topic = f"{prefix}/{relative}"
    check_topic_name(topic)
    return topic


def tenant_filter(pattern: str) -> str:
    """The subscription for a handler pattern relative to the tenant prefix: `+/{pattern}`."""
    _check_relative(pattern, "topic pattern")
    topic_filter = f"+/{pattern}"
    check_topic_filter(topic_filter)
    return topic_filter


def check_topic_name(topic: str) -> None:
    """Raise ValueError unless `topic` may be published to (no wildcards, UTF-8, size)."""
    _check_text(topic, "topic")
    if "+" in topic or "#" in topic:
        raise ValueError(
            f"MQTT topic {topic!r} contains a wildcard ('+' or '#'); "
            "wildcards are only allowed in subscriptions"
        )


def check_topic_filter(topic_filter: str) -> None:
    """Raise ValueError unless `topic_filter` is a valid subscription filter."""
    _check_text(topic_filter, "topic filter")
    levels = topic_filter.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise ValueError(
                f"MQTT topic filter {topic_filter!r}: '#' must be a whole level and the last one"
            )
        if "+" in level and level != "+":
            raise ValueError(f"MQTT topic filter {topic_filter!r}: '+' must be a whole level")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """True when `topic` matches `topic_filter` with MQTT wildcard semantics."""
    # MQTT-4.7.2-1: a filter starting with a wildcard never matches a topic starting with '$'.
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(filter_levels):
        if level == "#":
            return True  # also matches the parent level: "a/#" matches "a"
        if index >= len(topic_levels):
            return False
        if level not in ("+", topic_levels[index]):
            return False
    return len(filter_levels) == len(topic_levels)


def filter_covers(general: str, specific: str) -> bool:
    """True when every topic matching the filter `specific` also matches `general`."""
    general_levels = general.split("/")
    specific_levels = specific.split("/")
    for index, level in enumerate(general_levels):
        if level == "#":
            return True
        if index >= len(specific_levels) or specific_levels[index] == "#":
            return False
        if level not in ("+", specific_levels[index]):
            return False
    return len(general_levels) == len(specific_levels)


def split_tenant(topic: str) -> tuple[str, str] | None:
    """The prefix (tenant slug or `_platform`) and the relative topic, or None without both."""
    prefix, separator, relative = topic.partition("/")
    if not separator or not prefix or not relative:
        return None
    return prefix, relative


def _checked_slug(slug: str) -> str:
    if not slug:
        raise ValueError("tenant slug for an MQTT topic is empty")
    if "/" in slug or "+" in slug or "#" in slug:
        raise ValueError(f"tenant slug {slug!r} must not contain '/', '+' or '#'")
    if slug[0] in "_$":
        raise ValueError(f"tenant slug {slug!r} must not start with '_' or '$' (reserved)")
    return slug


def _check_relative(relative: str, what: str) -> None:
    if not relative:
        raise ValueError(f"MQTT {what} after the tenant prefix is empty")
    if relative.startswith("/"):
        raise ValueError(
            f"MQTT {what} {relative!r} must not start with '/' (empty level after the tenant)"
        )


def _check_text(text: str, what: str) -> None:
    if not text:
        raise ValueError(f"MQTT {what} is empty")
    if "\x00" in text:
        raise ValueError(f"MQTT {what} {text!r} contains the null character")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValueError(f"MQTT {what} {text!r} is not valid UTF-8") from exc
    if size > MAX_TOPIC_BYTES:
        raise ValueError(f"MQTT {what} is {size} bytes long; the limit is {MAX_TOPIC_BYTES}")
