"""Signal durations, shared by platform and device."""

from __future__ import annotations

import pytest

from stadtkern.devices.lantern.signals import SIGNALS, cycle_seconds, total_seconds, voice_seconds


def test_the_signals() -> None:
    assert {name: signal.seconds for name, signal in SIGNALS.items()} == {
        "warning": 60,
        "all_clear": 60,
        "test_tone": 12,
        "none": 0,
    }
    assert SIGNALS["warning"].name_de == "Warnung"
    assert SIGNALS["all_clear"].name_en == "All clear"
    assert all(s.description_de and s.description_en for s in SIGNALS.values())


def test_voice_takes_characters_over_fourteen_rounded_up() -> None:
    assert voice_seconds("") == 0
    assert voice_seconds("a" * 14) == 1
    assert voice_seconds("a" * 15) == 2
    assert voice_seconds("Ä" * 28) == 2, "characters, not bytes"


def test_cycles_and_totals() -> None:
    voice = {"de": "a" * 41, "en": "b" * 41}
    assert cycle_seconds("warning", voice) == 66
    assert total_seconds("warning", voice, 2) == 132, "the example of the protocol document"
    assert total_seconds("test_tone", None, 3) == 36
    assert cycle_seconds("none", {"en": "x"}) == 1
    assert cycle_seconds("none", {"fr": "x" * 100}) == 0, "only German and English are spoken"
    with pytest.raises(ValueError, match="unknown signal"):
        cycle_seconds("siren", None)
    with pytest.raises(ValueError, match="repeat"):
        total_seconds("warning", None, 0)
