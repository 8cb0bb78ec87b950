"""A lantern's SensorThings Thing, made, changed and deleted together with the lantern.

Every write goes through the SensorThings dispatcher inside the register's transaction, so
the SensorThings rules apply, subscribers are notified when it commits, and a failure rolls
the lantern back with its Thing. A lantern's Thing has its Location, three
TaskingCapabilities (siren, loudspeaker, light) and four status Datastreams. The Sensor,
the ObservedProperties and the Actuators describe every lantern alike, so they are made
once per town, found again by name, and never deleted with a lantern.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from stadtkern.core.refs import TenantRef
from stadtkern.sensorthings.changes import Change
from stadtkern.sensorthings.dispatch import Dispatcher, StaRequest
from stadtkern.sensorthings.models import (
    Actuator,
    Datastream,
    HistoricalLocation,
    HistoricalLocationLocation,
    ObservedProperty,
    Sensor,
    ThingLocation,
)
from stadtkern.warning.models import Lantern

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
DEFINITIONS = "https://stadtkern.org/def/lantern/"
SENSOR_NAME = "Stadtkern lantern health monitor"
# Datastream key in Lantern.streams -> (Datastream name, observation type, unit, definition).
STREAMS: dict[str, tuple[str, str, dict[str, str]]] = {
    "battery": (
        "Battery level",
        "OM_Measurement",
        {"name": "percent", "symbol": "%", "definition": "http://qudt.org/vocab/unit/PERCENT"},
    ),
    "mains": ("Mains power", "OM_TruthObservation", {"name": "", "symbol": "", "definition": ""}),
    "sound_level": (
        "Siren sound level",
        "OM_Measurement",
        {"name": "decibel", "symbol": "dB", "definition": "http://qudt.org/vocab/unit/DeciB"},
    ),
    "selftest": (
        "Speaker self-test",
        "OM_TruthObservation",
        {"name": "", "symbol": "", "definition": ""},
    ),
}
_NOT_SENT = (
    "Alerts reach the lantern as signed commands of the warning module; Tasks created here "
    "are recorded but not sent to the lantern."
)
# Actuator name -> (TaskingCapability name, what it does, its tasking parameters).
ACTUATORS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "Stadtkern lantern siren": (
        "Siren",
        "Sounds a warning, all-clear or test signal",
        [
            {
                "name": "signal",
                "label": "Signal",
                "description": "Which signal the siren gives",
                "definition": f"{DEFINITIONS}signal",
                "constraint": {
                    "type": "AllowedTokens",
                    "value": ["warning", "all_clear", "test_tone"],
                },
                "type": "Category",
            }
        ],
    ),
    "Stadtkern lantern loudspeaker": (
        "Loudspeaker",
        "Speaks a warning text",
        [
            {
                "name": "text",
                "label": "Text",
                "description": "What the loudspeaker says",
                "definition": f"{DEFINITIONS}voice",
                "type": "Text",
            }
        ],
    ),
    "Stadtkern lantern light": (
        "Light",
        "Switches the warning light",
        [
            {
                "name": "state",
                "label": "State",
                "description": "How the light shines",
                "definition": f"{DEFINITIONS}light",
                "constraint": {"type": "AllowedTokens", "value": ["on", "off", "flash"]},
                "type": "Category",
            }
        ],
    ),
}


@dataclass
class ThingWriter:
    """Writes lanterns' Things in one SensorThings transaction and remembers what changed."""

    dispatcher: Dispatcher
    tenant: TenantRef
    base_url: str
    changes: list[Change]
    shared_ids: dict[str, int] = field(default_factory=dict)  # town-wide entities, by name

    def send(self, session: Session, method: str, path: str, body: object = None) -> Any:
        """One SensorThings request in the open transaction; the answer's body."""
        request = StaRequest(method, path, body=body)
        answer, made = self.dispatcher.execute(
            session, self.tenant, request, base_url=self.base_url
        )
        self.changes.extend(made)
        return answer.body


@contextmanager
def register_transaction(
    dispatcher: Dispatcher, tenant: TenantRef, base_url: str
) -> Iterator[tuple[Session, ThingWriter]]:
    """A write transaction for lanterns and their Things, published when it commits."""
    with dispatcher.transaction(tenant, base_url) as (session, changes):
        yield session, ThingWriter(dispatcher, tenant, base_url, changes)


def thing_properties(lantern: Lantern) -> dict[str, Any]:
    """The Thing's properties: what a SensorThings client should know about the lantern."""
    return {
        "kind": "lantern",
        "lantern": {
            "code": lantern.code,
            "sirenSoundLevelDb": lantern.siren_db,
            "firmware": lantern.firmware,
            "publicKey": lantern.device_key,
            "district": lantern.district,
        },
    }


