"""The town's clocks and calendars: hashed randomness, local hours, sun, holidays, match days.

Everything here is a pure function of its arguments (and the seed); what is computed once per
hour or day is cached, because the value models ask for it millions of times in a backfill.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
_MASK = (1 << 64) - 1
_UNIX_ORDINAL = date(1970, 1, 1).toordinal()
_TAU = 2.0 * math.pi
_YEAR_DAYS = 365.2425


# --- hashed randomness -------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def stream(seed: int, name: str) -> int:
    """A 64-bit hash naming an independent random stream for (seed, name)."""
    digest = hashlib.blake2b(f"{seed}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def mix(h: int, n: int) -> int:
    """The n-th 64-bit draw of stream h (splitmix64: cheap enough per sample, unlike blake2b)."""
    z = (h + n * 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def uniform(r: int) -> float:
    """A draw as a float in [0, 1)."""
    return (r >> 11) * 1.1102230246251565e-16


def normal(r: int) -> float:
    """Roughly standard normal from the low 48 bits of a draw (bounded to ±3)."""
    # Sum of three uniforms (Irwin-Hall): bell-shaped, bounded, and leaves the top 16 bits free.
    total = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF)
    return total * 3.0517578125e-05 - 3.0


def daily_normal(h: int, day: int) -> float:
    """Standard-normal-ish value of stream h on day (for per-day draws)."""
    return normal(mix(h, day))


# --- local time ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    """What the town's clocks and calendars say during one UTC hour."""

    day: date  # local calendar day
    weekday: int  # 0 = Monday
    hour: int  # local hour; Berlin's offset is whole hours, so it is fixed within a UTC hour
    school: bool  # lessons today
    closed: bool  # Sunday or public holiday: shops shut


@lru_cache(maxsize=1 << 16)
def clock(hour_index: int) -> Clock:
    """The local clock during UTC hour hour_index (hours since 1970)."""
    local = datetime.fromtimestamp(hour_index * 3600, BERLIN)
    day = local.date()
    weekday = day.weekday()
    holiday = public_holiday(day)
    school = weekday < 5 and not holiday and not school_holiday(day)
    return Clock(day, weekday, local.hour, school, weekday == 6 or holiday)


def local_hours(ts: float, c: Clock) -> float:
    """Local time of day in fractional hours (0 <= h < 24)."""
    return c.hour + (ts % 3600.0) / 3600.0


def day_kind(c: Clock) -> int:
    """0 working day, 1 Saturday, 2 Sunday or holiday: the index into the day curves."""
    if c.closed:
        return 2
    return 1 if c.weekday == 5 else 0


def curve(table: tuple[float, ...], hours: float) -> float:
    """Linear interpolation in a 24-entry table of values at each full hour."""
    i = int(hours)
    frac = hours - i
    return table[i] + (table[(i + 1) % 24] - table[i]) * frac


# --- sun ----------------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def sun_seconds(ordinal: int, lat: float, lon: float) -> tuple[float, float]:
    """Sunrise and sunset of a UTC day (proleptic ordinal) in seconds since 1970."""
    day = date.fromordinal(ordinal)
    year_days = 366 if day.year % 4 == 0 and (day.year % 100 or day.year % 400 == 0) else 365
    # NOAA's "General Solar Position Calculations", evaluated at noon UTC.
    g = _TAU / year_days * (day.timetuple().tm_yday - 1)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    phi = math.radians(lat)
    cos_ha = math.cos(math.radians(90.833)) / (math.cos(phi) * math.cos(decl)) - math.tan(
        phi
    ) * math.tan(decl)
    # Clamped: polar night gives sunrise == sunset, polar day a 24-hour span.
    ha = math.degrees(math.acos(max(-1.0, min(1.0, cos_ha))))
    midnight = (ordinal - _UNIX_ORDINAL) * 86400.0
    return (
        midnight + (720.0 - 4.0 * (lon + ha) - eqtime) * 60.0,
        midnight + (720.0 - 4.0 * (lon - ha) - eqtime) * 60.0,
    )


