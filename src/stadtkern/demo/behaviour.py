"""What the simulated fleet measures: deterministic value models, one per kind of stream.

`sample(behaviour, t, seed=...)` is a pure function of (seed, stream key, parameters, time), so a
history backfill and a live run tell the same story. It is called millions of times in a
backfill: per-hour and per-day work is cached in `rhythms`, and one 64-bit draw per stream and
minute gives the sensor noise and the dropouts (one reading in 500 is lost: None).

Keys are paths, "town/device/quantity". The first part names the town, whose weather all its
sensors share; the key without its last part names the device, whose channels share what they
measure (a particle counter's pm25 and pm10, a classroom's air, a gateway's outages).

Parameters (all optional, defaults in brackets):
- light_level: lat, lon [Kaiserslautern's centre]
- noise_level, pm25, pm10: traffic 0..1 [0.5]
- small_cell_users: capacity, peak users [150]; event_sensitive 0/1 [0]
- space_occupied: base 0..1, the site's pull [0.6]; event_sensitive 0/1 [0]
- pedestrians: scale, Saturday-noon count per 5 min [300]; event_sensitive 0/1 [1]
- bridge_strain: degrading 0/1 [0], traffic 0..1 [0.6]; bridge_tilt, crack_width: degrading
- natural_frequency: base_hz [3.2], degrading 0/1 [0]
- co2: ventilation 0/1 [0]; co2, room_temperature, room_humidity: until, end of lessons in
  local hours [15.5 for about a third of the rooms, else 13.0]
- gateway_heartbeat: per_day [0.2], mean_minutes [25], as passed to `outage` for the device
- air_temperature, bridge_temperature: none
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from stadtkern.demo.outages import is_down, last_recovery, outage
from stadtkern.demo.rhythms import (
    OUTDOOR_CO2,
    PARKING,
    PEOPLE,
    SHOPPING,
    TRAFFIC,
    air_diurnal,
    air_season,
    clock,
    curve,
    day_kind,
    is_event_day,
    local_hours,
    match_hours,
    mix,
    normal,
    room_co2,
    stream,
    structure_temperature,
    sun_seconds,
    sun_times,
    uniform,
    weather,
    winter,
)

__all__ = ["MODELS", "Behaviour", "Result", "is_event_day", "outage", "sample", "sun_times"]

Result = float | int | bool
# (params, ts, stream, draw, seed) -> value; None only from a gateway that is down.
Model = Callable[[Mapping[str, float], float, "_Stream", int, int], Result | None]

KL_LAT, KL_LON = 49.4447, 7.7690
# Slow damage of the degrading bridge is counted from here (2026-01-01T00:00Z).
DAMAGE_EPOCH = 1767225600.0
_DROPOUT = 131  # of 65536: one reading in 500 gets lost
_FAULTY_KEYS = 0.006  # share of streams with a sticking or spiking sensor (half each)


@dataclass(frozen=True)
class Behaviour:
    """One simulated stream: its model, its unique key and the model's parameters."""

    model: str
    key: str
    params: Mapping[str, float] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.model not in _MODELS:
            raise ValueError(f"unknown behaviour model {self.model!r}")


@dataclass(frozen=True, slots=True)
class _Stream:
    run: Model
    h: int  # noise, dropouts and faults
    site: int  # the device: what its channels share
    device: str
    town: str
    offset: float  # this sensor's calibration error, in [-1, 1)
    fault: int  # 0 sound, 1 sticks for hours on some days, 2 spikes on some days
    spike: float


@lru_cache(maxsize=1 << 16)
def _stream(seed: int, key: str, model: str) -> _Stream:
    device = key.rpartition("/")[0] or key
    town = key.partition("/")[0]
    site = stream(seed, device)
    # One particle counter reports both sizes: its channels share noise, faults and dropouts.
    h = stream(seed, f"{device}/pm") if model in ("pm25", "pm10") else stream(seed, key)
    u = uniform(mix(h, -1))
    fault = 0
    if model in _STICKY and u < _FAULTY_KEYS:
        fault = 1 if u < _FAULTY_KEYS / 2 or model not in _SPIKES else 2
    offset = uniform(mix(h, -2)) * 2.0 - 1.0
    return _Stream(_MODELS[model], h, site, device, town, offset, fault, _SPIKES.get(model, 0.0))


