"""Conformance classes of SensorThings API Part 2 - Tasking Core (OGC 17-079r1).

Requirement classes http://www.opengis.net/spec/iot_tasking/1.0/req/tasking-capability,
.../req/task, .../req/actuator and .../req/create-tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tests.sensorthings.conformance.conftest import (
    SIREN_PARAMETERS,
    Json,
    Sta,
    actuator_body,
    assert_client_error,
    instant,
    same_json,
    thing_body,
)


@dataclass(frozen=True)
class Siren:
    """A Thing (the town hall) with an Actuator (its siren) and a TaskingCapability."""

    thing: int
    actuator: int
    capability: int


def capability_body(thing: int, actuator: int, **extra: object) -> Json:
    """A TaskingCapability linking a Thing and an Actuator."""
    return {
        "name": "Sirenensignal",
        "description": "Löst ein Signal der Rathaussirene aus",
        "taskingParameters": SIREN_PARAMETERS,
        "properties": {"zone": "Innenstadt"},
        "Thing": {"@iot.id": thing},
        "Actuator": {"@iot.id": actuator},
        **extra,
    }


@pytest.fixture
def siren(sta: Sta) -> Siren:
    """The town hall's siren, ready to be tasked."""
    thing = sta.create_id("Things", thing_body("Rathaus"))
    actuator = sta.create_id("Actuators", actuator_body())
    capability = sta.create_id("TaskingCapabilities", capability_body(thing, actuator))
    return Siren(thing, actuator, capability)


TASK = {"taskingParameters": {"signal": "test", "durationSeconds": 60}}


def test_actuator_properties_and_relations(sta: Sta, siren: Siren) -> None:
    """/req/actuator/properties, /req/actuator/relations: name, description, encodingType,
    metadata; an Actuator has TaskingCapabilities."""
    actuator = sta.read(f"Actuators({siren.actuator})")
    assert actuator["@iot.selfLink"] == sta.link("Actuators", siren.actuator)
    assert actuator["name"] == "Sirene Rathaus"
    assert actuator["description"] == "Warnsirene auf dem Rathaus"
    assert actuator["encodingType"] == "application/pdf"
    assert actuator["metadata"] == "https://example.org/sirene.pdf"
    assert actuator["TaskingCapabilities@iot.navigationLink"] == (
        f"{actuator['@iot.selfLink']}/TaskingCapabilities"
    )
    assert sta.ids(f"Actuators({siren.actuator})/TaskingCapabilities") == [siren.capability]


def test_tasking_capability_properties_and_relations(sta: Sta, siren: Siren) -> None:
    """/req/tasking-capability/properties, /req/tasking-capability/relations:
    taskingParameters (a SWE Common DataRecord) kept as sent; one Thing, one Actuator,
    its Tasks; Things have TaskingCapabilities."""
    capability = sta.read(f"TaskingCapabilities({siren.capability})")
    assert capability["name"] == "Sirenensignal"
    assert same_json(capability["taskingParameters"], SIREN_PARAMETERS)
    assert capability["properties"] == {"zone": "Innenstadt"}
    for navigation in ("Thing", "Actuator", "Tasks"):
        assert capability[f"{navigation}@iot.navigationLink"] == (
            f"{sta.link('TaskingCapabilities', siren.capability)}/{navigation}"
        )
    assert sta.read(f"TaskingCapabilities({siren.capability})/Thing")["@iot.id"] == siren.thing
    assert sta.read(f"TaskingCapabilities({siren.capability})/Actuator")["@iot.id"] == (
        siren.actuator
    )
    assert sta.ids(f"Things({siren.thing})/TaskingCapabilities") == [siren.capability]