def sun_times(day: date, lat: float, lon: float) -> tuple[datetime, datetime]:
    """Sunrise and sunset (UTC) of a day at a place, by NOAA's approximation (about ±1 min)."""
    rise, sets = sun_seconds(day.toordinal(), lat, lon)
    return datetime.fromtimestamp(rise, UTC), datetime.fromtimestamp(sets, UTC)


# --- calendars ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def easter(year: int) -> date:
    """Easter Sunday (Gregorian; the anonymous algorithm of 1876)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def public_holiday(day: date) -> bool:
    """Public holidays of Rhineland-Palatinate."""
    if (day.month, day.day) in {(1, 1), (5, 1), (10, 3), (11, 1), (12, 25), (12, 26)}:
        return True
    # Good Friday, Easter Monday, Ascension, Whit Monday, Corpus Christi.
    return (day - easter(day.year)).days in {-2, 1, 39, 50, 60}


def school_holiday(day: date) -> bool:
    """School holiday weeks, an approximation of Rhineland-Palatinate's.

    Assumed every year: Christmas 23 Dec-2 Jan, Easter the week before and after Easter Sunday,
    summer 15 Jul-25 Aug (six weeks), autumn 12-23 Oct. The real dates move from year to year;
    the demo only needs school-free weeks at plausible times.
    """
    md = (day.month, day.day)
    if md >= (12, 23) or md <= (1, 2):
        return True
    if (7, 15) <= md <= (8, 25) or (10, 12) <= md <= (10, 23):
        return True
    return abs((day - easter(day.year)).days) <= 7


def _in_football_season(day: date) -> bool:
    md = (day.month, day.day)
    if (5, 20) < md < (8, 1):
        return False  # summer break
    return not (md >= (12, 21) or md <= (1, 14))  # winter break


@lru_cache(maxsize=4096)
def _event_day(ordinal: int, seed: int) -> bool:
    day = date.fromordinal(ordinal)
    weekday = day.weekday()
    if weekday < 5 or not _in_football_season(day):
        return False
    week = (ordinal - (weekday - 5)) // 7  # the weekend's Saturday numbers the week
    h = stream(seed, "betzenberg")
    # Home and away games alternate; the seed sets the phase, and about one home weekend in ten
    # has no game (cup, international break).
    if (week + h) % 2 or uniform(mix(h, 2 * week)) < 0.1:
        return False
    sunday = uniform(mix(h, 2 * week + 1)) < 0.2
    return (weekday == 6) == sunday


def is_event_day(day: date, *, seed: int) -> bool:
    """Whether a home game is played on the Betzenberg (Saturdays, a few Sundays, Aug-May)."""
    return _event_day(day.toordinal(), seed)


def match_hours(c: Clock, hours: float, seed: int) -> bool:
    """Whether it is the stretch around a home game (fans arrive 10:00, leave by 17:00)."""
    return 10.0 <= hours < 17.0 and c.weekday >= 5 and _event_day(c.day.toordinal(), seed)


# --- seasons and weather ------------------------------------------------------------------------


def winter(ts: float) -> float:
    """1 in mid-January, 0 in mid-July, a cosine in between."""
    return 0.5 + 0.5 * math.cos(_TAU * (ts / 86400.0 - 16.0) / _YEAR_DAYS)


def air_season(ts: float) -> float:
    """Kaiserslautern's climatological daily mean (°C): ~1 in January, ~19 in July."""
    return 19.0 - 18.0 * winter(ts)


def air_diurnal(hours: float, ts: float) -> float:
    """Diurnal swing (°C) around the daily mean: minimum at 05:00, maximum at 15:00 local."""
    amplitude = 6.0 - 2.0 * winter(ts)
    if 5.0 <= hours < 15.0:
        return -amplitude * math.cos(math.pi * (hours - 5.0) / 10.0)
    return amplitude * math.cos(math.pi * ((hours - 15.0) % 24.0) / 14.0)


