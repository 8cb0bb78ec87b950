"""OGC SensorThings API 1.1 conformance suite: one module per conformance class."""
