"""Converting the text of date, time, duration and geography literals into values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

import shapely
from shapely.errors import ShapelyError
from shapely.geometry.base import BaseGeometry

from stadtkern.sensorthings.query.errors import QueryError
from stadtkern.sensorthings.query.expressions import TimeInterval

_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_TIME = r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
_ZONE = r"(Z|[+-]\d{2}:\d{2})"
DATETIME_TEXT = rf"{_DATE}T{_TIME}{_ZONE}?"
DATE_TEXT = _DATE
TIME_TEXT = _TIME
_DATETIME = re.compile(DATETIME_TEXT)
_DATE_ONLY = re.compile(_DATE)
_TIME_ONLY = re.compile(_TIME)
_DURATION = re.compile(
    r"(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?",
)
_SRID = re.compile(r"SRID=(\d+);", re.IGNORECASE)


def _clock(hour: str, minute: str, second: str | None, fraction: str | None) -> time:
    # Beyond microseconds neither backend can store the digits, so they are cut off.
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    return time(int(hour), int(minute), int(second or 0), micro)


def parse_datetime(text: str, position: int) -> datetime:
    """An aware datetime from ISO 8601 text with a zone (Z or ±hh:mm)."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise QueryError(f"malformed date-time {text!r}", position)
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone is None:
        raise QueryError(f"date-time {text!r} needs a time zone (Z or ±hh:mm)", position)
    try:
        clock = _clock(hour, minute, second, fraction)
        if zone == "Z":
            tzinfo = UTC
        else:
            sign = -1 if zone[0] == "-" else 1
            offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
            tzinfo = timezone(sign * offset)
        return datetime.combine(date(int(year), int(month), int(day)), clock, tzinfo)
    except ValueError as exc:
        raise QueryError(f"invalid date-time {text!r} ({exc})", position) from exc


def parse_interval(text: str, position: int) -> TimeInterval:
    """A time interval `start/end` of two date-times."""
    start_text, _, end_text = text.partition("/")
    start = parse_datetime(start_text, position)
    end = parse_datetime(end_text, position + len(start_text) + 1)
    if end < start:
        raise QueryError(f"interval {text!r} ends before it starts", position)
    return TimeInterval(start, end)


def parse_date(text: str, position: int) -> date:
    """A calendar date YYYY-MM-DD."""
    match = _DATE_ONLY.fullmatch(text)
    try:
        if match is None:
            raise ValueError("expected YYYY-MM-DD")
        return date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise QueryError(f"invalid date {text!r} ({exc})", position) from exc


def parse_time(text: str, position: int) -> time:
    """A time of day hh:mm[:ss[.fff]]."""
    match = _TIME_ONLY.fullmatch(text)
    try:
        if match is None:
            raise ValueError("expected hh:mm:ss")
        return _clock(*match.groups())
    except ValueError as exc:
        raise QueryError(f"invalid time of day {text!r} ({exc})", position) from exc


def parse_duration(text: str, position: int) -> timedelta:
    """A day-time duration such as P1DT2H30M or -PT0.5S."""
    match = _DURATION.fullmatch(text)
    if match is None or text.rstrip("T").endswith("P") or text.endswith("T"):
        raise QueryError(f"malformed duration {text!r}, expected e.g. P1DT2H", position)
    sign, days, hours, minutes, seconds = match.groups()
    value = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=float(seconds or 0),
    )
    return -value if sign else value


def parse_geography(text: str, position: int) -> BaseGeometry:
    """A WGS 84 geometry from WKT, optionally prefixed by SRID=4326;."""
    srid = _SRID.match(text)
    if srid is not None:
        if srid.group(1) != "4326":
            raise QueryError(f"only SRID 4326 is supported, got {srid.group(1)}", position)
        text = text[srid.end() :]
    try:
        geometry = shapely.from_wkt(text)
    except (ShapelyError, ValueError) as exc:
        raise QueryError(f"invalid WKT {text!r}: {exc}", position) from exc
    if geometry is None or geometry.is_empty:
        raise QueryError("empty geometries cannot be searched with", position)
    if not geometry.is_valid:
        raise QueryError(
            f"invalid geometry {text!r}: {shapely.is_valid_reason(geometry)}", position
        )
    return geometry
