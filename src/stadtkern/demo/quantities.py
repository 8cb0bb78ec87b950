"""What the simulated sensors measure: observed properties, units and sensor models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
DEFINITIONS = "https://stadtkern.org/def/demo/"
UCUM = "http://unitsofmeasure.org/ucum.html#"


@dataclass(frozen=True)
class Quantity:
    """An observed property with the unit and observation type its Datastreams use."""

    key: str
    name: str
    description: str
    unit: str
    symbol: str
    observation_type: str = "OM_Measurement"
    ucum: str = ""  # the UCUM code when the symbol people read differs from it

    def observed_property(self) -> dict[str, Any]:
        """The SensorThings ObservedProperty."""
        return {
            "name": self.name,
            "definition": DEFINITIONS + self.key,
            "description": self.description,
        }

    def datastream_fields(self) -> dict[str, Any]:
        """Unit and observation type of a Datastream of this quantity."""
        return {
            "observationType": OM + self.observation_type,
            "unitOfMeasurement": {
                "name": self.unit,
                "symbol": self.symbol,
                "definition": UCUM + (self.ucum or self.symbol),
            },
        }


def _q(key: str, name: str, description: str, unit: str, symbol: str, kind: str = "") -> Quantity:
    shown, _, code = symbol.partition("|")
    return Quantity(key, name, description, unit, shown, kind or "OM_Measurement", code)


QUANTITIES: dict[str, Quantity] = {
    q.key: q
    for q in (
        _q("light-level", "Lichtstärke", "Light output of a street lantern", "percent", "%"),
        _q(
            "air-temperature",
            "Lufttemperatur",
            "Air temperature, 3 m above ground",
            "degree Celsius",
            "°C|Cel",
        ),
        _q(
            "noise-level",
            "Schallpegel",
            "A-weighted sound level, 1-minute Leq",
            "decibel A",
            "dB(A)|dB",
        ),
        _q(
            "pm25",
            "Feinstaub PM2.5",
            "Particulate matter up to 2.5 µm",
            "microgram per cubic metre",
            "µg/m³|ug/m3",
        ),
        _q(
            "pm10",
            "Feinstaub PM10",
            "Particulate matter up to 10 µm",
            "microgram per cubic metre",
            "µg/m³|ug/m3",
        ),
        _q(
            "small-cell-users",
            "5G-Kleinzelle: verbundene Geräte",
            "Devices connected to the lantern's 5G small cell",
            "count",
            "{count}",
            "OM_CountObservation",
        ),
        _q(
            "space-occupied",
            "Stellplatz belegt",
            "Whether a parking space is occupied",
            "boolean",
            "{bool}",
            "OM_TruthObservation",
        ),
        _q(
            "pedestrians",
            "Passanten",
            "Pedestrians passing in 5 minutes",
            "count",
            "{count}",
            "OM_CountObservation",
        ),
        _q("strain", "Dehnung", "Strain of the main girder", "microstrain", "µm/m|um/m"),
        _q("tilt", "Neigung", "Tilt of the bearing axis", "milliradian", "mrad"),
        _q("crack-width", "Rissbreite", "Width of the monitored crack", "millimetre", "mm"),
        _q(
            "structure-temperature",
            "Bauwerkstemperatur",
            "Temperature of the structure",
            "degree Celsius",
            "°C|Cel",
        ),
        _q(
            "natural-frequency",
            "Eigenfrequenz",
            "First natural frequency of the span",
            "hertz",
            "Hz",
        ),
        _q(
            "co2",
            "CO₂-Konzentration",
            "Carbon dioxide in classroom air",
            "parts per million",
            "ppm",
        ),
        _q(
            "room-temperature",
            "Raumtemperatur",
            "Classroom air temperature",
            "degree Celsius",
            "°C|Cel",
        ),
        _q(
            "room-humidity",
            "Relative Luftfeuchte",
            "Relative humidity of classroom air",
            "percent",
            "%",
        ),
        _q(
            "uptime",
            "Betriebszeit",
            "Seconds since the gateway last started",
            "second",
            "s",
            "OM_CountObservation",
        ),
    )
}

# Sensor model (Sensor entity name) -> description.
SENSORS: dict[str, str] = {
    "Lantern environment pack": "Light, temperature, noise and particulate sensors in the lantern",
    "5G small cell": "Small cell mounted on the lantern's mast",
    "Parking space sensor": "Magnetometer and radar in the parking space, LoRaWAN",
    "Pedestrian counter": "Anonymous infrared passer-by counter, no images",
    "Bridge monitoring unit": "Strain gauges, inclinometer, crack gauge, accelerometer",
    "Classroom climate sensor": "CO2 (NDIR), temperature and humidity",
    "Gateway": "Network gateway reporting its uptime",
}


def sensor_body(name: str) -> dict[str, Any]:
    """The SensorThings Sensor of a sensor model."""
    return {
        "name": name,
        "description": SENSORS[name],
        "encodingType": "text/html",
        "metadata": "https://stadtkern.org/docs/demo",
    }
