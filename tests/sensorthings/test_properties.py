"""Generated filters select exactly what the Python reference selects, or raise QueryError."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings

from stadtkern.sensorthings.query import Expression, QueryError, compile_filter, parse_filter
from tests.sensorthings.conftest import SensorTables
from tests.sensorthings.reference import reference_ids
from tests.sensorthings.render import render
from tests.sensorthings.strategies import filters

_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_SETTINGS
@given(tree=filters())
def test_rendered_filters_parse_back_to_the_same_tree(tree: Expression) -> None:
    assert parse_filter(render(tree)) == tree


@_SETTINGS
@given(tree=filters())
def test_filters_match_the_reference_or_raise_query_error(
    sensor_tables: SensorTables, tree: Expression
) -> None:
    text = render(tree)
    table = sensor_tables.observations
    try:
        compile_filter(tree, sensor_tables.observation_map(table))
    except QueryError:
        event("refused with QueryError")
        return
    expected = reference_ids("Observation", tree)
    event(
        "selects none" if not expected else "selects all" if len(expected) == 40 else "selects some"
    )
    assert sensor_tables.ids(table, text) == expected, text