_WEATHER_KERNEL = (0.45, 0.32, 0.22, 0.14, 0.08)
_WEATHER_NORM = 1.0 / math.sqrt(sum(w * w for w in _WEATHER_KERNEL))


@lru_cache(maxsize=1 << 14)
def _weather_days(seed: int, town: str, day: int) -> tuple[float, float, float, float]:
    temp = stream(seed, f"weather/{town}/temperature")
    still = stream(seed, f"weather/{town}/stagnation")

    def smoothed(h: int, d: int) -> float:
        # Today's anomaly remembers the last days': weather comes in spells, not daily coin tosses.
        total = sum(w * daily_normal(h, d - k) for k, w in enumerate(_WEATHER_KERNEL))
        return total * _WEATHER_NORM

    t0, t1 = smoothed(temp, day), smoothed(temp, day + 1)
    s0, s1 = smoothed(still, day), smoothed(still, day + 1)
    return t0, t1 - t0, s0, s1 - s0


def weather(seed: int, town: str, ts: float) -> tuple[float, float]:
    """The town's weather: temperature anomaly (°C, sd ~3.5) and air stagnation (sd ~1)."""
    day = int(ts // 86400.0)
    t0, dt, s0, ds = _weather_days(seed, town, day)
    frac = ts / 86400.0 - day
    return 3.5 * (t0 + dt * frac), s0 + ds * frac


def town_air(seed: int, town: str, ts: float, hours: float) -> float:
    """Air temperature of the town (°C) without any one sensor's offset or noise."""
    return air_season(ts) + air_diurnal(hours, ts) + weather(seed, town, ts)[0]


def structure_temperature(seed: int, town: str, ts: float, hours: float) -> float:
    """Temperature of a bridge deck: the air's, lagged and damped by the concrete's mass."""
    damped_day = 0.35 * air_diurnal((hours - 2.5) % 24.0, ts)
    return air_season(ts - 2 * 86400.0) + damped_day + 0.7 * weather(seed, town, ts - 86400.0)[0]


# --- daily curves (value at each full local hour; index = day_kind) -----------------------------

# Road traffic, 1 = the evening rush on a working day.
TRAFFIC = (
    (.08, .05, .04, .04, .08, .25, .60, .95, 1.0, .80, .70, .72,
     .75, .73, .72, .80, .95, 1.0, .85, .65, .50, .38, .25, .14),
    (.12, .08, .06, .05, .05, .10, .20, .35, .50, .65, .75, .80,
     .80, .78, .75, .72, .70, .68, .60, .50, .42, .35, .28, .18),
    (.14, .10, .08, .06, .05, .06, .10, .15, .25, .35, .45, .50,
     .52, .50, .48, .48, .50, .50, .48, .42, .35, .28, .20, .12),
)  # fmt: skip
# People about in the centre (phones on a small cell), 1 = Saturday noon.
PEOPLE = (
    (.15, .08, .05, .04, .04, .06, .15, .45, .70, .75, .78, .82,
     .90, .85, .80, .80, .85, .90, .88, .80, .70, .55, .40, .25),
    (.25, .15, .10, .06, .05, .05, .08, .15, .30, .55, .80, .95,
     1.0, .98, .95, .90, .85, .80, .75, .70, .65, .55, .45, .35),
    (.30, .20, .12, .08, .05, .05, .06, .10, .18, .30, .42, .50,
     .55, .55, .52, .50, .50, .50, .48, .45, .40, .32, .22, .15),
)  # fmt: skip
# Shoppers in the pedestrian zone (shops open Mon-Sat 9-20), 1 = Saturday noon.
SHOPPING = (
    (.010, .005, .003, .003, .003, .005, .02, .05, .12, .25, .40, .50,
     .60, .58, .50, .50, .55, .60, .50, .35, .15, .08, .05, .02),
    (.020, .010, .005, .003, .003, .005, .01, .03, .10, .30, .60, .85,
     1.0, 1.0, .90, .85, .75, .60, .45, .30, .12, .08, .06, .03),
    (.020, .010, .005, .003, .003, .003, .005, .01, .02, .04, .06, .09,
     .11, .12, .12, .12, .11, .10, .08, .06, .04, .03, .02, .01),
)  # fmt: skip
# Chance that a space in a central car park is taken, 1 = full.
PARKING = (
    (.05, .05, .05, .05, .05, .06, .10, .15, .35, .55, .70, .75,
     .78, .75, .72, .72, .70, .65, .50, .35, .20, .12, .08, .06),
    (.06, .05, .05, .05, .05, .05, .06, .10, .20, .45, .75, .92,
     .97, .95, .90, .85, .75, .60, .45, .30, .18, .10, .08, .06),
    (.05, .05, .05, .05, .05, .05, .05, .05, .06, .08, .12, .15,
     .18, .20, .20, .18, .15, .12, .10, .08, .07, .06, .05, .05),
)  # fmt: skip

# --- the school day -----------------------------------------------------------------------------

OUTDOOR_CO2 = 420.0
# Kinds of stretch in a school day (see lesson_plan).
_LESSON, _AIRING, _BREAK, _AFTER = 0, 1, 2, 3


@lru_cache(maxsize=1024)
def lesson_plan(
    until: float, ventilation: bool, target: float
) -> tuple[tuple[float, ...], tuple[tuple[float, float, float, float], ...]]:
    """A classroom's CO2 day: start times (s of the local day) and (start, target, tau, ppm).

    Lessons 08:00-09:30, 09:45-11:15, 11:30-13:00 and, for rooms used in the afternoon, from
    13:45 to `until` (hours). In breaks the windows are opened and pupils leave; ventilated
    rooms also air for 3 minutes every 20 minutes of a lesson.
    """
    lessons = [(8.0, 9.5), (9.75, 11.25), (11.5, 13.0)]
    if until > 13.75:
        lessons.append((13.75, until))
    stretches: list[tuple[float, int]] = []  # (start hour, kind)
    for begin, end in lessons:
        stretches.append((begin, _LESSON))
        if ventilation:
            airing = begin + 1 / 3
            while airing + 0.05 < end:
                stretches += [(airing, _AIRING), (airing + 0.05, _LESSON)]
                airing += 1 / 3
        stretches.append((end, _BREAK))
    stretches[-1] = (stretches[-1][0], _AFTER)
    # Lessons fill the room toward its crowd level; open windows flush it in minutes; after
    # school the closed, empty room leaks its air slowly.
    kinds = {_LESSON: (target, 1800.0), _AIRING: (650.0, 240.0), _BREAK: (450.0, 300.0)}
    kinds[_AFTER] = (OUTDOOR_CO2, 5400.0)
    ppm = OUTDOOR_CO2
    segments = []
    for i, (start, kind) in enumerate(stretches):
        goal, tau = kinds[kind]
        segments.append((start * 3600.0, goal, tau, ppm))
        if i + 1 < len(stretches):
            span = (stretches[i + 1][0] - start) * 3600.0
            ppm = goal + (ppm - goal) * math.exp(-span / tau)
    return tuple(s[0] for s in segments), tuple(segments)


def room_co2(until: float, ventilation: bool, target: float, c: Clock, hours: float) -> float:
    """CO2 (ppm) of a classroom at local time `hours`, noise-free."""
    if not c.school:
        return OUTDOOR_CO2
    starts, segments = lesson_plan(until, ventilation, target)
    seconds = hours * 3600.0
    i = bisect_right(starts, seconds) - 1
    if i < 0:
        return OUTDOOR_CO2
    start, goal, tau, ppm = segments[i]
    return goal + (ppm - goal) * math.exp(-(seconds - start) / tau)
