"""The benchmark harness: a registry, a runner that measures each benchmark in a fresh
process (so peak memory is that benchmark's own), cached generated desks, and reports.

A benchmark is a function of a `Context` returning its samples (seconds per operation), or a
`Measurement` when it knows better than the worker what its peak memory is (the process it
timed) or has figures to show beside the times; it may declare a reference measured in the
same run (the ratio is printed) and a target (printed, never asserted). Register new ones in
a module listed in `BENCHMARK_MODULES`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

BENCH_DIR = Path(__file__).resolve().parent
CACHE_ENV = "HELPDESK_BENCH_CACHE"  # where generated desks and results go (default bench/)
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
BENCHMARK_MODULES = (
    "bench.benchmarks.core",
    "bench.benchmarks.escalate",
    "bench.benchmarks.search",
    "bench.benchmarks.mail",
    "bench.benchmarks.outbox",
    "bench.benchmarks.console",
    "bench.benchmarks.reports",
)
GENERATOR_FILES = (
    "generate.py",
    "tickets.py",
    "reference.py",
    "rows.py",
    "clocks.py",
    "corpus.py",
    "rules.toml",
)
POSTGRES_ENV = "HELPDESK_BENCH_POSTGRES_URL"
FALLBACK_POSTGRES_ENV = "HELPDESK_TEST_POSTGRES_URL"


@dataclass(frozen=True)
class Context:
    backend: str
    size: str
    tickets: int
    url: str
    repeat: int
    quick: bool


Samples = list[float]


@dataclass(frozen=True)
class Measurement:
    """Samples, with the peak memory of what was measured (KB; None: this worker's own and
    its children's) and figures to print beside the times (counts, the instant used)."""

    samples: Samples
    peak_kb: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


BenchmarkFn = Callable[[Context], Samples | Measurement]


@dataclass(frozen=True)
class Benchmark:
    name: str
    what: str
    fn: BenchmarkFn
    target: str | None = None
    reference: Callable[[Context], Samples] | None = None
    reference_what: str | None = None


REGISTRY: dict[str, Benchmark] = {}


def benchmark(
    name: str,
    what: str,
    *,
    target: str | None = None,
    reference: Callable[[Context], Samples] | None = None,
    reference_what: str | None = None,
) -> Callable[[BenchmarkFn], BenchmarkFn]:
    def register(fn: BenchmarkFn) -> BenchmarkFn:
        REGISTRY[name] = Benchmark(name, what, fn, target, reference, reference_what)
        return fn

    return register


def load_registry() -> dict[str, Benchmark]:
    for module in BENCHMARK_MODULES:
        importlib.import_module(module)
    return REGISTRY


def timed(fn: Callable[[], object], repeat: int, warmup: int = 1) -> Samples:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


# --- generated desks, cached ---------------------------------------------------------------


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or BENCH_DIR / ".cache")


def results_dir() -> Path:
    return (
        Path(os.environ[CACHE_ENV]) / "results"
        if os.environ.get(CACHE_ENV)
        else (BENCH_DIR / "results")
    )


def _postgres_database(size: str) -> str:
    """`hd_bench_<size>`, or one of its own for a non-default cache (tests, parallel runs)."""
    if not os.environ.get(CACHE_ENV):
        return f"hd_bench_{size}"
    suffix = hashlib.sha256(str(cache_dir()).encode()).hexdigest()[:8]
    return f"hd_bench_{size}_{suffix}"


