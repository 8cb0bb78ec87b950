"""Rows a filter selects by the Python reference evaluation."""

from __future__ import annotations

from stadtkern.sensorthings.query import Expression
from tests.sensorthings.evaluator import Evaluator
from tests.sensorthings.evaluator_ops import evaluate, truth
from tests.sensorthings.sample_data import OBSERVATIONS, STATIONS


def reference_ids(entity: str, expression: Expression) -> list[int]:
    """Ids of the rows of `entity` ("Station" or "Observation") where the filter is true."""
    rows = STATIONS if entity == "Station" else OBSERVATIONS
    return sorted(row["id"] for row in rows if truth(evaluate(Evaluator(entity, row), expression)))
