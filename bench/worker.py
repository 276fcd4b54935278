"""Runs one benchmark in this (fresh) process and prints its samples as JSON.

Invoked by the harness: `python -m bench.worker NAME main|reference CONTEXT_JSON`.
"""

from __future__ import annotations

import json
import sys

from bench.harness import Context, load_registry, peak_kb


def main() -> int:
    name, part, raw = sys.argv[1:4]
    ctx = Context(**json.loads(raw))
    bench = load_registry()[name]
    fn = bench.fn if part == "main" else bench.reference
    assert fn is not None
    samples = fn(ctx)
    print(json.dumps({"samples": samples, "peak_kb": peak_kb()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
