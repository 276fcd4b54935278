"""Benchmarks of the reports capability (registered in bench.harness)."""

from __future__ import annotations
