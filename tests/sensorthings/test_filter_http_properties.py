"""Generated $filter expressions over HTTP select exactly what the Python reference selects.

One tenant per backend gets Things, Datastreams, FeaturesOfInterest and 40 Observations
through the API: results of every JSON type, instants and intervals, null and set
resultTimes, parameters and Thing properties. Generated filters (tests/sensorthings/
strategies.py, over the paths of a real Observation or Datastream) are sent as `$filter`;
the answer must hold exactly the ids that the reference evaluation (evaluator.py, the
documented semantics) selects from the rows that were sent, or be a 400 problem+json exactly
when the query compiler refuses the filter. Never a 5xx.

Runs are derandomized; STADTKERN_FUZZ_EXAMPLES raises the number of examples.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis.control import currently_in_test_context

from stadtkern.db import Database
from stadtkern.http.problems import PROBLEM_JSON
from stadtkern.sensorthings.catalogue import DATASTREAM, OBSERVATION
from stadtkern.sensorthings.entities import EntityType
from stadtkern.sensorthings.maps import property_map
from stadtkern.sensorthings.query import Expression, Kind, QueryError, compile_filter, parse_filter
from tests.conftest import issue_token, unique_slug
from tests.sensorthings.evaluator import Evaluator, Hop, Row, World
from tests.sensorthings.evaluator_ops import evaluate, truth
from tests.sensorthings.render import render
from tests.sensorthings.strategies import FilterGrammar

MAX_EXAMPLES = int(os.environ.get("STADTKERN_FUZZ_EXAMPLES", "500"))
BASE = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
OM_OBSERVATION = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Observation"
# Values that occur in the data, so that generated string literals sometimes match.
WORDS = ("good", "Good", "radar", "cm", "SWK", "Pegel", "Lärm", "offline", "Uferweg", "12")

OBSERVATION_PATHS: dict[Kind, list[tuple[str, ...]]] = {
    Kind.STRING: [
        ("Datastream", "name"),
        ("Datastream", "description"),
        ("Datastream", "Thing", "name"),
        ("FeatureOfInterest", "name"),
        ("MultiDatastream", "name"),  # never linked here: a missing row reads as null
    ],
    Kind.INTEGER: [("id",), ("Datastream", "id"), ("FeatureOfInterest", "id")],
    Kind.DATETIME: [("resultTime",)],
    Kind.INTERVAL: [("phenomenonTime",), ("validTime",)],
    Kind.JSON: [
        ("result",),
        ("result", "level"),
        ("result", "unit"),
        ("resultQuality",),
        ("resultQuality", "grade"),
        ("parameters", "depth"),
        ("parameters", "method"),
        ("Datastream", "unitOfMeasurement", "symbol"),
        ("Datastream", "Thing", "properties", "owner"),
        ("Datastream", "Thing", "properties", "height"),
        ("Datastream", "Thing", "properties", "public"),
        ("FeatureOfInterest", "properties", "kind"),
    ],
}
# Datastreams reach their Observations through a to-many hop: comparisons become "any".
DATASTREAM_PATHS: dict[Kind, list[tuple[str, ...]]] = {
    Kind.STRING: [("name",), ("Thing", "name"), ("Observations", "FeatureOfInterest", "name")],
    Kind.INTEGER: [("id",), ("Observations", "id"), ("Thing", "id")],
    Kind.DATETIME: [("Observations", "resultTime")],
    Kind.INTERVAL: [("Observations", "phenomenonTime")],
    Kind.JSON: [
        ("unitOfMeasurement", "symbol"),
        ("properties", "floor"),
        ("Thing", "properties", "owner"),
        ("Observations", "result"),
        ("Observations", "parameters", "depth"),
        ("Thing", "Datastreams", "Observations", "result", "level"),
    ],
}

_STA_PROPERTIES: dict[str, dict[str, tuple[str, Kind]]] = {
    "Thing": {
        "id": ("id", Kind.INTEGER),
        "name": ("name", Kind.STRING),
        "description": ("description", Kind.STRING),
        "properties": ("properties", Kind.JSON),
    },
    "Datastream": {
        "id": ("id", Kind.INTEGER),
        "name": ("name", Kind.STRING),
        "description": ("description", Kind.STRING),
        "unitOfMeasurement": ("unit", Kind.JSON),
        "properties": ("properties", Kind.JSON),
    },
    "MultiDatastream": {"id": ("id", Kind.INTEGER), "name": ("name", Kind.STRING)},
    "FeatureOfInterest": {
        "id": ("id", Kind.INTEGER),
        "name": ("name", Kind.STRING),
        "properties": ("properties", Kind.JSON),
    },
    "Observation": {
        "id": ("id", Kind.INTEGER),
        "phenomenonTime": ("phenomenon", Kind.INTERVAL),
        "resultTime": ("result_time", Kind.DATETIME),
        "validTime": ("valid", Kind.INTERVAL),
        "result": ("result", Kind.JSON),
        "resultQuality": ("result_quality", Kind.JSON),
        "parameters": ("parameters", Kind.JSON),
    },
}
_STA_NAVIGATIONS: dict[str, dict[str, Hop]] = {
    "Thing": {"Datastreams": Hop("Datastream", True, "id", "thing_id")},
    "Datastream": {
        "Thing": Hop("Thing", False, "thing_id", "id"),
        "Observations": Hop("Observation", True, "id", "datastream_id"),
    },
    "MultiDatastream": {},
    "FeatureOfInterest": {"Observations": Hop("Observation", True, "id", "feature_id")},
    "Observation": {
        "Datastream": Hop("Datastream", False, "datastream_id", "id"),
        "MultiDatastream": Hop("MultiDatastream", False, "multi_datastream_id", "id"),
        "FeatureOfInterest": Hop("FeatureOfInterest", False, "feature_id", "id"),
    },
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Town:
    """The tenant's service root, its admin's headers, and the rows as the reference sees them."""

    client: TestClient
    root: str
    headers: dict[str, str]
    world: World


@dataclass
class _Builder:
    client: TestClient
    root: str
    headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any]) -> int:
        response = self.client.post(f"{self.root}/{path}", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        created: int = response.json()["@iot.id"]
        return created


def _result(index: int) -> Any:
    """A result of each JSON type in turn."""
    number = round(((index * 7) % 23) - 5 + (index % 3) * 0.25, 2)
    kinds: list[Any] = [
        number,
        index % 7 - 2,
        ["good", "Good", "offline", "12", "radar"][index % 5],
        index % 3 == 0,
        {"level": index % 6 - 2, "unit": "cm"} if index % 16 else {"level": "high"},
        None,
        -number,
        [index % 5, "cm"] if index % 16 == 7 else number / 2,
    ]
    return kinds[index % len(kinds)]


def _observation(index: int) -> tuple[dict[str, Any], Row]:
    """The POST body of the index-th Observation and its row (ids still to be filled in)."""
    start = BASE + timedelta(minutes=37 * index, microseconds=1000 * (index % 4))
    end = start + timedelta(hours=1) if index % 5 == 0 else start
    result_time = None if index % 10 == 9 else start + timedelta(seconds=13 * index)
    valid = (start - timedelta(hours=1), start + timedelta(hours=2)) if index % 6 == 2 else None
    parameters: dict[str, Any] | None = {
        "depth": index % 3,
        "method": "radar" if index % 2 else "sonic",
    }
    if index % 8 == 3:
        parameters = {"depth": str(index % 3)}
    if index % 7 == 6:
        parameters = None
    quality: Any = [None, "good", {"grade": "A"}, {"grade": 2}, "Good"][index % 5]
    body: dict[str, Any] = {
        "phenomenonTime": _iso(start) if end == start else f"{_iso(start)}/{_iso(end)}",
        "result": _result(index),
    }
    if result_time is not None:
        body["resultTime"] = _iso(result_time)
    elif index % 20 == 9:
        body["resultTime"] = None
    if valid is not None:
        body["validTime"] = f"{_iso(valid[0])}/{_iso(valid[1])}"
    if parameters is not None:
        body["parameters"] = parameters
    if quality is not None:
        body["resultQuality"] = quality
    row = {
        "result": body["result"],
        "phenomenon_start": start,
        "phenomenon_end": end,
        "result_time": result_time,
        "valid_start": None if valid is None else valid[0],
        "valid_end": None if valid is None else valid[1],
        "parameters": parameters,
        "result_quality": quality,
        "multi_datastream_id": None,
    }
    return body, row


def _build(client: TestClient, root: str, headers: dict[str, str]) -> World:
    """Create the town through the API; the rows are what was sent, with the server's ids."""
    build = _Builder(client, root, headers)
    things = [
        {
            "name": "Stiftsplatz",
            "description": "Lantern 17",
            "properties": {"owner": "Stadt Kaiserslautern", "height": 3.5, "public": True},
        },
        {
            "name": "Fackelwoog",
            "description": "Gauge",
            "properties": {"owner": "SWK", "height": "12", "public": False, "depth": 4},
        },
    ]
    location = {
        "name": "Stiftsplatz",
        "description": "Mast",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [7.7689, 49.4447]},
    }
    thing_ids = [
        build.post("Things", {**things[0], "Locations": [location]}),
        build.post("Things", things[1]),
    ]
    thing_rows = [{"id": i, **t} for i, t in zip(thing_ids, things, strict=True)]
    streams = [
        ("Lärm", "Noise at the lantern", {"symbol": "dB(A)"}, 0, {"floor": 2}),
        ("Luft", "Air at the lantern", {"symbol": "µg/m³"}, 0, None),
        ("Pegel", "Water level", {"symbol": "cm"}, 1, {"floor": "good"}),
    ]
    stream_rows = []
    for name, description, unit, thing, stream_properties in streams:
        body: dict[str, Any] = {
            "name": name,
            "description": description,
            "observationType": OM_OBSERVATION,
            "unitOfMeasurement": {"name": name, "definition": "https://example.org", **unit},
            "Thing": {"@iot.id": thing_ids[thing]},
            "Sensor": {
                "name": f"{name} sensor",
                "description": "-",
                "encodingType": "text/html",
                "metadata": "https://example.org",
            },
            "ObservedProperty": {
                "name": name,
                "definition": "https://example.org",
                "description": "-",
            },
        }
        if stream_properties is not None:
            body["properties"] = stream_properties
        stream_rows.append(
            {
                "id": build.post("Datastreams", body),
                "name": name,
                "description": description,
                "unit": body["unitOfMeasurement"],
                "properties": stream_properties,
                "thing_id": thing_ids[thing],
            }
        )
    features = [
        {"name": "Uferweg", "description": "Bank", "properties": {"kind": "shore"}},
        {"name": "Brücke", "description": "Bridge", "properties": {"kind": 2}},
    ]
    feature_rows = []
    for feature in features:
        body = {
            **feature,
            "encodingType": "application/geo+json",
            "feature": {"type": "Point", "coordinates": [7.7523, 49.4409]},
        }
        feature_rows.append({"id": build.post("FeaturesOfInterest", body), **feature})
    observation_rows = []
    for index in range(40):
        body, row = _observation(index)
        stream = stream_rows[index % 3]
        body["Datastream"] = {"@iot.id": stream["id"]}
        if stream["thing_id"] == thing_ids[1] or index % 4 == 1:
            body["FeatureOfInterest"] = {"@iot.id": feature_rows[index % 2]["id"]}
        row["id"] = build.post("Observations", body)
        row["datastream_id"] = stream["id"]
        observation_rows.append(row)
    # Observations without a feature got one made from their Thing's Location: learn its id.
    linked = _get(
        client,
        f"{root}/Observations",
        headers,
        {
            "$select": "id",
            "$expand": "FeatureOfInterest($select=id,name,properties)",
            "$top": "1000",
        },
    )
    known = {row["id"] for row in feature_rows}
    for entity in linked["value"]:
        feature = entity["FeatureOfInterest"]
        if feature["@iot.id"] not in known:
            known.add(feature["@iot.id"])
            feature_rows.append(
                {
                    "id": feature["@iot.id"],
                    "name": feature["name"],
                    "properties": feature["properties"],
                }
            )
    by_id = {
        entity["@iot.id"]: entity["FeatureOfInterest"]["@iot.id"] for entity in linked["value"]
    }
    for row in observation_rows:
        row["feature_id"] = by_id[row["id"]]
    return World(
        properties=_STA_PROPERTIES,
        navigations=_STA_NAVIGATIONS,
        rows={
            "Thing": thing_rows,
            "Datastream": stream_rows,
            "MultiDatastream": [],
            "FeatureOfInterest": feature_rows,
            "Observation": observation_rows,
        },
    )