def _stuck_since(s: _Stream, ts: float) -> float:
    """Start of the stuck spell covering ts, or -1: a day in three, 2-8 hours from any hour."""
    day = int(ts // 86400.0)
    for d in (day, day - 1):
        r = mix(s.h ^ 0x57, d)
        if uniform(r) < 0.3:
            r = mix(r, 1)
            start = (d + (r & 0xFFFF) / 65536.0) * 86400.0
            if start <= ts < start + 7200.0 + 21600.0 * ((r >> 16) & 0xFFFF) / 65536.0:
                return start
    return -1.0


def sample(behaviour: Behaviour, t: datetime, *, seed: int) -> Result | None:
    """The value stream `behaviour` reports at t (aware), or None if nothing arrives."""
    if t.tzinfo is None:
        raise ValueError("sample needs an aware datetime")
    ts = t.timestamp()
    s = _stream(seed, behaviour.key, behaviour.model)
    r = mix(s.h, int(ts // 60.0))
    if r >> 48 < _DROPOUT:
        return None
    if not s.fault:
        return s.run(behaviour.params, ts, s, r, seed)
    if s.fault == 1:
        since = _stuck_since(s, ts)
        if since >= 0.0:
            return s.run(behaviour.params, since, s, mix(s.h, int(since // 60.0)), seed)
        return s.run(behaviour.params, ts, s, r, seed)
    value = s.run(behaviour.params, ts, s, r, seed)
    glitch = mix(r, 2)
    if value is None or uniform(glitch) >= 0.01:
        return value
    if uniform(mix(s.h ^ 0x5B, int(ts // 86400.0))) >= 0.5:
        return value  # spikes come on some days only
    return round(float(value) + s.spike * (1.0 + (glitch & 0xFF) / 256.0), 3 if s.spike < 1 else 1)


# --- street --------------------------------------------------------------------------------------


def _light_level(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Lantern dimming (%): off by day, 100 until 23:00 and from 05:00, 50 in between."""
    # Sunrise moves ~24 s per 0.1° of longitude: rounding keeps the cache small, no one sees it.
    lat, lon = round(p.get("lat", KL_LAT), 1), round(p.get("lon", KL_LON), 1)
    rise, sets = sun_seconds(int(ts // 86400.0) + 719163, lat, lon)
    if rise <= ts < sets:
        return 0.0
    # A defective lamp stays dark for a whole night (nights numbered from noon UTC).
    if uniform(mix(s.h ^ 0xDA, int((ts + 43200.0) // 86400.0))) < 0.003:
        return 0.0
    hour = clock(int(ts // 3600.0)).hour
    return 50.0 if hour >= 23 or hour < 5 else 100.0


def _air_temperature(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Air temperature (°C): season + day + the town's weather + sensor offset + noise."""
    c = clock(int(ts // 3600.0))
    hours = local_hours(ts, c)
    value = air_season(ts) + air_diurnal(hours, ts) + weather(seed, s.town, ts)[0]
    return round(value + 0.6 * s.offset + 0.15 * normal(r), 1)


def _noise_level(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Sound level (dB(A)): quiet nights, loud rush hours, sirens now and then."""
    c = clock(int(ts // 3600.0))
    traffic = p.get("traffic", 0.5)
    activity = curve(TRAFFIC[day_kind(c)], local_hours(ts, c))
    siren = mix(r, 2)
    if uniform(siren) < 0.002 * (0.3 + activity):
        return round(85.0 + 12.0 * (siren & 0xFFFF) / 65536.0, 1)
    value = 36.0 + 4.0 * traffic + activity * (17.0 + 13.0 * traffic) + 1.5 * normal(r)
    return round(value, 1)


def _fine_dust(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> float:
    c = clock(int(ts // 3600.0))
    hours = local_hours(ts, c)
    cold = winter(ts)
    stagnation = weather(seed, s.town, ts)[1]
    # Heating season and still nights (inversions, peaking ~03:00) trap the background dust.
    inversion = 1.0 + 0.4 * cold * (0.5 + 0.5 * math.cos(math.pi * (hours - 3.0) / 12.0))
    background = (6.0 + 10.0 * cold) * math.exp(0.35 * stagnation) * inversion
    road = 8.0 * p.get("traffic", 0.5) * curve(TRAFFIC[day_kind(c)], hours)
    return (background + road) * (1.0 + 0.08 * normal(r))


def _pm25(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Fine particles PM2.5 (µg/m³)."""
    return round(_fine_dust(p, ts, s, r, seed), 1)


def _pm10(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Particles PM10 (µg/m³): the same draw as PM2.5 times a coarse share of 1.3-2."""
    coarse = 1.3 + 0.6 * uniform(mix(s.h ^ 0xC0, int(ts // 3600.0))) + 0.1 * uniform(mix(r, 3))
    return round(_fine_dust(p, ts, s, r, seed) * coarse, 1)


def _small_cell_users(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Devices connected to a 5G small cell (count)."""
    c = clock(int(ts // 3600.0))
    hours = local_hours(ts, c)
    mean = p.get("capacity", 150.0) * (0.03 + 0.97 * curve(PEOPLE[day_kind(c)], hours))
    if p.get("event_sensitive", 0.0) and match_hours(c, hours, seed):
        mean *= 1.8
    return max(0, round(mean + math.sqrt(mean) * normal(r)))


def _space_occupied(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Whether one parking space is taken; it changes at most every 15-60 minutes."""
    # Each space has its own stay length and phase, so a car park does not flip all at once.
    dwell = 900 * (1 + (s.h >> 5) % 4)
    phase = (s.h >> 9) % dwell
    bucket = int((ts + phase) // dwell)
    start = bucket * dwell - phase
    c = clock(int(start // 3600.0))
    hours = local_hours(start, c)
    chance = curve(PARKING[day_kind(c)], hours) * (0.45 + 0.55 * p.get("base", 0.6))
    if p.get("event_sensitive", 0.0) and match_hours(c, hours, seed):
        chance = 0.97
    return uniform(mix(s.h ^ 0xCA, bucket)) < chance


def _pedestrians(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """People passing a counter in the pedestrian zone in the 5 minutes around t (count)."""
    bucket = int(ts // 300.0)
    c = clock(int(ts // 3600.0))  # 5-minute buckets never straddle an hour
    hours = local_hours(bucket * 300.0 + 150.0, c)
    mean = p.get("scale", 300.0) * curve(SHOPPING[day_kind(c)], hours)
    if p.get("event_sensitive", 1.0) and match_hours(c, hours, seed):
        mean = 1.6 * mean + 0.2 * p.get("scale", 300.0)  # fans walk through the centre
    return max(0, round(mean + math.sqrt(mean) * normal(mix(s.h ^ 0xCE, bucket))))


# --- bridges ------------------------------------------------------------------------------------


def _deck(ts: float, s: _Stream, seed: int) -> float:
    """Temperature of the deck (°C); identical for every sensor of a town's bridges."""
    return structure_temperature(seed, s.town, ts, local_hours(ts, clock(int(ts // 3600.0))))


def _damage_days(p: Mapping[str, float], ts: float) -> float:
    return max(0.0, ts - DAMAGE_EPOCH) / 86400.0 if p.get("degrading", 0.0) else 0.0


def _bridge_strain(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Strain (µm/m): dead load + thermal + lorries crossing by day; damage raises both."""
    c = clock(int(ts // 3600.0))
    days = _damage_days(p, ts)
    value = 120.0 + 30.0 * s.offset + 8.0 * (_deck(ts, s, seed) - 10.0) + 10.0 * days / 90.0
    lorry = mix(r, 4)
    traffic = curve(TRAFFIC[day_kind(c)], local_hours(ts, c))
    if uniform(lorry) < 0.35 * p.get("traffic", 0.6) * traffic:
        value += (20.0 + 60.0 * (lorry & 0xFFFF) / 65536.0) * (1.25 if days else 1.0)
    return round(value + 1.5 * normal(r), 1)


def _bridge_tilt(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Tilt of a pier (mrad): a small thermal cycle, drifting on a degrading bridge."""
    drift = 0.08 * _damage_days(p, ts) / 30.0
    value = 0.3 * s.offset + 0.015 * (_deck(ts, s, seed) - 10.0) + drift
    return round(value + 0.004 * normal(r), 3)


def _crack_width(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Crack width (mm): 0.1-0.3, opening in the cold; grows 0.05 mm a month when degrading."""
    base = 0.2 + 0.1 * s.offset + 0.05 * _damage_days(p, ts) / 30.0
    value = max(0.02, base - 0.003 * (_deck(ts, s, seed) - 10.0))
    return round(value + 0.002 * normal(r), 3)


def _bridge_temperature(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Temperature of the structure (°C): the air's, lagged and damped."""
    return round(_deck(ts, s, seed) + 0.3 * s.offset + 0.05 * normal(r), 1)


def _natural_frequency(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """First natural frequency (Hz): -0.3 %/K, and -1 % per 90 days of damage."""
    stiffness = 1.0 - 0.01 * _damage_days(p, ts) / 90.0
    value = p.get("base_hz", 3.2) * (1.0 - 0.003 * (_deck(ts, s, seed) - 10.0)) * stiffness
    return round(value + 0.002 * normal(r), 3)


# --- classrooms ---------------------------------------------------------------------------------


def _room_co2(p: Mapping[str, float], ts: float, s: _Stream, ventilation: bool) -> float:
    """The room's noise-free CO2 (ppm); the room (key minus its last part) sets crowd and hours."""
    crowd = uniform(mix(s.site, 7))
    target = float(round(1200.0 + 800.0 * crowd))
    # About a third of the rooms have afternoon lessons unless told otherwise.
    until = p.get("until", 15.5 if uniform(mix(s.site, 8)) < 0.3 else 13.0)
    c = clock(int(ts // 3600.0))
    return room_co2(until, ventilation, target, c, local_hours(ts, c))


def _occupancy(p: Mapping[str, float], ts: float, s: _Stream) -> float:
    """How full the room's air is of its pupils (0-1); airing ignored, the pupils stay."""
    target = round(1200.0 + 800.0 * uniform(mix(s.site, 7)))
    return (_room_co2(p, ts, s, False) - OUTDOOR_CO2) / (target - OUTDOOR_CO2)


def _co2(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Classroom CO2 (ppm): outdoor air when empty, 1,200-2,000 late in a lesson."""
    co2 = _room_co2(p, ts, s, bool(p.get("ventilation", 0.0)))
    return float(round(co2 + 12.0 * normal(r)))


def _room_temperature(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Classroom temperature (°C): heating set point or summer heat, plus body heat."""
    c = clock(int(ts // 3600.0))
    hours = local_hours(ts, c)
    heated = 21.0 if c.school and 6.5 <= hours < 16.0 else 19.0
    summer = 12.0 + 0.45 * structure_temperature(seed, s.town, ts, hours)
    value = max(heated, summer) + 1.8 * _occupancy(p, ts, s) + 0.3 * s.offset
    return round(value + 0.1 * normal(r), 1)


def _room_humidity(p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int) -> Result:
    """Classroom relative humidity (%): dry heated air in winter, pupils breathe it up."""
    value = 52.0 - 16.0 * winter(ts) + 10.0 * _occupancy(p, ts, s) + 2.0 * s.offset
    return round(min(100.0, value + 1.5 * normal(r)), 1)


# --- network ------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _maintenance(day: int) -> float:
    """The gateways' scheduled reboot on or before UTC day `day`: the 1st of the month, 02:00Z."""
    first = date.fromordinal(day + 719163).replace(day=1)
    return (first.toordinal() - 719163) * 86400.0 + 7200.0


def _gateway_heartbeat(
    p: Mapping[str, float], ts: float, s: _Stream, r: int, seed: int
) -> Result | None:
    """Seconds since the gateway came up (after an outage or the monthly reboot); None if down."""
    per_day, minutes = p.get("per_day", 0.2), p.get("mean_minutes", 25.0)
    if is_down(s.device, ts, seed=seed, per_day=per_day, mean_minutes=minutes):
        return None
    day = int(ts // 86400.0)
    reboot = _maintenance(day)
    if reboot > ts:  # the 1st before 02:00: last month's reboot counts
        reboot = _maintenance(day - 1)
    up = last_recovery(s.device, ts, seed=seed, per_day=per_day, mean_minutes=minutes, since=reboot)
    return int(ts - up)


_MODELS: dict[str, Model] = {
    "light_level": _light_level,
    "air_temperature": _air_temperature,
    "noise_level": _noise_level,
    "pm25": _pm25,
    "pm10": _pm10,
    "small_cell_users": _small_cell_users,
    "space_occupied": _space_occupied,
    "pedestrians": _pedestrians,
    "bridge_strain": _bridge_strain,
    "bridge_tilt": _bridge_tilt,
    "crack_width": _crack_width,
    "bridge_temperature": _bridge_temperature,
    "natural_frequency": _natural_frequency,
    "co2": _co2,
    "room_temperature": _room_temperature,
    "room_humidity": _room_humidity,
    "gateway_heartbeat": _gateway_heartbeat,
}
MODELS: frozenset[str] = frozenset(_MODELS)
# Lanterns have their own fault (a dark night) and gateways their outages: no sticking there.
_STICKY = MODELS - {"light_level", "gateway_heartbeat"}
# Glitch size of a spiking sensor, per model; models missing here only stick.
_SPIKES = {
    "air_temperature": 25.0,
    "pm25": 150.0,
    "pm10": 150.0,
    "bridge_strain": 400.0,
    "crack_width": 0.5,
    "co2": 1500.0,
}
