"""The service root document: the entity sets and what this server conforms to."""

from __future__ import annotations

from typing import Any

from stadtkern.sensorthings.catalogue import ENTITY_TYPES

SENSING = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
TASKING = "http://www.opengis.net/spec/iot_tasking/1.0/req/"
MQTT_CREATE = SENSING + "create-observations-via-mqtt/observations-creation"
MQTT_RECEIVE = SENSING + "receive-updates-via-mqtt/receive-updates"
CONFORMANCE = (
    SENSING + "datamodel",
    SENSING + "resource-path/resource-path-to-entities",
    SENSING + "request-data",
    SENSING + "create-update-delete",
    SENSING + "batch-request/batch-request",
    SENSING + "multi-datastream",
    SENSING + "data-array/data-array",
    MQTT_CREATE,
    MQTT_RECEIVE,
    # Tasking Core (OGC 17-079r1) by its requirement classes, as FROST-Server lists them.
    TASKING + "tasking-capability",
    TASKING + "task",
    TASKING + "actuator",
    TASKING + "create-tasks",
    # Result formats as FROST-Server and the INSIDE project describe them.
    "https://fraunhoferiosb.github.io/FROST-Server/extensions/GeoJSON-ResultFormat.html",
    "https://github.com/INSIDE-information-systems/SensorThingsAPI/blob/master/"
    "CSV-ResultFormat/CSV-ResultFormat.md",
    "https://fraunhoferiosb.github.io/FROST-Server/extensions/JsonBatchRequest.html",
)


def service_root(base_url: str, mqtt_endpoint: str) -> dict[str, Any]:
    """The document at `/{tenant}/v1.1`."""
    sets = [
        {"name": entity.set_name, "url": f"{base_url}/{entity.set_name}"}
        for entity in ENTITY_TYPES.values()
    ]
    endpoints = {"endpoints": [mqtt_endpoint]}
    return {
        "value": sets,
        "serverSettings": {
            "conformance": list(CONFORMANCE),
            MQTT_CREATE: endpoints,
            MQTT_RECEIVE: endpoints,
        },
    }
