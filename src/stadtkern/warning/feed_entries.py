"""What both public feeds share: which alerts may appear, and what an entry is called."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from stadtkern.warning.cap_model import CapAlert

FEED_LANGUAGE = "de"


def public_alerts(alerts: Sequence[CapAlert]) -> Iterator[CapAlert]:
    """The alerts that may appear in a public feed: scope Public and not a Draft."""
    return (alert for alert in alerts if alert.scope == "Public" and alert.status != "Draft")


def entry_title(alert: CapAlert) -> str:
    """A feed title for an alert: the German headline or event, else message type and id."""
    info = alert.info_for(FEED_LANGUAGE)
    if info is not None:
        return info.headline or info.event
    return f"{alert.msg_type} {alert.identifier}"


def feed_time(moment: datetime) -> str:
    """An RFC 3339 time in whole seconds with its offset; naive datetimes are refused."""
    if moment.utcoffset() is None:
        raise ValueError(f"time {moment.isoformat()} has no time zone")
    return moment.isoformat(timespec="seconds")