def test_create_task_sets_the_creation_time(sta: Sta, siren: Siren) -> None:
    """/req/create-tasks/task-creation, /req/task/properties: POST a Task to its
    TaskingCapability; the service sets creationTime; taskingParameters are kept."""
    before = datetime.now(UTC)
    response = sta.post(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    after = datetime.now(UTC)
    assert response.status_code == 201, response.text
    task = response.json()
    assert response.headers["location"] == sta.link("Tasks", task["@iot.id"])
    stored = sta.read(f"Tasks({task['@iot.id']})")
    assert same_json(stored["taskingParameters"], TASK["taskingParameters"])
    assert before.replace(microsecond=0) <= instant(stored["creationTime"]) <= after
    assert stored["TaskingCapability@iot.navigationLink"] == (
        f"{sta.link('Tasks', task['@iot.id'])}/TaskingCapability"
    )


def test_task_relations(sta: Sta, siren: Siren) -> None:
    """/req/task/relations: a Task has exactly one TaskingCapability; the capability lists
    its Tasks; the Task reaches the Thing and Actuator through it."""
    first = sta.create_id("Tasks", {**TASK, "TaskingCapability": {"@iot.id": siren.capability}})
    second = sta.create_id(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    assert sta.read(f"Tasks({first})/TaskingCapability")["@iot.id"] == siren.capability
    assert sorted(sta.ids(f"TaskingCapabilities({siren.capability})/Tasks")) == sorted(
        [first, second]
    )
    assert sta.read(f"Tasks({first})/TaskingCapability/Thing")["name"] == "Rathaus"
    assert sta.read(f"Tasks({first})/TaskingCapability/Actuator")["name"] == "Sirene Rathaus"


def test_deep_insert_of_tasking_entities(sta: Sta) -> None:
    """/req/tasking-capability/relations: a Thing with a TaskingCapability and a new
    Actuator in one request."""
    response = sta.post(
        "Things",
        thing_body(
            "Feuerwache",
            TaskingCapabilities=[
                {
                    "name": "Torsteuerung",
                    "description": "Öffnet das Tor",
                    "taskingParameters": {"type": "DataRecord", "field": []},
                    "Actuator": actuator_body("Torantrieb"),
                }
            ],
        ),
    )
    assert response.status_code == 201, response.text
    thing = response.json()["@iot.id"]
    (capability,) = sta.values(f"Things({thing})/TaskingCapabilities")
    assert sta.read(f"TaskingCapabilities({capability['@iot.id']})/Actuator")["name"] == (
        "Torantrieb"
    )


@pytest.mark.parametrize(
    ("label", "change"),
    [
        ("without Actuator", {"Actuator": None}),
        ("without Thing", {"Thing": None}),
        ("without taskingParameters", {"taskingParameters": None}),
        ("taskingParameters not an object", {"taskingParameters": "Signal"}),
        ("unknown Actuator", {"Actuator": {"@iot.id": 987654321}}),
    ],
)
def test_tasking_capability_needs_its_relations(
    sta: Sta, siren: Siren, label: str, change: Json
) -> None:
    """/req/tasking-capability/properties and relations: taskingParameters, one Thing and
    one Actuator are mandatory."""
    body = capability_body(siren.thing, siren.actuator)
    for key, value in change.items():
        if value is None:
            del body[key]
        else:
            body[key] = value
    assert_client_error(sta.post("TaskingCapabilities", body), 400, 404)
    assert sta.count("TaskingCapabilities") == 1, label


def test_task_needs_a_tasking_capability_and_parameters(sta: Sta, siren: Siren) -> None:
    """/req/task/relations, /req/task/properties: a Task without its TaskingCapability, or
    without taskingParameters, is refused."""
    assert_client_error(sta.post("Tasks", TASK), 400)
    assert_client_error(
        sta.post(f"TaskingCapabilities({siren.capability})/Tasks", {"taskingParameters": 5}),
        400,
    )
    assert_client_error(
        sta.post("Tasks", {**TASK, "TaskingCapability": {"@iot.id": 987654321}}), 400, 404
    )
    assert sta.count("Tasks") == 0


def test_query_options_on_tasking_entities(sta: Sta, siren: Siren) -> None:
    """/req/request-data on the tasking entities: $filter across TaskingCapability, $orderby
    creationTime, $expand to the Actuator."""
    first = sta.create_id(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    second = sta.create_id(
        f"TaskingCapabilities({siren.capability})/Tasks",
        {"taskingParameters": {"signal": "warning", "durationSeconds": 120}},
    )
    assert sta.ids("Tasks", {"$orderby": "creationTime desc,id desc"}) == [second, first]
    found = sta.ids("Tasks", {"$filter": "TaskingCapability/Actuator/name eq 'Sirene Rathaus'"})
    assert sorted(found) == sorted([first, second])
    assert sta.ids("Tasks", {"$filter": "taskingParameters/signal eq 'warning'"}) == [second]
    thing = sta.read(
        f"Things({siren.thing})", {"$expand": "TaskingCapabilities($expand=Actuator,Tasks)"}
    )
    (capability,) = thing["TaskingCapabilities"]
    assert capability["Actuator"]["name"] == "Sirene Rathaus"
    assert sorted(task["@iot.id"] for task in capability["Tasks"]) == sorted([first, second])


def test_delete_cascades_through_tasking(sta: Sta, siren: Siren) -> None:
    """/req/create-update-delete/delete-entity: a Thing takes its TaskingCapabilities, and
    they their Tasks; the Actuator stays."""
    sta.create_id(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    assert sta.delete(f"Things({siren.thing})").status_code == 200
    assert sta.count("TaskingCapabilities") == 0
    assert sta.count("Tasks") == 0
    assert sta.ids("Actuators") == [siren.actuator]


def test_delete_actuator_removes_its_capabilities(sta: Sta, siren: Siren) -> None:
    """/req/tasking-capability/relations: a TaskingCapability cannot outlive its Actuator."""
    sta.create_id(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    assert sta.delete(f"Actuators({siren.actuator})").status_code == 200
    assert sta.count("TaskingCapabilities") == 0
    assert sta.count("Tasks") == 0
    assert sta.ids("Things") == [siren.thing]


def test_tasking_needs_an_operator(sta: Sta, siren: Siren) -> None:
    """Creating a Task writes: a viewer may read the capabilities but not task them."""
    viewer = sta.as_role("viewer")
    assert viewer.ids("TaskingCapabilities") == [siren.capability]
    assert_client_error(viewer.post(f"TaskingCapabilities({siren.capability})/Tasks", TASK), 403)
    operator = sta.as_role("operator")
    operator.create_id(f"TaskingCapabilities({siren.capability})/Tasks", TASK)
    assert sta.count("Tasks") == 1
