"""Benchmarks of issue 4: ingest (HTTP, MQTT) and reads, each against a ceiling of the same run.

Run `python -m bench --help`; docs/performance.md describes the method and the figures.
"""
