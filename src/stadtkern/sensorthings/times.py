"""ISO 8601 instants and intervals of request bodies, as aware UTC datetimes, and back to text.

A zone is required (`Z`, `+02:00` or `+0200`, the form the standard's own examples use);
an interval is `start/end` with start <= end. Fractions beyond microseconds are cut off,
as neither backend stores them.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone

from stadtkern.errors import BadRequest

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?",
    re.ASCII,
)

Interval = tuple[datetime, datetime]


_UTC_LENGTHS = frozenset({20, 24, 27})  # no fraction, milli-, microseconds


def _utc_shape(value: str) -> bool:
    """The common UTC form by its separators, without the pattern."""
    return (
        len(value) in _UTC_LENGTHS
        and value[-1] == "Z"
        and value[4] == value[7] == "-"
        and value[10] == "T"
        and value[13] == value[16] == ":"
        and (len(value) == 20 or value[19] == ".")
    )


def parse_instant(value: object, where: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text with a zone; BadRequest naming `where`."""
    if not isinstance(value, str):
        raise BadRequest(f"{where}: expected an ISO 8601 date-time string")
    if _utc_shape(value):
        # `2025-01-01T00:00:00Z`, with 3 or 6 decimals or none: the separators are where the
        # pattern puts them, so what the C parser takes (ASCII digits between them) is what
        # the pattern takes. It refuses 24:00 and a 31 February, left to the parts below.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    match = _INSTANT.fullmatch(value)
    if match is None:
        raise BadRequest(f"{where}: {value!r} is not an ISO 8601 date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        raise BadRequest(f"{where}: {value!r} needs a time zone (Z or ±hh:mm)")
    if hour < "24" and (fraction is None or len(fraction) <= 6):
        # The shape is checked: the C parser is ten times faster (the ingest hot path). Its
        # refusals (a 31 February) fall through to the parts below, which name the error;
        # 24:00 and fractions it might round are left to them.
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            pass
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=_zone(zone),
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"{where}: invalid date-time {value!r} ({exc})") from exc


def parse_interval(value: object, where: str) -> Interval:
    """An interval `start/end`; BadRequest when malformed or when it ends before it starts."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise BadRequest(f"{where}: expected an ISO 8601 interval 'start/end'")
    start_text, end_text = value.split("/")
    start = parse_instant(start_text, where)
    end = parse_instant(end_text, where)
    if end < start:
        raise BadRequest(f"{where}: the interval {value!r} ends before it starts")
    return start, end


def parse_time(value: object, where: str) -> tuple[datetime, datetime | None]:
    """An instant (end None) or an interval, as an Observation's phenomenonTime allows."""
    if isinstance(value, str) and "/" in value:
        return parse_interval(value, where)
    return parse_instant(value, where), None


def format_instant(moment: datetime) -> str:
    """UTC text with `Z`; fractional seconds only when non-zero (milli- or microseconds)."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        fraction = f"{moment.microsecond:06d}"
        text += "." + (fraction[:3] if fraction.endswith("000") else fraction)
    return text + "Z"


def epoch_instant(seconds: int) -> str:
    """`format_instant` of a whole Unix second, without a datetime (thousands per answer)."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{_day(days)}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@functools.lru_cache(maxsize=4096)
def _day(days: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


def format_time(start: datetime | None, end: datetime | None) -> str | None:
    """An instant, an interval `start/end`, or None."""
    if start is None:
        return None
    if end is None:
        return format_instant(start)
    return f"{format_instant(start)}/{format_instant(end)}"


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if offset >= timedelta(hours=24):
        raise ValueError("zone offset out of range")
    return timezone(-offset if text[0] == "-" else offset)