def _get(
    client: TestClient, url: str, headers: dict[str, str], params: dict[str, str]
) -> dict[str, Any]:
    response = client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="module")
def town(client: TestClient, database: Database, platform_admin: dict[str, str]) -> Town:
    """A tenant with the sensorthings module and its data, made once per backend."""
    slug = unique_slug("filter")
    body = {
        "slug": slug,
        "name": f"Stadt {slug}",
        "ars": "073120000000",
        "modules": ["sensorthings"],
    }
    response = client.post("/admin/tenants", json=body, headers=platform_admin)
    assert response.status_code == 201, response.text
    token = issue_token(database, tenant=slug, roles=["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    root = f"/{slug}/v1.1"
    return Town(client, root, headers, _build(client, root, headers))


def _event(name: str) -> None:
    if currently_in_test_context():
        event(name)


def _refusal(text: str, entity: EntityType) -> str | None:
    """Why the query compiler refuses a filter on `entity`, or None when it compiles."""
    try:
        compile_filter(parse_filter(text), property_map(entity, entity.table))
    except QueryError as error:
        return str(error)
    return None


def _check(
    town: Town, entity: EntityType, tree: Expression, select: Callable[[Row], bool]
) -> list[int]:
    """Send the filter; assert the ids the reference selects, or the compiler's 400."""
    text = render(tree)
    try:
        response = town.client.get(
            f"{town.root}/{entity.set_name}",
            params={"$filter": text, "$select": "id", "$top": "1000"},
            headers=town.headers,
        )
    except Exception as error:  # the TestClient re-raises what became a 500
        raise AssertionError(f"a 500 for $filter={text}") from error
    refusal = _refusal(text, entity)
    if refusal is not None:
        _event("refused")
        assert response.status_code == 400, (text, refusal, response.text)
        assert response.headers["content-type"] == PROBLEM_JSON, response.text
        problem = response.json()
        assert problem["status"] == 400, problem
        assert problem["title"], problem
        assert problem["detail"] == f"$filter: {refusal}", problem
        return []
    assert response.status_code == 200, (text, response.text)
    found = sorted(item["@iot.id"] for item in response.json()["value"])
    expected = sorted(row["id"] for row in town.world.rows[entity.name] if select(row))
    total = len(town.world.rows[entity.name])
    _event("selects none" if not expected else "selects all" if len(expected) == total else "some")
    assert found == expected, text
    return found


def _settings() -> settings:
    return settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def test_observation_filters_select_what_the_reference_selects(town: Town) -> None:
    """Filters on Observations: own properties, JSON members, to-one paths of any depth."""
    rows = town.world.rows["Observation"]
    ids = [row["id"] for row in rows[::7]] + [row["id"] for row in town.world.rows["Datastream"]]
    grammar = FilterGrammar(OBSERVATION_PATHS, words=WORDS, ids=ids)

    @_settings()
    @given(tree=grammar.filters())
    def run(tree: Expression) -> None:
        _check(
            town,
            OBSERVATION,
            tree,
            lambda row: truth(evaluate(Evaluator("Observation", row, world=town.world), tree)),
        )

    run()


def test_datastream_filters_reach_observations_as_any(town: Town) -> None:
    """Filters on Datastreams through the to-many Observations: true when any one matches."""
    ids = [row["id"] for row in town.world.rows["Observation"][::5]]
    grammar = FilterGrammar(DATASTREAM_PATHS, words=WORDS, ids=ids)

    @_settings()
    @given(tree=grammar.filters())
    def run(tree: Expression) -> None:
        _check(
            town,
            DATASTREAM,
            tree,
            lambda row: truth(evaluate(Evaluator("Datastream", row, world=town.world), tree)),
        )

    run()


# --- regressions the properties found ------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "text", "selected"),
    [
        # Integer div went through SQLAlchemy's true division: 1 div 2 was 0.5.
        (OBSERVATION, "0 eq (1 div 2)", 40),
        (OBSERVATION, "-3 eq (-7 div 2) and 1 eq (7 mod 3)", 40),
        # A comparison folded to false left the EXISTS without a FROM: a 500 on both backends.
        (DATASTREAM, "Observations/resultTime ge null", 0),
        (DATASTREAM, "not (Observations/resultTime lt null)", 3),
        # Paths from the root inside an EXISTS were not correlated: a cross join, and on
        # PostgreSQL "more than one row returned by a subquery" (a 500).
        (DATASTREAM, "substringof(Thing/name, Observations/FeatureOfInterest/name)", 2),
        (DATASTREAM, "Observations/FeatureOfInterest/name eq Thing/name", 2),
        (DATASTREAM, "startswith(name, Thing/Datastreams/Observations/result/level)", 0),
    ],
)
def test_filters_the_properties_found_broken(
    town: Town, entity: EntityType, text: str, selected: int
) -> None:
    """Each selects what the reference selects, as many entities as counted by hand."""
    tree = parse_filter(text)
    found = _check(
        town,
        entity,
        tree,
        lambda row: truth(evaluate(Evaluator(entity.name, row, world=town.world), tree)),
    )
    assert len(found) == selected, text