def create_thing(session: Session, writer: ThingWriter, lantern: Lantern) -> None:
    """Make the lantern's Thing and set `lantern.thing_id` and `lantern.streams`."""
    sensor = _shared_sensor(session, writer)
    streams = [
        {
            "name": name,
            "description": f"{name} of lantern {lantern.code}",
            "observationType": OM + kind,
            "unitOfMeasurement": unit,
            "Sensor": {"@iot.id": sensor},
            "ObservedProperty": {"@iot.id": _shared_property(session, writer, key, name)},
        }
        for key, (name, kind, unit) in STREAMS.items()
    ]
    capabilities = [
        {
            "name": name,
            "description": f"{purpose}. {_NOT_SENT}",
            "taskingParameters": {"type": "DataRecord", "field": parameters},
            "Actuator": {"@iot.id": _shared_actuator(session, writer, actuator, purpose)},
        }
        for actuator, (name, purpose, parameters) in ACTUATORS.items()
    ]
    body = {
        **_thing_fields(lantern),
        "Locations": [_location(lantern)],
        "Datastreams": streams,
        "TaskingCapabilities": capabilities,
    }
    thing_id = int(writer.send(session, "POST", "Things", body)["@iot.id"])
    names = {name: key for key, (name, _kind, _unit) in STREAMS.items()}
    rows = session.execute(
        select(Datastream.id, Datastream.name).where(
            Datastream.thing_id == thing_id, Datastream.tenant_id == writer.tenant.id
        )
    )
    lantern.thing_id = thing_id
    lantern.streams = {names[name]: int(id_) for id_, name in rows if name in names}


def update_thing(session: Session, writer: ThingWriter, lantern: Lantern, *, moved: bool) -> None:
    """Bring the Thing up to date with the lantern; a move gives it a new Location."""
    if lantern.thing_id is None:  # its Thing was deleted through the SensorThings API
        create_thing(session, writer, lantern)
        return
    writer.send(session, "PATCH", f"Things({lantern.thing_id})", _thing_fields(lantern))
    if moved:
        # A new Location replaces the current one and is recorded as a HistoricalLocation.
        writer.send(session, "POST", f"Things({lantern.thing_id})/Locations", _location(lantern))


def delete_thing(session: Session, writer: ThingWriter, lantern: Lantern) -> None:
    """Delete the Thing and the Locations no other Thing stands at."""
    thing_id = lantern.thing_id
    if thing_id is None:
        return
    current = select(ThingLocation.location_id).where(ThingLocation.thing_id == thing_id)
    past = (
        select(HistoricalLocationLocation.location_id)
        .join(
            HistoricalLocation,
            HistoricalLocation.id == HistoricalLocationLocation.historical_location_id,
        )
        .where(HistoricalLocation.thing_id == thing_id)
    )
    locations = set(session.scalars(current)) | set(session.scalars(past))
    writer.send(session, "DELETE", f"Things({thing_id})")
    lantern.thing_id = None
    for location in sorted(locations):
        elsewhere = select(ThingLocation.thing_id).where(ThingLocation.location_id == location)
        if session.scalars(elsewhere.limit(1)).first() is None:
            writer.send(session, "DELETE", f"Locations({location})")


def _thing_fields(lantern: Lantern) -> dict[str, Any]:
    return {
        "name": lantern.name,
        "description": f"Smart street lantern {lantern.code} with siren, loudspeaker and light",
        "properties": thing_properties(lantern),
    }


def _location(lantern: Lantern) -> dict[str, Any]:
    point = lantern.geom
    assert isinstance(point, Point)  # noqa: S101 - the column holds points
    return {
        "name": f"Lantern {lantern.code}",
        "description": "Where the lantern stands",
        "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [float(point.x), float(point.y)]},
    }


def _shared_sensor(session: Session, writer: ThingWriter) -> int:
    query = select(Sensor.id).where(Sensor.name == SENSOR_NAME)
    body = {
        "name": SENSOR_NAME,
        "description": "Battery, mains, siren level and speaker self-test a lantern reports",
        "encodingType": "text/html",
        "metadata": "https://stadtkern.org/docs/lantern-protocol",
    }
    return _shared(session, writer, "Sensors", Sensor, query, body)


def _shared_property(session: Session, writer: ThingWriter, key: str, name: str) -> int:
    definition = DEFINITIONS + key.replace("_", "-")
    query = select(ObservedProperty.id).where(
        ObservedProperty.name == name, ObservedProperty.definition == definition
    )
    body = {"name": name, "description": f"{name} of a lantern", "definition": definition}
    return _shared(session, writer, "ObservedProperties", ObservedProperty, query, body)


def _shared_actuator(session: Session, writer: ThingWriter, name: str, purpose: str) -> int:
    query = select(Actuator.id).where(Actuator.name == name)
    body = {
        "name": name,
        "description": purpose,
        "encodingType": "text/html",
        "metadata": "https://stadtkern.org/docs/lantern-protocol",
    }
    return _shared(session, writer, "Actuators", Actuator, query, body)


def _shared(
    session: Session,
    writer: ThingWriter,
    set_name: str,
    model: type[Sensor | ObservedProperty | Actuator],
    query: Any,
    body: dict[str, Any],
) -> int:
    """The town's entity of that name, made on first use (and remembered for the transaction)."""
    cache_key = f"{set_name}/{body['name']}"
    known = writer.shared_ids.get(cache_key)
    if known is not None:
        return known
    found = session.scalars(
        query.where(model.tenant_id == writer.tenant.id).order_by(model.id).limit(1)
    ).first()
    entity_id = (
        int(found)
        if found is not None
        else int(writer.send(session, "POST", set_name, body)["@iot.id"])
    )
    writer.shared_ids[cache_key] = entity_id
    return entity_id
