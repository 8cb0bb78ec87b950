"""Conformance class Sensing Core (OGC 18-088 §8, §9): data model, resource paths, access.

Requirement classes: http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel and
http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import TenantFixture
from tests.sensorthings.conformance.conftest import (
    GEOJSON,
    HAUPTBAHNHOF,
    OM_MEASUREMENT,
    SENSING,
    STIFTSKIRCHE,
    TASKING,
    Graph,
    Json,
    Sta,
    add_observations,
    assert_client_error,
    assert_problem,
    basic_auth,
    feature_body,
    instant,
    location_body,
    make_graph,
    point,
    same_time,
    thing_body,
)

ENTITY_SETS = {
    "Things",
    "Locations",
    "HistoricalLocations",
    "Datastreams",
    "MultiDatastreams",
    "Sensors",
    "ObservedProperties",
    "Observations",
    "FeaturesOfInterest",
    "TaskingCapabilities",
    "Tasks",
    "Actuators",
}
CONFORMANCE = {
    f"{SENSING}datamodel",
    f"{SENSING}resource-path/resource-path-to-entities",
    f"{SENSING}request-data",
    f"{SENSING}create-update-delete",
    f"{SENSING}batch-request/batch-request",
    f"{SENSING}multi-datastream",
    f"{SENSING}data-array/data-array",
    f"{TASKING}tasking-capability",
    f"{TASKING}task",
    f"{TASKING}actuator",
    f"{TASKING}create-tasks",
}

# (entity set, its properties, its navigation properties) as tables 5 to 14 of OGC 18-088
# and the MultiDatastream and Tasking extensions define them.
MANDATORY = {
    "Things": ({"name", "description"}, {"Locations", "HistoricalLocations", "Datastreams"}),
    "Locations": (
        {"name", "description", "encodingType", "location"},
        {"Things", "HistoricalLocations"},
    ),
    "HistoricalLocations": ({"time"}, {"Thing", "Locations"}),
    "Sensors": ({"name", "description", "encodingType", "metadata"}, {"Datastreams"}),
    "ObservedProperties": ({"name", "definition", "description"}, {"Datastreams"}),
    "Datastreams": (
        {"name", "description", "unitOfMeasurement", "observationType"},
        {"Thing", "Sensor", "ObservedProperty", "Observations"},
    ),
    "Observations": (
        {"phenomenonTime", "result", "resultTime"},
        {"Datastream", "FeatureOfInterest"},
    ),
    "FeaturesOfInterest": (
        {"name", "description", "encodingType", "feature"},
        {"Observations"},
    ),
}


@pytest.fixture
def graph(sta: Sta) -> Graph:
    """A Thing at the Stiftskirche with a Datastream."""
    return make_graph(sta, properties={"owner": "Stadtwerke"})


def _observation(sta: Sta, graph: Graph) -> int:
    return add_observations(sta, graph.datastream, [("2024-05-01T12:00:00Z", 21.5)])[0]


# --- service root ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_service_root_lists_every_entity_set_with_its_url(sta: Sta, suffix: str) -> None:
    """/req/resource-path/resource-path-to-entities: the service root names every entity set
    and its URL (18-088 §9.2.1)."""
    response = sta.get(sta.root + suffix)
    assert response.status_code == 200, response.text
    root = response.json()
    listed = {entry["name"]: entry["url"] for entry in root["value"]}
    assert set(listed) == ENTITY_SETS
    for name, url in listed.items():
        assert url == f"{sta.service_url}/{name}"
        assert sta.get(url).status_code == 200


def test_service_root_declares_the_conformance_classes(sta: Sta) -> None:
    """/req/resource-path/resource-path-to-entities: serverSettings.conformance lists the
    implemented conformance classes (18-088 §9.2.1, 1.1 service document)."""
    root = sta.read("")
    conformance = root["serverSettings"]["conformance"]
    assert isinstance(conformance, list)
    assert all(isinstance(uri, str) for uri in conformance)
    assert set(conformance) >= CONFORMANCE, CONFORMANCE - set(conformance)


# --- data model -----------------------------------------------------------------------------


def test_every_entity_has_id_self_link_and_navigation_links(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/entity-control-information/common-control-information: @iot.id,
    @iot.selfLink and one @iot.navigationLink per navigation property, all absolute."""
    observation = _observation(sta, graph)
    feature = sta.read(f"Observations({observation})/FeatureOfInterest")["@iot.id"]
    historical = sta.ids(f"Things({graph.thing})/HistoricalLocations")[0]
    ids = {
        "Things": graph.thing,
        "Locations": graph.location,
        "HistoricalLocations": historical,
        "Sensors": graph.sensor,
        "ObservedProperties": graph.observed_property,
        "Datastreams": graph.datastream,
        "Observations": observation,
        "FeaturesOfInterest": feature,
    }
    for entity_set, entity_id in ids.items():
        entity = sta.read(f"{entity_set}({entity_id})")
        assert entity["@iot.id"] == entity_id
        assert type(entity["@iot.id"]) is int
        self_link = sta.link(entity_set, entity_id)
        assert entity["@iot.selfLink"] == self_link
        properties, navigations = MANDATORY[entity_set]
        assert properties <= entity.keys(), (entity_set, properties - entity.keys())
        for navigation in navigations:
            assert entity[f"{navigation}@iot.navigationLink"] == f"{self_link}/{navigation}"
            assert sta.get(entity[f"{navigation}@iot.navigationLink"]).status_code == 200


