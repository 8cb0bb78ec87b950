"""OGC SensorThings API 1.1 (work in progress: the query-option language comes first)."""