def _generator_fingerprint() -> str:
    """Changes when the generator, its rules, the rules engine that computes the clocks or the
    schema changes, so stale caches are rebuilt."""
    digest = hashlib.sha256()
    files = [BENCH_DIR / name for name in GENERATOR_FILES]
    package = BENCH_DIR.parent / "tui_helpdesk"
    files += sorted((package / "rules").glob("*.py"))
    files += sorted((package / "store" / "migrations" / "versions").glob("*.py"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def postgres_server_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or os.environ.get(FALLBACK_POSTGRES_ENV)


def desk_url(backend: str, size: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{cache_dir() / f'desk-{size}.db'}"
    server = postgres_server_url()
    if not server:
        raise SystemExit(
            f"PostgreSQL benchmarks need a server: set {POSTGRES_ENV}="
            "postgresql://postgres@127.0.0.1:5432/test (a role allowed to CREATE DATABASE)"
        )
    return (
        make_url(server)
        .set(database=_postgres_database(size))
        .render_as_string(hide_password=False)
    )


STALE_CHOICES = ("regenerate", "keep")
REGENERATE_QUIETLY = {"10k"}  # sizes rebuilt without asking when stale (seconds, not minutes)


def ensure_desk(
    backend: str, size: str, log: Callable[[str], None], stale: str | None = None
) -> str:
    """The URL of a generated desk of `size`, generating it when missing.

    A cached desk made by other generator, rules or schema code (another fingerprint) is
    rebuilt only when that is quick or asked for (`stale="regenerate"`): a big one takes
    minutes, and someone may be measuring on it. `stale="keep"` measures it as it is, brought
    to the current schema; with neither, a big stale desk stops the run with a message."""
    from bench.generate import generate

    cache_dir().mkdir(parents=True, exist_ok=True)
    url = desk_url(backend, size)
    marker = cache_dir() / f"desk-{backend}-{size}.json"
    fingerprint = _generator_fingerprint()
    if marker.exists():
        made_by = json.loads(marker.read_text()).get("fingerprint")
        if made_by == fingerprint:
            return url
        choice = stale or ("regenerate" if size in REGENERATE_QUIETLY else None)
        if choice is None:
            raise SystemExit(
                f"the cached {size} desk on {backend} was made by other generator, rules or "
                f"schema code ({made_by}, now {fingerprint}); generating it again takes "
                "minutes: pass --stale regenerate to do so, or --stale keep to measure it as "
                "it is, brought to the current schema"
            )
        if choice == "keep":
            _upgrade(url)
            log(f"using the cached {size} desk on {backend} made by other code ({made_by})")
            return url
    if backend == "postgresql":
        _create_database(url)
    log(f"generating the {size} desk on {backend} (cached for later runs)...")
    result = generate(url, SIZES[size], replace=True, log=lambda line: log(f"  {line}"))
    marker.write_text(json.dumps({"fingerprint": fingerprint, **result}))
    log(f"  done in {result['seconds']}s")
    return url


def _upgrade(url: str) -> None:
    from tui_helpdesk.store import migrate
    from tui_helpdesk.store.engine import Store

    store = Store(url)
    try:
        migrate.upgrade(store)
    finally:
        store.dispose()


def drop_desk(backend: str, size: str) -> None:
    """Forget a cached desk (its PostgreSQL database, its SQLite file and marker)."""
    url = desk_url(backend, size)
    (cache_dir() / f"desk-{backend}-{size}.json").unlink(missing_ok=True)
    if backend == "sqlite":
        Path(make_url(url).database or "").unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(
        make_url(url).set(database=make_url(postgres_server_url() or "").database or "postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _create_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    parsed = make_url(url)
    admin = create_engine(
        parsed.set(database=make_url(postgres_server_url() or "").database or "postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


# --- running ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    what: str
    backend: str
    size: str
    samples: int
    median_ms: float
    p95_ms: float
    peak_mb: float
    target: str | None = None
    reference_what: str | None = None
    reference_median_ms: float | None = None
    ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def percentile(samples: Samples, q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_in_worker(name: str, ctx: Context, part: str) -> tuple[Samples, float, dict[str, Any]]:
    """Run one benchmark (or its reference) in a fresh process; (samples, peak MB, extra)."""
    command = [sys.executable, "-m", "bench.worker", name, part, json.dumps(asdict(ctx))]
    done = subprocess.run(command, stdout=subprocess.PIPE, cwd=BENCH_DIR.parent, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark {name} ({part}) failed with exit status {done.returncode}")
    payload = json.loads(done.stdout)
    return payload["samples"], payload["peak_kb"] / 1024, payload.get("extra", {})


def run_benchmark(bench: Benchmark, ctx: Context) -> Result:
    samples, peak, extra = run_in_worker(bench.name, ctx, "main")
    result = Result(
        name=bench.name,
        what=bench.what,
        backend=ctx.backend,
        size=ctx.size,
        samples=len(samples),
        median_ms=statistics.median(samples) * 1000,
        p95_ms=percentile(samples, 0.95) * 1000,
        peak_mb=round(peak, 1),
        target=bench.target,
        extra=extra,
    )
    if bench.reference is not None:
        ref_samples, _, _ = run_in_worker(bench.name, ctx, "reference")
        result.reference_what = bench.reference_what
        result.reference_median_ms = statistics.median(ref_samples) * 1000
        result.ratio = round(result.median_ms / result.reference_median_ms, 2)
    return result


def peak_kb() -> int:
    """Peak resident memory of this process and of the processes it ran and waited for.

    This process's own peak is its `VmHWM`, which starts afresh at exec (`ru_maxrss` would
    carry the high-water mark of the process that forked it)."""
    own = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            own = int(line.split()[1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children)


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    import sqlite3

    return {
        "commit": _commit(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


def _commit() -> str | None:
    """The code measured: the checked-out commit, "+" when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if changed else "")


def save(results: list[Result], size: str, backends: list[str]) -> Path:
    results_dir().mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results_dir() / f"{stamp}-{size}-{'-'.join(backends)}.json"
    path.write_text(
        json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=2)
    )
    return path
