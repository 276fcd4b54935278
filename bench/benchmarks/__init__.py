"""Registered benchmarks, one module per capability."""
