"""The escalation benchmark's SQLite copies come from a desk whose full-text indexes are
merged, made once from the cached desk, which is only read."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bench import harness
from bench.benchmarks import escalate
from bench.generate import SQLITE_FTS, generate


def _varint(block: bytes, at: int) -> tuple[int, int]:
    """An SQLite varint of `block` at `at`: (its value, where the next one starts)."""
    value = 0
    for i in range(9):
        byte = block[at]
        at += 1
        if i == 8:
            return (value << 8) | byte, at
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return value, at


def _segments(path: Path, index: str) -> int:
    """How many segments an FTS5 index has (its structure record: a 4-byte cookie, then the
    number of levels and of segments)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        block = connection.execute(f"SELECT block FROM {index}_data WHERE id = 10").fetchone()[0]
    _levels, at = _varint(block, 4)
    return _varint(block, at)[0]


def _matches(path: Path, word: str) -> int:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        query = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?"
        return int(connection.execute(query, (word,)).fetchone()[0])


def _a_word(path: Path) -> str:
    """A word of the desk's messages (the first letters of the last message)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        body = connection.execute("SELECT body FROM messages ORDER BY id DESC").fetchone()[0]
    return "".join(c for c in body.split()[0] if c.isalpha()) or "a"


def test_runs_copy_a_desk_with_merged_search_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(harness.CACHE_ENV, str(tmp_path))
    desk = tmp_path / "desk.db"
    generate(f"sqlite:///{desk}", 1_000, seed=2)
    before = desk.stat()
    ctx = harness.Context(
        backend="sqlite", size="1k", tickets=1_000, url=f"sqlite:///{desk}", repeat=1, quick=True
    )
    copies = escalate.Copies(ctx, merged_search=True)
    copies.fresh()
    merged = tmp_path / "escalate-search-merged-1k.db"
    assert merged.exists()
    made = merged.stat().st_mtime_ns
    for index in SQLITE_FTS:
        assert _segments(merged, index) == 1
    word = _a_word(desk)
    assert _matches(copies.path, word) == _matches(desk, word) > 0
    copies.fresh()  # the next run's copy: from the same merged desk, not made again
    assert merged.stat().st_mtime_ns == made
    copies.drop()
    assert not copies.path.exists() and merged.exists()
    after = desk.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