def test_thing_properties_and_relations(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/thing/properties, /req/datamodel/thing/relations: name, description,
    properties; a Thing has Locations, HistoricalLocations, Datastreams (and MultiDatastreams,
    TaskingCapabilities from the extensions)."""
    thing = sta.read(f"Things({graph.thing})")
    assert thing["name"] == "Laterne 1"
    assert thing["description"] == "Laterne 1 in der Altstadt"
    assert thing["properties"] == {"owner": "Stadtwerke"}
    for navigation in ("MultiDatastreams", "TaskingCapabilities"):
        assert f"{navigation}@iot.navigationLink" in thing
    assert sta.ids(f"Things({graph.thing})/Locations") == [graph.location]
    assert sta.ids(f"Things({graph.thing})/Datastreams") == [graph.datastream]


def test_location_properties_and_relations(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/location/properties, /req/datamodel/location/relations: the location
    is returned as the GeoJSON sent, with its encodingType; a Location knows its Things."""
    location = sta.read(f"Locations({graph.location})")
    assert location["encodingType"] == GEOJSON
    assert location["location"] == point(STIFTSKIRCHE)
    assert sta.ids(f"Locations({graph.location})/Things") == [graph.thing]
    assert len(sta.ids(f"Locations({graph.location})/HistoricalLocations")) == 1


def test_historical_location_properties_and_relations(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/historical-location/properties and relations: time, one Thing, the
    Locations the Thing was at."""
    (historical,) = sta.values(f"Things({graph.thing})/HistoricalLocations")
    assert "/" not in historical["time"]
    instant(historical["time"])  # an ISO 8601 instant with its zone
    assert sta.read(f"HistoricalLocations({historical['@iot.id']})/Thing")["@iot.id"] == (
        graph.thing
    )
    assert sta.ids(f"HistoricalLocations({historical['@iot.id']})/Locations") == [graph.location]


def test_datastream_properties_and_relations(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/datastream/properties and relations: unitOfMeasurement and
    observationType as sent; exactly one Thing, Sensor and ObservedProperty."""
    datastream = sta.read(f"Datastreams({graph.datastream})")
    assert datastream["unitOfMeasurement"] == {
        "name": "degree Celsius",
        "symbol": "°C",
        "definition": "http://unitsofmeasure.org/ucum.html#para-30",
    }
    assert datastream["observationType"] == OM_MEASUREMENT
    assert sta.read(f"Datastreams({graph.datastream})/Thing")["@iot.id"] == graph.thing
    assert sta.read(f"Datastreams({graph.datastream})/Sensor")["@iot.id"] == graph.sensor
    assert (
        sta.read(f"Datastreams({graph.datastream})/ObservedProperty")["@iot.id"]
        == graph.observed_property
    )
    assert sta.ids(f"Sensors({graph.sensor})/Datastreams") == [graph.datastream]
    assert sta.ids(f"ObservedProperties({graph.observed_property})/Datastreams") == [
        graph.datastream
    ]


def test_observation_properties_and_relations(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/observation/properties and relations: phenomenonTime, result,
    resultTime (null when not given); one Datastream and one FeatureOfInterest."""
    observation_id = _observation(sta, graph)
    observation = sta.read(f"Observations({observation_id})")
    assert same_time(observation["phenomenonTime"], "2024-05-01T12:00:00Z")
    assert observation["result"] == 21.5
    assert observation["resultTime"] is None
    assert sta.read(f"Observations({observation_id})/Datastream")["@iot.id"] == graph.datastream
    feature = sta.read(f"Observations({observation_id})/FeatureOfInterest")
    assert sta.ids(f"FeaturesOfInterest({feature['@iot.id']})/Observations") == [observation_id]
    assert sta.ids(f"Datastreams({graph.datastream})/Observations") == [observation_id]


def test_feature_of_interest_properties(sta: Sta) -> None:
    """/req/datamodel/feature-of-interest/properties: the feature as the GeoJSON sent."""
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[7.76, 49.44], [7.78, 49.44], [7.78, 49.45], [7.76, 49.45], [7.76, 49.44]]
        ],
    }
    created = sta.create("FeaturesOfInterest", feature_body("Altstadt", polygon))
    feature = sta.read(f"FeaturesOfInterest({created['@iot.id']})")
    assert feature["feature"] == polygon
    assert feature["encodingType"] == GEOJSON
    assert feature["name"] == "Altstadt"


def test_sensor_metadata_may_be_an_object(sta: Sta) -> None:
    """/req/datamodel/sensor/properties: metadata is Any (a link or an inline description)."""
    metadata = {"manufacturer": "Maxim", "range": [-55, 125]}
    created = sta.create(
        "Sensors",
        {
            "name": "DS18B20",
            "description": "Temperaturfühler",
            "encodingType": "application/json",
            "metadata": metadata,
        },
    )
    assert sta.read(f"Sensors({created['@iot.id']})")["metadata"] == metadata


# --- resource paths -------------------------------------------------------------------------


def test_collection_of_every_entity_set(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: a collection answers {"value": [...]}."""
    _observation(sta, graph)
    for entity_set in MANDATORY:
        page = sta.read(entity_set)
        assert isinstance(page["value"], list)
        assert len(page["value"]) == 1, entity_set
        assert "@iot.count" not in page


def test_navigation_of_any_depth(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: navigation properties chain, to one and
    then to many (18-088 §9.2.3, e.g. Datastreams(1)/Thing/Locations)."""
    observation = _observation(sta, graph)
    assert sta.ids(f"Observations({observation})/Datastream/Thing/Locations") == [graph.location]
    assert sta.read(f"Observations({observation})/Datastream/Sensor")["@iot.id"] == graph.sensor
    assert sta.read(f"Observations({observation})/Datastream/Thing")["@iot.id"] == graph.thing
    historical = sta.ids(f"Things({graph.thing})/HistoricalLocations")[0]
    assert sta.ids(f"HistoricalLocations({historical})/Thing/Datastreams") == [graph.datastream]
    assert sta.ids(f"Datastreams({graph.datastream})/Thing/Datastreams") == [graph.datastream]


def test_navigation_lists_only_related_entities(sta: Sta) -> None:
    """/req/resource-path/resource-path-to-entities: Things(1)/Datastreams holds that Thing's
    Datastreams, not those of others."""
    first = make_graph(sta, name="Laterne 1")
    second = make_graph(sta, name="Laterne 2", at=HAUPTBAHNHOF)
    assert sta.ids(f"Things({first.thing})/Datastreams") == [first.datastream]
    assert sta.ids(f"Things({second.thing})/Datastreams") == [second.datastream]
    assert sta.ids(f"Things({second.thing})/Locations") == [second.location]
    assert sorted(sta.ids("Datastreams")) == sorted([first.datastream, second.datastream])


def test_property_path_returns_the_property_alone(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: Things(1)/name answers {"name": ...}
    (18-088 §9.2.4)."""
    assert sta.read(f"Things({graph.thing})/name") == {"name": "Laterne 1"}
    assert sta.read(f"Things({graph.thing})/properties") == {"properties": {"owner": "Stadtwerke"}}
    assert sta.read(f"Locations({graph.location})/location") == {"location": point(STIFTSKIRCHE)}
    assert sta.read(f"Datastreams({graph.datastream})/Thing/name") == {"name": "Laterne 1"}


def test_property_value_path_returns_raw_text(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: Things(1)/name/$value answers the raw
    value (18-088 §9.2.5)."""
    response = sta.get(f"Things({graph.thing})/name/$value")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Laterne 1"
    nested = sta.get(f"Datastreams({graph.datastream})/Sensor/encodingType/$value")
    assert nested.status_code == 200, nested.text
    assert nested.text == "application/pdf"


def test_value_of_a_number_and_of_a_navigated_property(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: $value of a number is its JSON text."""
    observation = _observation(sta, graph)
    response = sta.get(f"Observations({observation})/result/$value")
    assert response.status_code == 200, response.text
    assert float(response.text) == 21.5
    nested = sta.get(f"Observations({observation})/Datastream/Thing/name/$value")
    assert nested.status_code == 200, nested.text
    assert nested.text == "Laterne 1"


def test_ref_of_a_collection_lists_self_links(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: Things(1)/Datastreams/$ref answers the
    association links only (18-088 §9.2.6)."""
    page = sta.read(f"Things({graph.thing})/Datastreams/$ref")
    assert page["value"] == [{"@iot.selfLink": sta.link("Datastreams", graph.datastream)}]


def test_ref_of_an_entity_is_its_self_link(sta: Sta, graph: Graph) -> None:
    """/req/resource-path/resource-path-to-entities: Datastreams(1)/Thing/$ref."""
    assert sta.read(f"Datastreams({graph.datastream})/Thing/$ref") == {
        "@iot.selfLink": sta.link("Things", graph.thing)
    }


def test_post_ref_links_an_existing_location(sta: Sta, graph: Graph) -> None:
    """/req/create-update-delete/link-to-existing-entities: POST Things(1)/Locations/$ref
    with {"@iot.id": n} links an existing Location without creating one."""
    other = sta.create_id("Locations", location_body("Hauptbahnhof", point(HAUPTBAHNHOF)))
    response = sta.post(f"Things({graph.thing})/Locations/$ref", {"@iot.id": other})
    assert response.status_code in (200, 201, 204), response.text
    assert sorted(sta.ids(f"Things({graph.thing})/Locations")) == sorted([graph.location, other])
    assert sta.count("Locations") == 2


def test_required_relation_cannot_be_unlinked(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/datastream/relations: a Datastream has exactly one Thing, so its
    association link cannot be deleted; the link stays."""
    response = sta.delete(f"Datastreams({graph.datastream})/Thing/$ref")
    assert_client_error(response, 400, 405, 409)
    assert sta.read(f"Datastreams({graph.datastream})/Thing")["@iot.id"] == graph.thing


# --- not found and tenants ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "Things(987654321)",
        "Things(987654321)/Datastreams",
        "Things(987654321)/name",
        "Things(987654321)/name/$value",
        "Things(987654321)/Datastreams/$ref",
        "Datastreams(987654321)/Thing",
        "Observations(987654321)",
        "FeaturesOfInterest(987654321)",
        "Tasks(987654321)",
    ],
)
def test_unknown_id_is_404(sta: Sta, path: str) -> None:
    """/req/request-data/status-code: an entity that does not exist answers 404 Not Found."""
    assert_problem(sta.get(path), 404)


def test_unknown_id_cannot_be_changed_or_deleted(sta: Sta) -> None:
    """/req/create-update-delete/update-entity, delete-entity: 404 for an unknown id."""
    assert_problem(sta.patch("Things(987654321)", {"name": "x"}), 404)
    assert_problem(sta.put("Things(987654321)", thing_body()), 404)
    assert_problem(sta.delete("Things(987654321)"), 404)


def test_ids_of_another_tenant_are_404(sta: Sta, make_sta: Callable[[], Sta]) -> None:
    """Tenant isolation: another tenant's ids do not exist here, for reading, changing,
    deleting and navigating; the other tenant's entities stay unchanged."""
    graph = make_graph(sta)
    observation = _observation(sta, graph)
    stranger = make_sta()
    for path in (
        f"Things({graph.thing})",
        f"Things({graph.thing})/Datastreams",
        f"Things({graph.thing})/name/$value",
        f"Datastreams({graph.datastream})/Observations",
        f"Observations({observation})",
        f"Locations({graph.location})/Things",
    ):
        assert_problem(stranger.get(path), 404)
    assert_problem(stranger.patch(f"Things({graph.thing})", {"name": "gekapert"}), 404)
    assert_problem(stranger.delete(f"Datastreams({graph.datastream})"), 404)
    assert stranger.read("Things")["value"] == []
    assert stranger.read("Observations")["value"] == []
    assert sta.read(f"Things({graph.thing})")["name"] == "Laterne 1"
    assert sta.ids(f"Datastreams({graph.datastream})/Observations") == [observation]


def test_sensorthings_is_404_for_a_tenant_without_the_module(
    sta: Sta, make_tenant: Callable[..., TenantFixture]
) -> None:
    """The service exists only for tenants that switched the module on."""
    tenant = make_tenant(modules=[])
    response = sta.client.get(f"/{tenant.slug}/v1.1/Things", headers=tenant.headers)
    assert response.status_code == 404


# --- access -------------------------------------------------------------------------------


def test_reading_needs_a_viewer(sta: Sta, graph: Graph) -> None:
    """Anonymous requests are refused with 401; a viewer reads."""
    assert_problem(sta.as_role().get("Things"), 401)
    assert_problem(sta.as_role().get(f"Things({graph.thing})"), 401)
    viewer = sta.as_role("viewer")
    assert viewer.ids("Things") == [graph.thing]


def test_writing_needs_an_operator(sta: Sta, graph: Graph) -> None:
    """A viewer may not write (403); an operator creates, changes and deletes."""
    viewer = sta.as_role("viewer")
    assert_problem(viewer.post("Things", thing_body("Laterne 2")), 403)
    assert_problem(viewer.patch(f"Things({graph.thing})", {"name": "x"}), 403)
    assert_problem(viewer.delete(f"Things({graph.thing})"), 403)
    assert_problem(sta.as_role().post("Things", thing_body("Laterne 2")), 401)
    assert sta.count("Things") == 1
    operator = sta.as_role("operator")
    created = operator.create_id("Things", thing_body("Laterne 2"))
    assert operator.patch(f"Things({created})", {"name": "Laterne 3"}).status_code == 200
    assert operator.delete(f"Things({created})").status_code == 200


def test_anonymous_read_when_the_tenant_allows_it(sta: Sta, graph: Graph) -> None:
    """With anonymousRead on, anyone reads; writing still needs an operator."""
    response = sta.client.patch(
        f"/{sta.slug}/sensorthings/settings", json={"anonymousRead": True}, headers=sta.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["anonymousRead"] is True
    anonymous = sta.as_role()
    assert anonymous.ids("Things") == [graph.thing]
    assert anonymous.read(f"Things({graph.thing})/name") == {"name": "Laterne 1"}
    assert_problem(anonymous.post("Things", thing_body("Laterne 2")), 401)
    assert_problem(anonymous.delete(f"Things({graph.thing})"), 401)


def test_only_an_admin_changes_the_settings(sta: Sta) -> None:
    """The tenant's SensorThings settings belong to its administrators."""
    operator = sta.as_role("operator")
    response = sta.client.patch(
        f"/{sta.slug}/sensorthings/settings",
        json={"anonymousRead": True},
        headers=operator.headers,
    )
    assert_problem(response, 403)
    assert_problem(sta.as_role().get("Things"), 401)


def test_basic_auth_with_the_key_as_password(sta: Sta, graph: Graph) -> None:
    """HTTP Basic with any user name and the API key as the password works like the bearer."""
    token = sta.tenant.admin_token
    response = sta.client.get(f"{sta.root}/Things", headers=basic_auth(token))
    assert response.status_code == 200, response.text
    assert [thing["@iot.id"] for thing in response.json()["value"]] == [graph.thing]
    wrong = sta.client.get(f"{sta.root}/Things", headers=basic_auth("sk_not-a-key"))
    assert_problem(wrong, 401)


def _entity_keys(entity: Json) -> set[str]:
    return {key for key in entity if not key.endswith("@iot.navigationLink")}


def test_created_entity_reads_back_identically(sta: Sta, graph: Graph) -> None:
    """/req/datamodel/entity-control-information/common-control-information: the entity in the
    201 body is the entity a GET returns."""
    created = sta.create("Things", thing_body("Laterne 9", properties={"nummer": 9}))
    read = sta.read(f"Things({created['@iot.id']})")
    assert _entity_keys(created) == _entity_keys(read)
    for key in _entity_keys(read):
        assert created[key] == read[key], key
