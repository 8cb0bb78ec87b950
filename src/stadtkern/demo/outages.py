"""When a simulated device is down: outages as a deterministic function of (seed, key, time).

Time is cut into slots twice as long as an average outage. Each slot holds at most one outage,
with the probability that gives `per_day` outages a day, starting anywhere in the slot and lasting
0.5-1.5 x `mean_minutes`. An outage therefore ends before the slot after next begins, so whether
a device is down needs only two draws: its own slot's and the one before.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from stadtkern.demo.rhythms import mix, stream, uniform

_DAY = 86400.0


def _slots(per_day: float, mean_minutes: float) -> tuple[float, float, float]:
    mean = max(mean_minutes, 0.1) * 60.0
    width = 2.0 * mean
    # One outage per slot at most: beyond a down time of half the day the rate cannot be met.
    return width, min(1.0, max(per_day, 0.0) * width / _DAY), mean


def _slot_outage(h: int, k: int, width: float, chance: float, mean: float) -> tuple[float, float]:
    """The (start, end) of slot k's outage in seconds since 1970, or (0, 0) if it has none."""
    r = mix(h, k)
    if uniform(r) >= chance:
        return 0.0, 0.0
    r2 = mix(r, 1)
    start = (k + (r2 & 0xFFFFFFFF) / 4294967296.0) * width
    return start, start + mean * (0.5 + (r2 >> 32) / 4294967296.0)


def _down(h: int, ts: float, width: float, chance: float, mean: float) -> bool:
    k = int(ts // width)
    for slot in (k, k - 1):
        start, end = _slot_outage(h, slot, width, chance, mean)
        if start <= ts < end:
            return True
    return False


def outage(key: str, t: datetime, *, seed: int, per_day: float, mean_minutes: float) -> bool:
    """True while device `key` is down: ~`per_day` outages a day of ~`mean_minutes` each."""
    return is_down(key, t.timestamp(), seed=seed, per_day=per_day, mean_minutes=mean_minutes)


def is_down(key: str, ts: float, *, seed: int, per_day: float, mean_minutes: float) -> bool:
    """`outage` for a time in seconds since 1970."""
    width, chance, mean = _slots(per_day, mean_minutes)
    return _down(stream(seed, f"outage/{key}"), ts, width, chance, mean)


@lru_cache(maxsize=1 << 14)
def _day_outages(
    h: int, day: int, width: float, chance: float, mean: float
) -> tuple[tuple[float, float], ...]:
    """The outages whose slots begin on UTC day `day`, in order."""
    first = -int(-day * _DAY // width)  # first slot beginning on or after the day's start
    last = -int(-(day + 1) * _DAY // width)
    found = (_slot_outage(h, k, width, chance, mean) for k in range(first, last))
    return tuple(o for o in found if o[1] > 0.0)


def last_recovery(
    key: str, ts: float, *, seed: int, per_day: float, mean_minutes: float, since: float
) -> float:
    """When the last outage of `key` before ts ended (seconds since 1970); `since` at the latest.

    `since` bounds the search (e.g. the last scheduled reboot): without it a device that rarely
    fails would make the search walk back through months of slots.
    """
    width, chance, mean = _slots(per_day, mean_minutes)
    h = stream(seed, f"outage/{key}")
    best = since
    day = int(ts // _DAY)
    # Walk back day by day until no outage of an earlier day could end later than the best yet
    # (an outage begun yesterday evening may end after one begun and ended this morning).
    while (day + 1) * _DAY + width + 1.5 * mean > best:
        for _, end in _day_outages(h, day, width, chance, mean):
            if best < end <= ts:
                best = end
        day -= 1
    return best
