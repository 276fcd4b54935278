"""The shared SQL pieces on both back ends: percentiles like `percentile_cont` (and the
spreads of several columns in one query), buckets."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Float, Integer, column, literal, select, values

from tui_helpdesk.reports.periods import Bucket
from tui_helpdesk.reports.sql import (
    TOTAL,
    Spread,
    bucket_index,
    packed,
    percentiles,
    raw_rows,
    spreads,
    unpacked_spreads,
    wall_time,
)
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.types import UTCDateTime


def _cont(values_: list[float], p: float) -> float:
    """percentile_cont, by the book: linear between the two nearest ranks."""
    ordered = sorted(values_)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _source(groups: dict[int, list[int]]):  # type: ignore[no-untyped-def]
    data = [(k, v) for k, vs in groups.items() for v in vs]
    table = values(column("k", Integer), column("v", BigInteger), name="t").data(data).cte("t")
    return select(table.c.k.label("k"), table.c.v.label("v"))


@pytest.mark.parametrize(
    "groups",
    [
        {0: [7]},
        {0: [1, 2]},
        {0: [5400, 10800, 14400], 1: [3, 1, 2, 4]},
        {0: [10, 10, 10, 10, 10, 10, 10, 10, 10, 1000]},
    ],
)
def test_percentiles_match_percentile_cont(store: Store, groups: dict[int, list[int]]) -> None:
    with store.read() as s:
        got = percentiles(s, _source(groups))
    for k, vs in groups.items():
        assert got[k] == pytest.approx([_cont(vs, 0.5), _cont(vs, 0.9)])
        assert got[k][0] == pytest.approx(statistics.median(vs))


def test_percentiles_on_many_values(store: Store) -> None:
    @settings(max_examples=15, deadline=None)
    @given(st.lists(st.integers(-1000, 10**6), min_size=1, max_size=60))
    def check(vs: list[int]) -> None:
        with store.read() as s:
            got = percentiles(s, _source({3: vs}), (0.1, 0.5, 0.9, 1.0))
        assert got[3] == pytest.approx([_cont(vs, p) for p in (0.1, 0.5, 0.9, 1.0)])

    check()


@pytest.mark.parametrize("count", [1, 2, 7, 53])
def test_bucket_index_finds_each_instants_bucket(store: Store, count: int) -> None:
    """Buckets of uneven length (a 25-hour DST day first); instants on, just before and
    just after each edge land in the right one."""
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    edges = [start, start + timedelta(hours=25)]
    while len(edges) < count + 1:
        edges.append(edges[-1] + timedelta(hours=24))
    buckets = [Bucket(i, edges[i], edges[i + 1], str(i)) for i in range(count)]
    probes = []
    for b in buckets:
        probes += [(b.start, b.index), (b.start + timedelta(hours=3), b.index)]
        probes.append((b.end - timedelta(microseconds=1), b.index))
    table = values(column("t", UTCDateTime()), column("want", Integer), name="p").data(probes)
    p = table.cte("p")
    with store.read() as s:
        rows = s.execute(select(bucket_index(p.c.t, buckets), p.c.want)).all()
    assert [r[0] for r in rows] == [r[1] for r in rows]


def test_spreads_of_several_columns_with_tallies_and_a_total(store: Store) -> None:
    """One query gives each key's rows, each value column's percentiles and mean (NULLs
    left out), the counted-only columns, and the row over every key."""
    data = [(1, 10, 5.0, 1), (1, None, 1.0, None), (1, 30, 3.0, 1), (2, 7, 2.5, None)]
    table = (
        values(
            column("k", Integer),
            column("a", Integer),
            column("b", Float),
            column("c", Integer),
            name="t",
        )
        .data(data)
        .cte("t")
    )
    with store.read() as s:
        got = spreads(s, select(*table.c), (0.5, 1.0), total=True, tallies=1)
    assert got[1] == (3, (Spread(2, (20.0, 30.0), 20.0), Spread(3, (3.0, 5.0), 3.0),
                          Spread(2, (), None)))  # fmt: skip
    assert got[2] == (1, (Spread(1, (7.0, 7.0), 7.0), Spread(1, (2.5, 2.5), 2.5),
                          Spread(0, (), None)))  # fmt: skip
    assert got[TOTAL] == (4, (Spread(3, (10.0, 30.0), 47 / 3), Spread(4, (2.75, 5.0), 2.875),
                              Spread(2, (), None)))  # fmt: skip


def test_spreads_of_integer_columns_match_the_row_by_row_way(store: Store) -> None:
    """Integer values only (SQLite joins them in the database, `_concatenated_spreads`):
    the same spreads, tallies and total as with a float column, a NULL key included, and
    a constant key (no grouping) over rows and over none."""
    data = [(1, 10, 5, 1), (1, None, 1, None), (1, 30, 3, 1), (2, 7, -2, None), (None, 4, 4, 1)]
    table = (
        values(
            column("k", Integer),
            column("a", Integer),
            column("b", Integer),
            column("c", Integer),
            name="t",
        )
        .data(data)
        .cte("t")
    )
    with store.read() as s:
        got = spreads(s, select(*table.c), (0.5, 1.0), total=True, tallies=1)
        constant = spreads(s, select(literal(0), table.c.a, table.c.c), (0.5,), tallies=1)
        nothing = spreads(
            s, select(literal(0), table.c.a).where(table.c.k == 99), (0.5,), total=True
        )
    assert got[1] == (3, (Spread(2, (20.0, 30.0), 20.0), Spread(3, (3.0, 5.0), 3.0),
                          Spread(2, (), None)))  # fmt: skip
    assert got[2] == (1, (Spread(1, (7.0, 7.0), 7.0), Spread(1, (-2.0, -2.0), -2.0),
                          Spread(0, (), None)))  # fmt: skip
    assert got[None] == (1, (Spread(1, (4.0, 4.0), 4.0), Spread(1, (4.0, 4.0), 4.0),
                             Spread(1, (), None)))  # fmt: skip
    assert got[TOTAL] == (5, (Spread(4, (8.5, 30.0), 51 / 4), Spread(5, (3.0, 5.0), 11 / 5),
                              Spread(3, (), None)))  # fmt: skip
    assert constant == {0: (5, (Spread(4, (8.5,), 51 / 4), Spread(3, (), None)))}
    assert nothing == {TOTAL: (0, (Spread(0, (None,), None),))}


def test_packed_spreads_match_the_grouped_ones(store: Store) -> None:
    """SQLite's per-range way (`packed` in a scalar subquery per key, `unpacked_spreads`):
    the same spreads as `spreads` grouping the rows, a key without rows left out, and a
    total of the first column only (the other's has its count alone)."""
    if store.backend != "sqlite":
        pytest.skip("printf and group_concat: the SQLite way")
    data = [(1, 10, 5), (1, None, 1), (1, 30, 3), (2, 7, -2), (2, 7, 4)]
    table = (
        values(column("k", Integer), column("a", Integer), column("b", Integer), name="t")
        .data(data)
        .cte("t")
    )
    keys = values(column("i", Integer), name="keys").data([(1,), (2,), (3,)]).cte("keys")
    cell = select(packed([table.c.a, table.c.b])).where(table.c.k == keys.c.i)
    with store.read() as s:
        rows = raw_rows(s, select(keys.c.i, cell.scalar_subquery()))
        got = unpacked_spreads(rows, 2, 0, (0.5, 1.0), total=1)
        grouped = spreads(s, select(*table.c), (0.5, 1.0), total=True)
    assert set(got) == {1, 2, TOTAL}
    assert got[1] == grouped[1] and got[2] == grouped[2]
    n, (a, b) = got[TOTAL]
    assert (n, a) == (grouped[TOTAL][0], grouped[TOTAL][1][0])
    assert b == Spread(5, (None, None), None)


def test_integer_means_are_exact(store: Store) -> None:
    """Integers are summed as integers: the mean of large values is the exact quotient."""
    big = 10**15 + 1
    data = [(0, big), (0, big + 2), (0, 3)]
    table = values(column("k", Integer), column("v", BigInteger), name="t").data(data).cte("t")
    with store.read() as s:
        got = spreads(s, select(*table.c), (0.5,))
    assert got[0][1][0].mean == (2 * big + 5) / 3


def test_wall_time_is_exact(store: Store) -> None:
    """The wall time between two instants, to the millisecond on SQLite (no float noise of
    subtracting day numbers), as given on PostgreSQL."""
    start = datetime(2026, 3, 28, 23, 59, 59, tzinfo=UTC)
    pairs = [
        (start, start + timedelta(seconds=2, milliseconds=500)),
        (start, start + timedelta(days=400, milliseconds=1)),
        (start, start),
        (start + timedelta(hours=1), start),
    ]
    table = (
        values(column("a", UTCDateTime()), column("b", UTCDateTime()), name="t")
        .data(pairs)
        .cte("t")
    )
    with store.read() as s:
        wall, per_second = wall_time(s, table.c.b, table.c.a)
        got = [v / per_second for (v,) in s.execute(select(wall))]
    assert got == [2.5, 400 * 86400 + 0.001, 0.0, -3600.0]
