"""Benchmarks of the mail capability (registered in bench.harness)."""

from __future__ import annotations
