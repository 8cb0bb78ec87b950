"""The siren signals a lantern plays, and how long a command keeps it busy.

Shared by the platform (to tell operators how long a warning sounds) and the device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

VOICE_CHARACTERS_PER_SECOND = 14


@dataclass(frozen=True)
class Signal:
    """One siren signal with its length and its names for people."""

    name: str
    seconds: float
    name_de: str
    name_en: str
    description_de: str
    description_en: str


SIGNALS: Mapping[str, Signal] = MappingProxyType(
    {
        "warning": Signal(
            "warning",
            60.0,
            "Warnung",
            "Warning",
            "Eine Minute auf- und abschwellender Heulton",
            "One minute of a rising and falling tone",
        ),
        "all_clear": Signal(
            "all_clear",
            60.0,
            "Entwarnung",
            "All clear",
            "Eine Minute Dauerton",
            "One minute of a steady tone",
        ),
        "test_tone": Signal(
            "test_tone",
            12.0,
            "Probeton",
            "Test tone",
            "Kurzer Probeton der Laterne",
            "A short local test tone of the lantern",
        ),
        "none": Signal(
            "none",
            0.0,
            "Nur Durchsage",
            "Voice only",
            "Kein Ton, nur die Durchsage",
            "No tone, only the voice announcement",
        ),
    }
)


def voice_seconds(text: str) -> float:
    """How long a voice text takes: characters / 14 per second, rounded up to a whole second."""
    return float(math.ceil(len(text) / VOICE_CHARACTERS_PER_SECOND))


def _signal(name: str) -> Signal:
    try:
        return SIGNALS[name]
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def cycle_seconds(signal: str, voice: Mapping[str, str] | None) -> float:
    """One cycle: the signal, then the German and then the English voice text."""
    texts = [voice[lang] for lang in ("de", "en") if lang in voice] if voice else []
    spoken = sum(voice_seconds(text) for text in texts)
    return _signal(signal).seconds + spoken


def total_seconds(signal: str, voice: Mapping[str, str] | None, repeat: int) -> float:
    """All cycles of a `sound` command."""
    if repeat < 1:
        raise ValueError("repeat is at least 1")
    return cycle_seconds(signal, voice) * repeat
