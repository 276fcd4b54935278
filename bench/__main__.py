"""`python -m bench`: run the registered benchmarks and print a table per benchmark.

    python -m bench [--size 10k|100k|1m] [--backend sqlite|postgres] [--only NAME] [--json]
                    [--quick] [--repeat N]

Generated desks are cached per size (bench/.cache for SQLite, a `hd_bench_<size>` database on
the PostgreSQL server named by HELPDESK_BENCH_POSTGRES_URL or HELPDESK_TEST_POSTGRES_URL).
Results are also saved as JSON with the machine's description in bench/results/.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import compileall
import json
import sys
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.harness import (
    SIZES,
    STALE_CHOICES,
    Context,
    Result,
    ensure_desk,
    load_registry,
    run_benchmark,
    save,
)

BACKENDS = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}


def _table(result: Result) -> Table:
    """One benchmark: its figures, and the reference's measured in the same run."""
    table = Table(title=f"{result.name}: {result.what}", title_justify="left")
    if result.extra:
        table.caption = ", ".join(f"{key}: {value}" for key, value in result.extra.items())
        table.caption_justify = "left"
    table.add_column("measured")
    for column in ("back end", "size", "median", "p95", "peak mem", "ratio"):
        table.add_column(column, justify="right")
    table.add_column("target")
    table.add_row(
        "this",
        result.backend,
        result.size,
        f"{result.median_ms:.2f} ms",
        f"{result.p95_ms:.2f} ms",
        f"{result.peak_mb:.0f} MB",
        f"{result.ratio:.2f}" if result.ratio is not None else "-",
        result.target or "-",
    )
    if result.reference_median_ms is not None:
        table.add_row(
            f"reference: {result.reference_what}",
            result.backend,
            "",
            f"{result.reference_median_ms:.2f} ms",
            "",
            "",
            "1.00",
            "",
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="10k")
    parser.add_argument(
        "--backend", action="append", choices=sorted(BACKENDS), help="repeatable; default: sqlite"
    )
    parser.add_argument("--only", action="append", metavar="NAME", help="repeatable")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--quick", action="store_true", help="few repetitions (for CI)")
    parser.add_argument("--repeat", type=int, help="samples per benchmark (default 20, quick 3)")
    parser.add_argument(
        "--stale",
        choices=STALE_CHOICES,
        help="a cached desk made by other code: generate it again, or keep it (brought to the "
        "current schema); by default only a 10k desk is generated again",
    )
    args = parser.parse_args(argv)

    registry = load_registry()
    names = args.only or list(registry)
    unknown = [n for n in names if n not in registry]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(registry)})")
    backends = [BACKENDS[b] for b in (args.backend or ["sqlite"])]
    repeat = args.repeat or (3 if args.quick else 20)
    err = Console(stderr=True)
    out = Console()
    # The whole-process benchmarks time the product as installed, whose modules are compiled
    # once (pip does it at install, as it did for the reference's SQLAlchemy and Typer): an
    # environment with PYTHONDONTWRITEBYTECODE would otherwise compile them in every run.
    compileall.compile_dir(Path(__file__).resolve().parents[1] / "tui_helpdesk", quiet=1)
    results: list[Result] = []
    for backend in backends:
        url = ensure_desk(
            backend, args.size, log=lambda line: err.print(line, markup=False), stale=args.stale
        )
        ctx = Context(
            backend=backend,
            size=args.size,
            tickets=SIZES[args.size],
            url=url,
            repeat=repeat,
            quick=args.quick,
        )
        for name in names:
            result = run_benchmark(registry[name], ctx)
            results.append(result)
            if not args.json:
                out.print(_table(result))
    path = save(results, args.size, backends)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        err.print(f"results saved to {path}", markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
