"""Observations to ingest, validated by the general writer's own field parsers.

A row is a list of column values in `COLUMNS` order (without id and tenant, which the
batch adds). A single Observation body goes through `bodies.parse_body`, exactly as the
general writer checks it; a CreateObservations group is checked once (its stream, its
components) and each of its rows then through `field_values.field_columns`, the parser
`parse_body` applies per field, without building a body per row. What needs the database
(the stream and feature belong to the tenant, a MultiDatastream's result size, the feature
generated from the Thing's Location) is checked by the batch, in its transaction.

Only what references existing entities by `@iot.id` takes this path; a body with a nested
entity to create (or anything unusual) goes to the general writer (`plan_create` → None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.bodies import BodyMode, parse_body
from stadtkern.sensorthings.catalogue import DATASTREAM, MULTI_DATASTREAM, OBSERVATION
from stadtkern.sensorthings.create_observations import (
    COMPONENTS,
    FEATURE_COMPONENT,
    check_components,
    group_rows,
    group_stream,
)
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.field_values import column_parser
from stadtkern.sensorthings.links import reference_id
from stadtkern.sensorthings.models import ResultType
from stadtkern.sensorthings.paths import PathError, ResourcePath, parse_path
from stadtkern.sensorthings.results import COLUMNS as RESULT_COLUMNS
from stadtkern.sensorthings.results import EXACT_LIMIT
from stadtkern.sensorthings.times import parse_instant

COLUMNS = (
    "datastream_id",
    "multi_datastream_id",
    "feature_of_interest_id",
    "phenomenon_time_start",
    "phenomenon_time_end",
    "result_time",
    "result_type",
    "result_number",
    "result_string",
    "result_boolean",
    "result_json",
    "result_quality",
    "valid_time_start",
    "valid_time_end",
    "parameters",
)
INDEX = {name: position for position, name in enumerate(COLUMNS)}
DATASTREAM_ID, MULTI_ID, FEATURE_ID, TIME_START = 0, 1, 2, 3
TIME_END, RESULT_TIME, RESULT_TYPE, RESULT_JSON = 4, 5, 6, 10
STREAM_LINKS = {DATASTREAM.name: DATASTREAM_ID, MULTI_DATASTREAM.name: MULTI_ID}
# A POST to these parents binds the Observation to them, like the general writer's Bound.
PARENTS = {**STREAM_LINKS, "FeatureOfInterest": FEATURE_ID}
LINK_NAMES = frozenset({*STREAM_LINKS, "FeatureOfInterest"})

Row = list[Any]


@dataclass(frozen=True)
class Parent:
    """The entity a POST path names (`Datastreams(5)/Observations`), checked by the batch."""

    entity: EntityType
    id: int


@dataclass(frozen=True)
class SinglePlan:
    """One Observation to ingest, with the parent its URL names (None for `Observations`)."""

    row: Row
    parent: Parent | None


def plan_create(path_text: str, body: object, now: datetime) -> SinglePlan | None:
    """The row a POST of one Observation stores, or None where the general writer must act
    (another path, a nested entity, or any error: it answers with its own exact message)."""
    try:
        eligible, parent = _parent_of(path_text)
        if not eligible or not isinstance(body, Mapping):
            return None
        return SinglePlan(_single_row(body, parent, now), parent)
    except (StadtkernError, PathError):
        return None


@lru_cache(maxsize=10_000)
def _parent_of(path_text: str) -> tuple[bool, Parent | None]:
    """`_parent` of a path text (a device posts to the same path again and again)."""
    return _parent(parse_path(path_text))


def _parent(path: ResourcePath) -> tuple[bool, Parent | None]:
    """Whether the path is one of the ingest's, and the parent it names (None for
    `Observations`)."""
    if path.target is not OBSERVATION or not path.is_collection or path.field or path.ref:
        return False, None
    if len(path.segments) == 1:
        return True, None
    first = path.segments[0]
    if len(path.segments) != 2 or first.id is None or first.entity.name not in PARENTS:
        return False, None
    return True, Parent(first.entity, first.id)


def _single_row(body: Mapping[str, object], parent: Parent | None, now: datetime) -> Row:
    row: Row = [None] * len(COLUMNS)
    if _plain(body):
        # Only fields and links by name, the required ones among them: each field by the
        # setter of its dataArray component, which gives what parse_body would give.
        links = {}
        for name, value in body.items():
            setter = _SETTERS.get(name)
            if setter is None:
                links[name] = value
            else:
                setter(row, value)
    else:
        parsed = parse_body(OBSERVATION, body, mode=BodyMode.CREATE)
        for name, value in parsed.columns.items():
            row[INDEX[name]] = value
        links = dict(parsed.links)
    for name, value in links.items():
        if parent is not None and parent.entity.name == name:
            raise BadRequest(f"Observation.{name} is given by the URL")  # general path words it
        linked = reference_id(value, f"Observation.{name}")
        if linked is None:
            raise BadRequest("a nested entity to create")  # the general writer creates it
        row[PARENTS[name]] = linked
    if parent is not None:
        row[PARENTS[parent.entity.name]] = parent.id
    _complete(row, now)
    return row


def _complete(row: Row, now: datetime) -> None:
    """What rules.before_insert decides without the database: one stream, the default time."""
    if (row[DATASTREAM_ID] is None) == (row[MULTI_ID] is None):
        raise BadRequest("Observation: link exactly one of Datastream and MultiDatastream")
    if row[TIME_START] is None:
        row[TIME_START] = now


@dataclass(frozen=True)
class GroupPlan:
    """A CreateObservations group: its stream and its rows (None where a row is invalid)."""

    stream: EntityType
    stream_id: int
    rows: list[Row | None]


def plan_groups(body: object, now: datetime) -> list[GroupPlan] | None:
    """The groups of a CreateObservations body; None for a malformed body (the general
    writer answers 400 with its own words). Invalid rows are None in their group."""
    try:
        if not isinstance(body, list):
            return None
        return [_group(group, f"CreateObservations[{i}]", now) for i, group in enumerate(body)]
    except StadtkernError:
        return None


def _group(group: object, where: str, now: datetime) -> GroupPlan:
    members, stream, stream_id = group_stream(group, where)
    components = check_components(members, where)
    template: Row = [None] * len(COLUMNS)
    template[STREAM_LINKS[stream.name]] = stream_id
    setters = tuple(_setter(name) for name in components)
    width = len(setters)
    rows: list[Row | None] = []
    append = rows.append
    for values in group_rows(members, where):
        if type(values) is not list or len(values) != width:
            append(None)
            continue
        row = template.copy()
        try:
            for setter, value in zip(setters, values, strict=True):
                setter(row, value)
        except StadtkernError:
            append(None)
            continue
        if row[TIME_START] is None:
            row[TIME_START] = now
        append(row)
    return GroupPlan(stream, stream_id, rows)


# A dataArray component's value into its columns of a row; StadtkernError when invalid.
Setter = Callable[[Row, object], None]
PHENOMENON_TIME = "Observation.phenomenonTime"
RESULT_POSITIONS = tuple(INDEX[name] for name in RESULT_COLUMNS)
RESULT_NUMBER = INDEX["result_number"]


def _setter(component: str) -> Setter:
    """The setter of a component: the field's own parser (`column_parser`), with the two
    components every row has (a time instant, a number) taken without the general path."""
    if component == FEATURE_COMPONENT:
        return _set_feature
    field = OBSERVATION.field(component)
    assert field is not None  # noqa: S101 - check_components admits fields only
    parse = column_parser(OBSERVATION, field)
    positions = tuple(INDEX[name] for name in field.columns)

    def general(row: Row, value: object) -> None:
        for position, column in zip(positions, parse(value), strict=True):
            row[position] = column

    if component == "phenomenonTime":

        def phenomenon_time(row: Row, value: object) -> None:
            if type(value) is str and "/" not in value:
                row[TIME_START] = parse_instant(value, PHENOMENON_TIME)
            else:
                general(row, value)

        return phenomenon_time
    if component == "result":

        def result(row: Row, value: object) -> None:
            kind = type(value)
            if kind is float:
                row[RESULT_TYPE] = ResultType.NUMBER
                row[RESULT_NUMBER] = value
            elif kind is int and -EXACT_LIMIT < value < EXACT_LIMIT:  # type: ignore[operator]
                row[RESULT_TYPE] = ResultType.INTEGER
                row[RESULT_NUMBER] = float(value)  # type: ignore[arg-type]
            else:
                general(row, value)

        return result
    return general


# The writable fields of an Observation; bodies with only these and links take the setters.
_SETTERS = {name: _setter(name) for name in COMPONENTS - {FEATURE_COMPONENT}}
_REQUIRED = frozenset(
    field.name for field in OBSERVATION.fields if field.required and field.writable
)


def _plain(body: Mapping[str, object]) -> bool:
    return body.keys() >= _REQUIRED and all(name in _SETTERS or name in LINK_NAMES for name in body)


def _set_feature(row: Row, value: object) -> None:
    row[FEATURE_ID] = reference_id({"@iot.id": value}, FEATURE_COMPONENT)
