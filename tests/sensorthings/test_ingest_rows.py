"""The ingest's dataArray rows are the rows the general field parsers make, value for value,
and SQLite times are written exactly as SQLAlchemy writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.bodies import BodyMode, parse_body
from stadtkern.sensorthings.catalogue import OBSERVATION
from stadtkern.sensorthings.create_observations import FEATURE_COMPONENT
from stadtkern.sensorthings.field_values import field_columns
from stadtkern.sensorthings.ingest.rows import COLUMNS, FEATURE_ID, INDEX, plan_create, plan_groups
from stadtkern.sensorthings.ingest.sinks import TABLE, sqlite_time
from stadtkern.sensorthings.links import reference_id
from stadtkern.sensorthings.times import parse_instant

NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
# Naive bounds, as hypothesis asks: the zone is drawn separately.
NAIVE_FROM, NAIVE_TO = (
    datetime(year, 1, 1, tzinfo=UTC).replace(tzinfo=None) for year in (1900, 2200)
)
EARLIEST = datetime(1, 1, 2, tzinfo=UTC).replace(tzinfo=None)
LATEST = datetime(9999, 12, 30, tzinfo=UTC).replace(tzinfo=None)
ZONES = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-11, minutes=-30))]
COMPONENTS = ["phenomenonTime", "result", "resultTime", "validTime", FEATURE_COMPONENT]

zones = st.sampled_from(["Z", "+00:00", "+01:00", "-05:30", "+0200", ""])
fractions = st.sampled_from(["", ".0", ".250", ".123456", ".1234567"])
instants = st.builds(
    lambda moment, fraction, zone: moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + zone,
    st.datetimes(min_value=NAIVE_FROM, max_value=NAIVE_TO),
    fractions,
    zones,
)
texts = st.one_of(
    instants,
    st.builds(lambda a, b: f"{a}/{b}", instants, instants),
    st.sampled_from(["2025-02-31T00:00:00Z", "2025-01-01T24:00:00Z", "2025-01-01", "x", ""]),
)
results = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
values: dict[str, st.SearchStrategy[Any]] = {
    "phenomenonTime": st.one_of(texts, st.none(), st.integers()),
    "result": results,
    "resultTime": st.one_of(instants, st.none(), st.just("soon")),
    "validTime": st.one_of(texts, st.none()),
    FEATURE_COMPONENT: st.one_of(st.integers(min_value=-2, max_value=10**6), st.text(max_size=3)),
}


def reference_row(components: list[str], values_: list[Any]) -> list[Any] | None:
    """The row as `field_columns`, the general writer's parser, builds it."""
    row: list[Any] = [None] * len(COLUMNS)
    row[INDEX["datastream_id"]] = 7
    try:
        for name, value in zip(components, values_, strict=True):
            if name == FEATURE_COMPONENT:  # as the old per-field path read it
                row[FEATURE_ID] = reference_id({"@iot.id": value}, FEATURE_COMPONENT)
                continue
            field = OBSERVATION.field(name)
            assert field is not None
            for column, stored in field_columns(OBSERVATION, field, value).items():
                row[INDEX[column]] = stored
    except StadtkernError:
        return None
    if row[INDEX["phenomenon_time_start"]] is None:
        row[INDEX["phenomenon_time_start"]] = NOW
    return row


@st.composite
def groups(draw: st.DrawFn) -> tuple[list[str], list[list[Any]]]:
    components = draw(st.permutations(COMPONENTS))
    width = draw(st.integers(min_value=1, max_value=len(components)))
    chosen = list(components[:width])
    if "result" not in chosen:
        chosen.append("result")
    rows = draw(
        st.lists(st.tuples(*(values[name] for name in chosen)).map(list), min_size=1, max_size=8)
    )
    return chosen, rows


@settings(max_examples=300, deadline=None)
@given(groups())
def test_data_array_rows_are_the_general_parsers_rows(group: tuple[list[str], list[Any]]) -> None:
    components, rows = group
    body = [{"Datastream": {"@iot.id": 7}, "components": components, "dataArray": rows}]
    planned = plan_groups(body, NOW)
    assert planned is not None
    (only,) = planned
    assert only.stream_id == 7
    expected = [reference_row(components, row) for row in rows]
    assert only.rows == expected
    for got, want in zip(only.rows, expected, strict=True):
        if got is not None and want is not None:  # the same types too (int vs float, bool)
            assert [type(value) for value in got] == [type(value) for value in want]


def test_rows_of_the_wrong_width_are_errors_in_their_place() -> None:
    body = [
        {
            "Datastream": {"@iot.id": 3},
            "components": ["phenomenonTime", "result"],
            "dataArray": [["2025-01-01T00:00:00Z", 1], ["2025-01-01T00:00:00Z"], "x", []],
        }
    ]
    planned = plan_groups(body, NOW)
    assert planned is not None
    assert [row is None for row in planned[0].rows] == [False, True, True, True]


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=EARLIEST, max_value=LATEST),
    st.sampled_from(ZONES),
)
def test_sqlite_times_are_written_as_sqlalchemy_writes_them(
    moment: datetime, zone: timezone
) -> None:
    dialect = sqlite.dialect()
    column = TABLE.c.phenomenon_time_start.type
    processor = column.dialect_impl(dialect).bind_processor(dialect)
    assert processor is not None
    aware = moment.replace(tzinfo=zone)
    assert sqlite_time(aware) == processor(aware)


def reference_single(body: dict[str, Any]) -> list[Any] | None:
    """The row of a single POST as parse_body, the general writer's parser, reads it."""
    try:
        parsed = parse_body(OBSERVATION, body, mode=BodyMode.CREATE)
    except StadtkernError:
        return None
    row: list[Any] = [None] * len(COLUMNS)
    for column, stored in parsed.columns.items():
        row[INDEX[column]] = stored
    row[INDEX["datastream_id"]] = 7
    if row[INDEX["phenomenon_time_start"]] is None:
        row[INDEX["phenomenon_time_start"]] = NOW
    return row


single_fields = {
    **{name: values[name] for name in ("phenomenonTime", "result", "resultTime", "validTime")},
    "resultQuality": st.one_of(st.none(), st.text(max_size=3), st.integers()),
    "parameters": st.one_of(st.none(), st.dictionaries(st.text(max_size=2), st.integers())),
    "unknown": st.just(1),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=single_fields))
def test_a_single_posts_row_is_the_general_parsers_row(body: dict[str, Any]) -> None:
    plan = plan_create("Datastreams(7)/Observations", body, NOW)
    expected = reference_single(body)
    assert (plan.row if plan is not None else None) == expected
    if plan is not None and expected is not None:
        assert [type(value) for value in plan.row] == [type(value) for value in expected]


shaped = st.builds(
    lambda parts, fraction: "{}-{}-{}T{}:{}:{}".format(*parts) + fraction + "Z",
    st.tuples(
        *(
            st.text(alphabet="0123456789+-x٣", min_size=size, max_size=size)
            for size in (4, 2, 2, 2, 2, 2)
        )
    ),
    st.sampled_from(["", ".000", ".5x0", ".123456", ".12345 "]),
)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(shaped, instants.filter(lambda text: text.endswith("Z"))))
def test_utc_instants_read_alike_with_z_and_with_an_offset(text: str) -> None:
    """The shortcut for `...Z` texts agrees with the pattern's path for `+00:00`."""
    spelled = text[:-1] + "+00:00"

    def read(value: str) -> object:
        try:
            return parse_instant(value, "t")
        except BadRequest:
            return BadRequest

    assert read(text) == read(spelled)
