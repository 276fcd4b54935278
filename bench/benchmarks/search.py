"""Knowledge and customer benchmarks: knowledge search, suggestions while a ticket is typed,
and caller lookup by phone and by partial name (issue targets: p95 under 20 ms for search and
lookup, under 50 ms for suggestions, at 100,000 articles, 1,000,000 tickets and 200,000
contacts). Each call runs in its own read transaction, as the console's workers do; the inputs
rotate so no figure is one cached query.

A p95 of 20 samples is their largest but one, so a single hiccup of the machine decides it.
These calls are cheap: each benchmark here takes `SAMPLES_PER_REPEAT` times `--repeat` samples
(100 by default), after a warm-up that runs each kind of query once (its SQL compiled, as in a
console that has been open for a minute). Quick mode (the test suite) keeps `--repeat`."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from typing import Any

from bench import corpus
from bench.harness import Context, Samples, benchmark, timed

SAMPLES_PER_REPEAT = 5

# What agents type into the knowledge search: words, phrases, a word being typed, a typo,
# an exclusion and a filter.
KB_QUERIES = (
    "password reset",
    "printer jams",
    "vpn drops",
    "invoice vat",
    "laptop boot",
    "shared mailbox",
    "passw",
    "pasword expired",
    '"every few minutes"',
    "export pdf -blank",
    "printer tag:hardware-swap",
    "two-factor codes",
)


def _store(ctx: Context):  # type: ignore[no-untyped-def]
    from tui_helpdesk.store.engine import Store

    return Store(ctx.url)


def _rotating(values: list[Any]) -> Callable[[], Any]:
    cycle: Iterator[Any] = itertools.cycle(values)
    return lambda: next(cycle)


def _steady(run: Callable[[], object], ctx: Context, kinds: int) -> Samples:
    """Samples of `run` after a warm-up of `kinds` calls (one per kind of query)."""
    if ctx.quick:
        return timed(run, ctx.repeat)
    return timed(run, ctx.repeat * SAMPLES_PER_REPEAT, warmup=kinds)


@benchmark("kb_search", "knowledge search (words, prefix, typo, filters)", target="p95 < 20 ms")
def kb_search(ctx: Context) -> Samples:
    from tui_helpdesk.services.search import search_articles

    store = _store(ctx)
    query = _rotating(list(KB_QUERIES))

    def run() -> None:
        text = query()
        with store.read() as session:
            search_articles(session, text, typing=not text.endswith(" "), limit=20)

    return _steady(run, ctx, len(KB_QUERIES))


def _ticket_texts(count: int) -> list[tuple[str, str]]:
    """Subjects with 60-word descriptions made of the generator's own sentences."""
    rng = random.Random(7)
    subjects = [s for leaf in corpus.SUBJECTS.values() for s in leaf]
    texts = []
    for _ in range(count):
        words: list[str] = []
        while len(words) < 60:
            words += rng.choice(corpus.SENTENCES).split()
        texts.append((rng.choice(subjects), " ".join(words[:60])))
    return texts


@benchmark("suggest", "suggestions for a ticket being typed (60 words)", target="p95 < 50 ms")
def suggest(ctx: Context) -> Samples:
    from tui_helpdesk.services.search import suggest as suggest_for

    store = _store(ctx)
    texts = _ticket_texts(20)
    text = _rotating(texts)

    def run() -> None:
        subject, description = text()
        with store.read() as session:
            suggest_for(session, subject, description)

    return _steady(run, ctx, len(texts))


def _sample_contacts(ctx: Context, count: int) -> list[tuple[str, str]]:
    from sqlalchemy import text

    store = _store(ctx)
    with store.read() as session:
        total = session.execute(text("SELECT max(id) FROM contacts")).scalar() or 1
        step = max(1, total // count)
        return [
            (row[0], row[1])
            for row in session.execute(
                text("SELECT name, phone FROM contacts WHERE id % :step = 0 LIMIT :count"),
                {"step": step, "count": count},
            )
        ]


def _spoken(phone: str, n: int) -> str:
    """An E.164 number the way a caller gives it: with spaces, dashes or 00 for +."""
    digits = phone[1:]
    style = n % 3
    if style == 0:
        return f"+{digits[:2]} {digits[2:4]} {digits[4:8]} {digits[8:]}"
    if style == 1:
        return f"00{digits[:2]}-{digits[2:5]}-{digits[5:]}"
    return f"(+{digits[:2]}) {digits[2:]}"


@benchmark("caller_by_phone", "caller lookup by phone number (any format)", target="p95 < 20 ms")
def caller_by_phone(ctx: Context) -> Samples:
    from tui_helpdesk.services.customers import find_callers

    store = _store(ctx)
    phones = [_spoken(phone, i) for i, (_name, phone) in enumerate(_sample_contacts(ctx, 50))]
    phone = _rotating(phones)

    def run() -> None:
        with store.read() as session:
            assert find_callers(session, phone(), "IT", limit=10)

    return _steady(run, ctx, 3)  # the three ways of writing a number


@benchmark("caller_by_name", "caller lookup by partial or misspelt name", target="p95 < 20 ms")
def caller_by_name(ctx: Context) -> Samples:
    from tui_helpdesk.services.customers import find_callers

    store = _store(ctx)
    names = []
    for i, (name, _phone) in enumerate(_sample_contacts(ctx, 50)):
        first, _, last = name.partition(" ")
        if i % 3 == 0:
            names.append(last[:4])  # the start of a surname
        elif i % 3 == 1:
            names.append(f"{first} {last[:-2] + last[-1] + last[-2]}")  # two letters swapped
        else:
            names.append(name)
    name = _rotating(names)

    def run() -> None:
        with store.read() as session:
            find_callers(session, name(), "IT", limit=10)

    return _steady(run, ctx, 3)  # a surname's start, a typo, a full name
