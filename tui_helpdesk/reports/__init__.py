"""Metric queries and exporters (DESIGN §1): aggregate SQL per report kind on SQLite and
PostgreSQL, report periods and buckets, streaming writers, scheduled report definitions.

Imports store and rules only; `services.reports` is the use case the CLI, the console and
scheduled mail call.
"""
