"""The ingest path: Observations validated, buffered briefly and written in batches.

    pipeline = IngestPipeline(database, settings, publish)      # ingest/pipeline.py
    outcomes = await pipeline.submit(tenant, rows, base_url=...)  # ids, or errors per row

`rows.py` turns request bodies into rows with the general writer's validation; `pipeline.py`
buffers them (at most `ingest_max_delay_ms` or `ingest_batch_rows`) and applies
backpressure; `batch.py` writes a batch in one transaction (the stream times, the latest
values and the MQTT notifications with it) through `sinks.py` (binary COPY on PostgreSQL,
executemany on SQLite); `latest.py` keeps the latest-value table; `requests.py` is the
fast path the dispatcher takes for POST Observations, CreateObservations and MQTT create.
Submitters hear of their rows only after the commit.

Nothing is imported here: the general writer imports `latest.py`, which must not pull in
the pipeline (and, through it, the writer again).
"""
