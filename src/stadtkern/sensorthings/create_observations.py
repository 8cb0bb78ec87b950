"""CreateObservations: many Observations in one request, in the dataArray format (18-088 §14.4).

    [{"Datastream": {"@iot.id": 1},
      "components": ["phenomenonTime", "result", "FeatureOfInterest/id"],
      "dataArray": [["2026-12-01T10:00:00Z", 20.5, 1], ...]}]

Each row is created in a savepoint of its own, so an invalid row becomes "error" in the
answer without spoiling the others. A malformed group (no such Datastream, an unknown
component, no dataArray) makes the whole request fail with 400. "result" is required;
"phenomenonTime" may be left out (the server's time, as for a single Observation), although
the standard asks clients to send it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.exc import SQLAlchemyError

from stadtkern.errors import BadRequest, StadtkernError
from stadtkern.sensorthings.catalogue import DATASTREAM, MULTI_DATASTREAM, OBSERVATION
from stadtkern.sensorthings.creating import Bound, create_entity
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.links import existing, reference_id
from stadtkern.sensorthings.write_context import WriteContext

FEATURE_COMPONENT = "FeatureOfInterest/id"
COMPONENTS = frozenset(
    {
        "phenomenonTime",
        "result",
        "resultTime",
        "resultQuality",
        "validTime",
        "parameters",
        FEATURE_COMPONENT,
    }
)
ERROR = "error"


def create_observation_rows(ctx: WriteContext, body: object) -> list[str | int]:
    """The id of each Observation created, or "error", in the order of the rows."""
    if not isinstance(body, list):
        raise BadRequest("CreateObservations: expected a JSON array of groups")
    groups = [_group(ctx, group, f"CreateObservations[{i}]") for i, group in enumerate(body)]
    answer: list[str | int] = []
    for bound, components, rows in groups:
        answer.extend(_create_row(ctx, bound, components, row) for row in rows)
    return answer


def _group(
    ctx: WriteContext, group: object, where: str
) -> tuple[Bound, list[str], Sequence[object]]:
    members, stream, stream_id = group_stream(group, where)
    existing(ctx, stream, stream_id, f"{where}.{stream.name}")
    link = OBSERVATION.link(stream.name)
    assert link is not None  # noqa: S101 - Observations link both stream types
    return Bound(link, stream_id), check_components(members, where), group_rows(members, where)


def group_stream(group: object, where: str) -> tuple[Mapping[str, object], EntityType, int]:
    """The group as an object, and the (Multi)Datastream it names by reference (not yet
    checked to exist)."""
    if not isinstance(group, Mapping):
        raise BadRequest(f"{where}: expected a JSON object")
    streams = [name for name in ("Datastream", "MultiDatastream") if name in group]
    if len(streams) != 1:
        raise BadRequest(f"{where}: name exactly one Datastream or MultiDatastream")
    stream = DATASTREAM if streams[0] == "Datastream" else MULTI_DATASTREAM
    place = f"{where}.{stream.name}"
    stream_id = reference_id(group[stream.name], place)
    if stream_id is None:
        raise BadRequest(f"{place}: expected a reference {{'@iot.id': ...}}")
    return group, stream, stream_id


def check_components(group: Mapping[str, object], where: str) -> list[str]:
    """A group's components: known, each once, 'result' among them."""
    components = group.get("components")
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise BadRequest(f"{where}.components: expected an array of property names")
    unknown = sorted(set(components) - COMPONENTS)
    if unknown:
        raise BadRequest(f"{where}.components: unknown components {unknown}")
    if "result" not in components or len(set(components)) != len(components):
        raise BadRequest(f"{where}.components: 'result' is required, each component once")
    return [str(component) for component in components]


def group_rows(group: Mapping[str, object], where: str) -> Sequence[object]:
    """A group's dataArray."""
    rows = group.get("dataArray")
    if not isinstance(rows, list):
        raise BadRequest(f"{where}.dataArray: expected an array of rows")
    return rows


def _create_row(ctx: WriteContext, bound: Bound, components: list[str], row: object) -> str | int:
    try:
        with ctx.savepoint():
            return create_entity(ctx, OBSERVATION, _body(components, row), bound)
    except (StadtkernError, SQLAlchemyError):
        return ERROR


def _body(components: list[str], row: object) -> dict[str, object]:
    if not isinstance(row, list) or len(row) != len(components):
        raise BadRequest("a row has one value per component")
    body = dict(zip(components, row, strict=True))
    if FEATURE_COMPONENT in body:
        body["FeatureOfInterest"] = {"@iot.id": body.pop(FEATURE_COMPONENT)}
    return body
