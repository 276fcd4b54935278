"""PostgreSQL: every name tier of a caller lookup in one statement.

`services.customers.find_callers` looks for a name tier by tier (starts with, a word starts
with, contains, alike despite typos; see `store.contact_search`) and stops at the first tier
after which it holds enough contacts. On SQLite each tier is a query of an in-process FTS5
table; on PostgreSQL each would be a round trip, and on a busy server every round trip waits
for the backend to be scheduled (a lookup with a typo took seven). Here the tiers are CTEs of
one statement, each gated by a one-time filter on how many distinct contacts the tiers before
it found: a tier that is not needed is never scanned, so the statement reads what the tier by
tier lookup read, in one round trip.

The conditions are those of `store.contact_search` (same indexes: the B-tree on
`lower(name)` for "starts with", the pg_trgm GIN index for the rest), with the patterns
written into the SQL as quoted literals for the same reason (`contact_search._literal`: a
generic plan of a prepared statement cannot see how selective a pattern is).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from itertools import product
from math import prod

from sqlalchemy import BindParameter, String, bindparam, text
from sqlalchemy.orm import Session

from tui_helpdesk.store.contact_search import MIN_PIECE, NameMatch, fuzzy_pieces
from tui_helpdesk.store.functions import like_escape

FUZZY = "fuzzy"  # the tier of names alike despite typos


class _Tier(enum.IntEnum):
    PREFIX = 1
    WORD = 2
    CONTAINS = 3
    FUZZY = 4


_TIER_OF = {
    NameMatch.PREFIX: _Tier.PREFIX,
    NameMatch.WORD: _Tier.WORD,
    NameMatch.CONTAINS: _Tier.CONTAINS,
}


class _Patterns:
    """LIKE patterns as bound parameters rendered as literals (`literal_execute`)."""

    def __init__(self) -> None:
        self.binds: list[BindParameter[str]] = []

    def __call__(self, pattern: str) -> str:
        name = f"pat{len(self.binds)}"
        self.binds.append(bindparam(name, pattern, type_=String(), literal_execute=True))
        return f":{name}"


def _condition(how: NameMatch, value: str, pattern: _Patterns) -> str:
    escaped = like_escape(value)
    if how is NameMatch.PREFIX:
        return f"lower(c.name) LIKE {pattern(escaped + '%')} ESCAPE '\\'"
    if how is NameMatch.WORD:
        return (
            f"(c.name ILIKE {pattern(f'% {escaped}%')} ESCAPE '\\' "
            f"OR c.name ILIKE {pattern(f'%-{escaped}%')} ESCAPE '\\')"
        )
    return f"c.name ILIKE {pattern(f'%{escaped}%')} ESCAPE '\\'"


DNF_TERMS = 8  # fuzzy conditions written as an OR of ANDs up to this many terms


def _fuzzy_condition(pieces: list[list[str]], pattern: _Patterns) -> str:
    """Every piece group matched (`contact_search.fuzzy_pieces`). Written as an OR of ANDs
    ("ros" and "mar", or "ros" and "rco", ...) while that stays small: each AND is then one
    scan of the trigram index, which intersects the pieces' posting lists itself, instead of
    one bitmap per piece over every name holding it (10,000-17,000 at 200,000 contacts),
    ANDed afterwards; about 40% less work for the same rows."""

    def like(piece: str) -> str:
        return f"c.name ILIKE {pattern(f'%{like_escape(piece)}%')} ESCAPE '\\'"

    if prod(len(alternatives) for alternatives in pieces) <= DNF_TERMS:
        terms = [" AND ".join(like(p) for p in combination) for combination in product(*pieces)]
        return "(" + " OR ".join(f"({term})" for term in terms) + ")"
    return " AND ".join(
        "(" + " OR ".join(like(piece) for piece in alternatives) + ")" for alternatives in pieces
    )


def name_tiers(
    session: Session,
    value: str,
    tiers: Sequence[NameMatch],
    per_tier: int,
    enough: int,
    fuzzy_scan: int,
) -> list[tuple[NameMatch | str, int, str]]:
    """(tier, contact id, name) of unmerged contacts whose name matches `value` (lower case)
    tier by tier, in the order of `tiers` then the fuzzy tier (`FUZZY`): up to `per_tier` a
    tier, `fuzzy_scan` for the fuzzy one (ordered by trigram similarity, as
    `contact_search.fuzzy_candidates`). A tier is read only while the tiers before it found
    fewer than `enough` distinct contacts. PostgreSQL only."""
    pattern = _Patterns()
    ctes: list[str] = []
    selects: list[str] = []
    names: list[str] = []

    def gate() -> str:
        if not names:
            return "TRUE"
        found = " UNION ".join(f"SELECT id FROM {n}" for n in names)
        return f"(SELECT count(*) FROM ({found}) f) < :enough"

    if len(value) >= MIN_PIECE:
        for how in tiers:
            tier = _TIER_OF[how]
            name = f"t{int(tier)}"
            ctes.append(
                f"{name} AS (SELECT c.id, c.name FROM contacts c WHERE {gate()} AND "
                f"{_condition(how, value, pattern)} AND c.merged_into_id IS NULL "
                "LIMIT :per_tier)"
            )
            selects.append(f"SELECT {int(tier)} AS tier, 0 AS n, id, name FROM {name}")
            names.append(name)
    pieces = fuzzy_pieces(value)
    if pieces:
        name = f"t{int(_Tier.FUZZY)}"
        ctes.append(
            f"{name} AS (SELECT s.id, s.name, row_number() OVER "
            "(ORDER BY similarity(s.name, :value) DESC, s.id) AS n FROM "
            f"(SELECT c.id, c.name FROM contacts c WHERE {gate()} AND "
            f"{_fuzzy_condition(pieces, pattern)} AND c.merged_into_id IS NULL "
            "LIMIT :scan) s)"
        )
        selects.append(f"SELECT {int(_Tier.FUZZY)} AS tier, n, id, name FROM {name}")
    if not selects:
        return []
    statement = text(
        "WITH "
        + ", ".join(ctes)
        + " SELECT tier, id, name FROM ("
        + " UNION ALL ".join(selects)
        + ") t ORDER BY tier, n"
    ).bindparams(*pattern.binds)
    rows = session.execute(
        statement,
        {"enough": enough, "per_tier": per_tier, "scan": fuzzy_scan, "value": value},
    )
    by_tier = {int(t): how for how, t in _TIER_OF.items()}
    return [
        (FUZZY if tier == _Tier.FUZZY else by_tier[tier], contact_id, name)
        for tier, contact_id, name in rows
    ]
