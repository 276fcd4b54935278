"""Runs one benchmark in this (fresh) process and prints its samples as JSON.

Invoked by the harness: `python -m bench.worker NAME main|reference CONTEXT_JSON`.
"""

from __future__ import annotations

import json
import sys

from bench.harness import Context, Measurement, load_registry, peak_kb


def main() -> int:
    name, part, raw = sys.argv[1:4]
    ctx = Context(**json.loads(raw))
    bench = load_registry()[name]
    fn = bench.fn if part == "main" else bench.reference
    assert fn is not None
    measured = fn(ctx)
    if not isinstance(measured, Measurement):
        measured = Measurement(measured)
    peak = measured.peak_kb if measured.peak_kb is not None else peak_kb()
    print(json.dumps({"samples": measured.samples, "peak_kb": peak, "extra": measured.extra}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
