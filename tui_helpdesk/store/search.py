"""Full-text search SQL, per back end, behind one interface.

`services.search` decides what to look for (a parsed query, typo corrections, suggestion
keywords) and hands over a `Match`; this module turns it into SQL for the back end and returns
plain rows with highlighted fragments. SQLite: FTS5 MATCH expressions in which every token is
a double-quoted string, BM25 ranking. PostgreSQL: tsquery built from
`plainto_tsquery`/`phraseto_tsquery`/`to_tsquery(... ':*')` over bound parameters, `ts_rank`.
No user text is ever spliced into SQL: tokens are bound as parameters (PostgreSQL) or quoted
FTS strings of word characters only, themselves bound as one parameter (SQLite). Both rank
the newest POOL matches at most; PostgreSQL looks for the newest articles in windows of ids
(`_Postgres.windows`), since its GIN index hands matches over in no order. The schema is in
migrations 0004 and 0007 (see `store.search_schema`).

The page of hits is then marked in Python, the same way on both back ends (`_Marker`):
matched words wrapped in MARK_START/MARK_END (control characters that `text.clean` removes
from stored text, so stored text cannot forge them), and a snippet around the first match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import compress
from typing import Any, Protocol, cast

from sqlalchemy import Float, Integer, bindparam, column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tui_helpdesk.store.models import Article, Category
from tui_helpdesk.text import clean

MARK_START = "\x02"
MARK_END = "\x03"
# Ranking looks at the newest POOL matches at most (per index), so a query made of common
# words costs the same on a desk of any size; below that, every match is ranked.
POOL = 500
# PostgreSQL: a GIN index hands matches over in no order, so finding the newest POOL means
# reading every match. Articles are searched newest first instead, in a window of ids sized
# from the planner's statistics to hold about WINDOW_MARGIN x POOL matches, widened
# WINDOW_GROWTH times over while it holds fewer (`_Postgres.windows`).
WINDOW_MARGIN = 2.0
WINDOW_GROWTH = 4


@dataclass(frozen=True)
class Alt:
    """One way a clause can match: a word, a word's beginning, or a phrase."""

    words: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Match:
    """What to find: every clause (or, with `any_of`, at least one) matches, where a clause
    matches when any of its alternatives does; nothing of `excluded` occurs."""

    clauses: tuple[tuple[Alt, ...], ...]
    excluded: tuple[Alt, ...] = ()
    any_of: bool = False


@dataclass(frozen=True)
class ArticleFilter:
    tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()  # a path, or the start of one ("Technical")
    published_only: bool = False
    public_only: bool = False


@dataclass(frozen=True)
class TicketFilter:
    tags: tuple[str, ...] = ()
    excluded_tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    subjects_only: bool = False  # match ticket subjects alone (similar tickets)


@dataclass(frozen=True)
class ArticleFacts:
    """What a hit shows of its article besides the marked text, read with that text."""

    category: str | None  # the category's path
    tags: list[str]
    status: str
    visibility: str
    helpful: int
    not_helpful: int
    updated_at: datetime


@dataclass(frozen=True)
class ArticleRow:
    id: int
    score: float
    title: str  # marked
    snippet: str  # marked
    facts: ArticleFacts


@dataclass(frozen=True)
class TicketRow:
    id: int
    score: float
    subject: str  # marked
    snippet: str  # marked; "" when only the subject matched


@dataclass
class _Sql:
    """A WHERE fragment and its parameters, built clause by clause."""

    parts: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


class SearchBackend(Protocol):
    def known(
        self, session: Session, words: Sequence[tuple[str, bool]], plan: Match | None = None
    ) -> set[tuple[str, bool]]: ...

    def candidates(self, session: Session, word: str) -> list[str]: ...

    def frequencies(
        self, session: Session, source: str, words: Sequence[str], cap: int
    ) -> dict[str, int | None]: ...

    def articles(
        self, session: Session, match: Match, where: ArticleFilter, limit: int
    ) -> list[ArticleRow]: ...

    def tickets(
        self, session: Session, match: Match, where: TicketFilter, limit: int
    ) -> list[TicketRow]: ...

    def browse_articles(
        self, session: Session, excluded: Match, where: ArticleFilter, limit: int
    ) -> list[ArticleRow]: ...

    def browse_tickets(
        self, session: Session, excluded: Match, where: TicketFilter, limit: int
    ) -> list[TicketRow]: ...


def backend_for(session: Session) -> SearchBackend:
    name = session.get_bind().dialect.name
    return _SQLITE if name == "sqlite" else _POSTGRES


def _category_filter(sql: _Sql, column: str, categories: Sequence[str]) -> None:
    """The category is the given path or below it, case-insensitively."""
    for category in categories:
        exact = sql.param(category.lower())
        below = sql.param(category.lower().replace("\\", "\\\\").replace("%", "\\%") + " > %")
        sql.parts.append(
            f"EXISTS (SELECT 1 FROM categories c WHERE c.id = {column} AND "
            f"(lower(c.path) = {exact} OR lower(c.path) LIKE {below} ESCAPE '\\'))"
        )


def _ticket_filters(sql: _Sql, where: TicketFilter) -> None:
    for tag in where.tags:
        sql.parts.append(
            "EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = "
            f"{sql.param(tag)})"
        )
    for tag in where.excluded_tags:
        sql.parts.append(
            "NOT EXISTS (SELECT 1 FROM ticket_tags tt WHERE tt.ticket_id = t.id AND tt.tag = "
            f"{sql.param(tag)})"
        )
    _category_filter(sql, "t.category_id", where.categories)
    if where.statuses:
        names = ", ".join(sql.param(s) for s in where.statuses)
        sql.parts.append(f"t.status IN ({names})")


def _article_filters(sql: _Sql, where: ArticleFilter, tag_exists: str) -> None:
    for tag in where.tags:
        sql.parts.append(tag_exists.format(sql.param(tag)))
    for tag in where.excluded_tags:
        sql.parts.append("NOT " + tag_exists.format(sql.param(tag)))
    _category_filter(sql, "a.category_id", where.categories)
    if where.published_only:
        sql.parts.append("a.status = 'published'")
    if where.public_only:
        sql.parts.append("a.visibility = 'public'")


def _conditions(sql: _Sql) -> str:
    return "".join(f" AND {part}" for part in sql.parts)


# --- SQLite FTS5 --------------------------------------------------------------------------


def _fts_alt(alt: Alt) -> str:
    quoted = '"' + " ".join(alt.words).replace('"', '""') + '"'
    return quoted + ("*" if alt.prefix else "")


def _fts_clause(alts: Sequence[Alt]) -> str:
    if len(alts) == 1:
        return _fts_alt(alts[0])
    return "(" + " OR ".join(_fts_alt(a) for a in alts) + ")"


def fts5_expression(match: Match) -> str:
    """The FTS5 MATCH string of `match` (every token a quoted string)."""
    joiner = " OR " if match.any_of else " AND "
    expression = joiner.join(_fts_clause(c) for c in match.clauses)
    if match.excluded:
        expression = f"({expression})" + "".join(f" NOT {_fts_alt(a)}" for a in match.excluded)
    return expression


# Split on words, keeping them: separators at even positions, words at odd ones.
_WORDS = re.compile(r"(\w+)")
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")
SNIPPET_WORDS = 24


def _crude_stem(word: str) -> str:
    """Enough of a stem to mark "passwords" for "password": marking only, never matching."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


class _Marker:
    """Marks the words of `match` in stored text, in Python: FTS5's highlight() and
    snippet() evaluate the whole query again for every row (a prefix term merges all its
    words' postings each time: ~2 ms a row on 100,000 articles), so the SQLite back end
    ranks in SQL and marks here. Stemming is approximate; it only decides what is marked.

    A page of hits is about 2,000 words: the text is split once into separators and words
    (`_WORDS`), each distinct word is decided once (`_hits`), and the snippet is joined from
    the pieces it keeps, with no second pass over its text (half the CPU time of marking
    each word through `re.sub`, then the snippet again)."""

    def __init__(self, match: Match) -> None:
        alts = [alt for clause in match.clauses for alt in clause]
        self.prefixes = tuple(alt.words[-1] for alt in alts if alt.prefix) or ("\0",)
        self.stems = {_crude_stem(w) for alt in alts for w in alt.words}
        # A word's stem begins it: a word that begins with no stem and no prefix (most of
        # them) is decided by one `startswith`, without being stemmed.
        self._starts = (*self.prefixes, *self.stems)
        self._seen: dict[str, bool] = {}

    def _hits(self, words: list[str]) -> list[bool]:
        """Whether each word is marked (a page of hits repeats its words: each is decided
        once)."""
        seen = self._seen
        for word in words:
            if word not in seen:
                low = word.lower()
                seen[word] = low.startswith(self._starts) and (
                    low.startswith(self.prefixes) or _crude_stem(low) in self.stems
                )
        return [seen[word] for word in words]

    @staticmethod
    def _join(parts: list[str], hits: list[bool], first: int, last: int) -> str:
        """Words `first`..`last` of split text (`parts`) with the separators between them,
        the hit ones between MARK_START and MARK_END (few are: only those are visited)."""
        pieces = parts[2 * first + 1 : 2 * last + 2]
        for i in compress(range(first, last + 1), hits[first : last + 1]):
            pieces[2 * (i - first)] = f"{MARK_START}{pieces[2 * (i - first)]}{MARK_END}"
        return "".join(pieces)

    def whole(self, text: str) -> str:
        # Cleaned first: marks put inside a terminal sequence (a link's hidden address)
        # would break it up, and its payload would then show as text.
        parts = _WORDS.split(clean(text))
        if len(parts) == 1:
            return parts[0]
        words = parts[1::2]
        return parts[0] + self._join(parts, self._hits(words), 0, len(words) - 1) + parts[-1]

    def snippet(self, text: str, words: int = SNIPPET_WORDS) -> tuple[str, int]:
        """About `words` words around the first marked one, with "…" where text was cut;
        and how many words are marked in it (to pick a ticket's best message)."""
        parts = _WORDS.split(clean(text))
        count = len(parts) // 2
        if not count:
            return "", 0
        hits = self._hits(parts[1::2])
        hit = hits.index(True) if True in hits else 0
        first = max(0, min(hit - words // 3, count - words))
        last = min(count, first + words) - 1
        inside = hits[first : last + 1].count(True)
        body = self._join(parts, hits, first, last)
        # Text before the first word and after the last one is kept when they are shown.
        before = parts[0] if first == 0 else "…"
        after = parts[-1] if last == count - 1 else "…"
        return before + body + after, inside


_ARTICLE_TEXT = (
    Article.title,
    Article.body,
    Article.tags,
    Article.status,
    Article.visibility,
    Article.helpful,
    Article.not_helpful,
    Article.updated_at,
    Category.path,
)


# The same, for a textual select over `articles a LEFT JOIN categories c`: the columns with
# their model types (enums, UTC timestamps), in order.
_ARTICLE_TEXT_COLUMNS = tuple(attr.property.columns[0] for attr in _ARTICLE_TEXT)
_ARTICLE_TEXT_SQL = ", ".join(
    f"{'c' if col.table.name == 'categories' else 'a'}.{col.name}" for col in _ARTICLE_TEXT_COLUMNS
)
_RANKED_COLUMNS = (column("id", Integer), column("score", Float), column("pooled", Integer))


def _article_text(row: Any) -> tuple[str, str, ArticleFacts]:
    """The title, body and facts of a row that selected `_ARTICLE_TEXT`."""
    return (
        row.title,
        row.body,
        ArticleFacts(
            category=row.path,
            tags=list(row.tags or []),
            status=row.status.value,
            visibility=row.visibility.value,
            helpful=row.helpful,
            not_helpful=row.not_helpful,
            updated_at=row.updated_at,
        ),
    )


def _read_articles(
    session: Session, ids: Sequence[int]
) -> dict[int, tuple[str, str, ArticleFacts]]:
    """The title, body and facts of the articles `ids` (those that still exist), in one
    select: the page of hits costs one statement besides the ranking."""
    rows = session.execute(
        select(Article.id, *_ARTICLE_TEXT)
        .outerjoin(Category, Category.id == Article.category_id)
        .where(Article.id.in_(ids))
    )
    return {r.id: _article_text(r) for r in rows}


def _marked_articles(
    session: Session,
    match: Match,
    top: Sequence[tuple[int, float]],
    read: dict[int, tuple[str, str, ArticleFacts]] | None = None,
) -> list[ArticleRow]:
    """The ranked (id, score) pairs with their title and a snippet of the body marked; the
    articles' text is read unless given (`read`)."""
    marker = _Marker(match)
    found = read if read is not None else _read_articles(session, [id for id, _score in top])
    return [
        ArticleRow(id, score, marker.whole(title), marker.snippet(body)[0], facts)
        for id, score in top
        if id in found
        for title, body, facts in (found[id],)
    ]


def _marked_tickets(
    session: Session, match: Match, top: Sequence[tuple[int, float]], with_messages: bool
) -> list[TicketRow]:
    """The ranked (ticket id, score) pairs with the subject marked, and a snippet of the
    message with the most marked words."""
    ids = [row[0] for row in top]
    marker = _Marker(replace(match, excluded=()))
    subjects = dict(
        session.execute(
            text("SELECT id, subject FROM tickets WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).all()
    )
    snippets: dict[int, tuple[int, str]] = {}
    if with_messages:
        for ticket_id, body in session.execute(
            text(
                "SELECT ticket_id, body FROM messages WHERE ticket_id IN :ids ORDER BY id"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        ):
            snippet, marked = marker.snippet(body)
            if marked and marked > snippets.get(ticket_id, (0, ""))[0]:
                snippets[ticket_id] = (marked, snippet)
    return [
        TicketRow(
            ticket_id,
            score,
            marker.whole(subjects.get(ticket_id, "")),
            snippets.get(ticket_id, (0, ""))[1],
        )
        for ticket_id, score in top
    ]


class _Browsing:
    """Filters alone (`tag:vpn -printer`): the most recently updated rows, for both back
    ends; each says how to leave out rows whose text has an excluded word."""

    _TAG = ""

    def _not_matching(self, sql: _Sql, excluded: Match, table: str, alias: str) -> None:
        raise NotImplementedError

    def browse_articles(
        self, session: Session, excluded: Match, where: ArticleFilter, limit: int
    ) -> list[ArticleRow]:
        sql = _Sql()
        _article_filters(sql, where, self._TAG)
        self._not_matching(sql, excluded, "articles", "a")
        ids = session.scalars(
            text(
                f"SELECT a.id FROM articles a WHERE 1 = 1{_conditions(sql)} "
                "ORDER BY a.updated_at DESC, a.id DESC LIMIT :limit"
            ),
            {**sql.params, "limit": limit},
        ).all()
        found = _read_articles(session, ids)
        return [
            ArticleRow(id, 0.0, title, "", facts)
            for id in ids
            if id in found
            for title, _body, facts in (found[id],)
        ]

    def browse_tickets(
        self, session: Session, excluded: Match, where: TicketFilter, limit: int
    ) -> list[TicketRow]:
        sql = _Sql()
        _ticket_filters(sql, where)
        self._not_matching(sql, excluded, "tickets", "t")
        rows = session.execute(
            text(
                f"SELECT t.id, t.subject FROM tickets t WHERE 1 = 1{_conditions(sql)} "
                "ORDER BY t.updated_at DESC, t.id DESC LIMIT :limit"
            ),
            {**sql.params, "limit": limit},
        )
        return [TicketRow(r[0], 0.0, r[1], "") for r in rows]


class _Sqlite(_Browsing):
    _TAG = "EXISTS (SELECT 1 FROM json_each(a.tags) j WHERE j.value = {})"

    def _not_matching(self, sql: _Sql, excluded: Match, table: str, alias: str) -> None:
        if excluded.clauses:
            expression = sql.param(fts5_expression(excluded))
            sql.parts.append(
                f"{alias}.id NOT IN (SELECT rowid FROM {table}_fts "
                f"WHERE {table}_fts MATCH {expression})"
            )

    def known(
        self, session: Session, words: Sequence[tuple[str, bool]], plan: Match | None = None
    ) -> set[tuple[str, bool]]:
        """The (word, prefix) pairs that some article or ticket subject contains (`plan`, the
        article search that may follow, is for PostgreSQL)."""
        found = set()
        for word, prefix in words:
            hit = session.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :m) "
                    "OR EXISTS (SELECT 1 FROM tickets_fts WHERE tickets_fts MATCH :m)"
                ),
                {"m": _fts_alt(Alt((word,), prefix=prefix))},
            ).scalar()
            if hit:
                found.add((word, prefix))
        return found

    def candidates(self, session: Session, word: str) -> list[str]:
        """Indexed words (stems) that may be `word` mistyped: the same first two letters and a
        similar length (a range scan of the FTS vocabularies, which count every document of
        each word they pass: two letters keep that to a few hundred words)."""
        low, high = word[:2], word[:1] + chr(ord(word[1]) + 1)
        rows = session.execute(
            text(
                "SELECT term FROM articles_fts_vocab WHERE term >= :lo AND term < :hi "
                "AND length(term) BETWEEN :short AND :long "
                "UNION SELECT term FROM tickets_fts_vocab WHERE term >= :lo AND term < :hi "
                "AND length(term) BETWEEN :short AND :long"
            ),
            {"lo": low, "hi": high, "short": len(word) - 2, "long": len(word) + 2},
        )
        return [row[0] for row in rows]

    def frequencies(
        self, session: Session, source: str, words: Sequence[str], cap: int
    ) -> dict[str, int | None]:
        """How many articles (source "articles") or ticket subjects ("subjects") contain each
        word, counted up to `cap` (a count stops there, so a common word costs no more than a
        rare one); 0 when none. One statement for all the words."""
        if not words:
            return {}
        fts = {"articles": "articles_fts", "subjects": "tickets_fts"}[source]
        counts = ", ".join(
            f"(SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH :w{i} LIMIT :cap))"
            for i in range(len(words))
        )
        params: dict[str, object] = {f"w{i}": _fts_alt(Alt((w,))) for i, w in enumerate(words)}
        row = session.execute(text(f"SELECT {counts}"), {**params, "cap": cap}).one()
        return {word: int(count) for word, count in zip(words, row, strict=True)}

    def articles(
        self, session: Session, match: Match, where: ArticleFilter, limit: int
    ) -> list[ArticleRow]:
        sql = _Sql()
        expression = sql.param(fts5_expression(match))
        _article_filters(sql, where, self._TAG)
        # CROSS JOIN keeps the FTS index as the outer loop (SQLite's planner would otherwise
        # scan the table and probe the index row by row).
        join = " CROSS JOIN articles a ON a.id = articles_fts.rowid" if sql.parts else ""
        top = session.execute(
            text(
                "SELECT id, score FROM (SELECT articles_fts.rowid AS id, "
                f"bm25(articles_fts, 10.0, 1.0, 4.0) AS score FROM articles_fts{join} "
                f"WHERE articles_fts MATCH {expression}{_conditions(sql)} "
                "ORDER BY articles_fts.rowid DESC LIMIT :pool) ORDER BY score, id DESC LIMIT :limit"
            ),
            {**sql.params, "limit": limit, "pool": POOL},
        ).all()
        if not top:
            return []
        return _marked_articles(session, match, [(id, -score) for id, score in top])

    def tickets(
        self, session: Session, match: Match, where: TicketFilter, limit: int
    ) -> list[TicketRow]:
        sql = _Sql()
        # An exclusion holds for the whole ticket: its subject and every message.
        expression = sql.param(fts5_expression(replace(match, excluded=())))
        _ticket_filters(sql, where)
        if match.excluded:
            excluded = sql.param(
                fts5_expression(Match(tuple((a,) for a in match.excluded), any_of=True))
            )
            sql.parts.append(
                f"t.id NOT IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH {excluded})"
            )
            sql.parts.append(
                "t.id NOT IN (SELECT m.ticket_id FROM messages_fts JOIN messages m "
                f"ON m.id = messages_fts.rowid WHERE messages_fts MATCH {excluded})"
            )
        conditions = _conditions(sql)
        subject_hits = (
            "SELECT * FROM (SELECT tickets_fts.rowid AS ticket_id, 2.0 * bm25(tickets_fts) "
            "AS score FROM tickets_fts CROSS JOIN tickets t ON t.id = tickets_fts.rowid "
            f"WHERE tickets_fts MATCH {expression}{conditions} "
            "ORDER BY tickets_fts.rowid DESC LIMIT :pool)"
        )
        message_hits = (
            "SELECT * FROM (SELECT m.ticket_id, bm25(messages_fts) FROM messages_fts "
            "CROSS JOIN messages m ON m.id = messages_fts.rowid "
            "CROSS JOIN tickets t ON t.id = m.ticket_id "
            f"WHERE messages_fts MATCH {expression}{conditions} "
            "ORDER BY messages_fts.rowid DESC LIMIT :pool)"
        )
        hits = subject_hits if where.subjects_only else f"{subject_hits} UNION ALL {message_hits}"
        top = session.execute(
            text(
                f"SELECT ticket_id, sum(score) AS score FROM ({hits}) "
                "GROUP BY ticket_id ORDER BY score, ticket_id DESC LIMIT :limit"
            ),
            {**sql.params, "limit": limit, "pool": POOL},
        ).all()
        if not top:
            return []
        return _marked_tickets(
            session, match, [(id, -score) for id, score in top], not where.subjects_only
        )


# --- PostgreSQL tsvector ------------------------------------------------------------------

_CONFIG = "'english'"


def _tsquery_lexeme(lexeme: str) -> str:
    """A lexeme as tsquery input: quoted, taken as it is (not stemmed again)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _ts_alt(sql: _Sql, alt: Alt, expanded: dict[Alt, tuple[str, ...]] | None = None) -> str:
    if alt.phrase:
        return f"phraseto_tsquery({_CONFIG}, {sql.param(' '.join(alt.words))})"
    word = alt.words[0]
    if expanded and alt in expanded:  # a word's beginning, as the known words it begins
        lexemes = " | ".join(_tsquery_lexeme(lexeme) for lexeme in expanded[alt])
        return f"CAST({sql.param(lexemes)} AS tsquery)"
    if alt.prefix and word.isalnum():  # letters and digits only: safe for to_tsquery
        return f"to_tsquery({_CONFIG}, {sql.param(word + ':*')})"
    return f"plainto_tsquery({_CONFIG}, {sql.param(word)})"


def tsquery_expression(
    sql: _Sql, match: Match, expanded: dict[Alt, tuple[str, ...]] | None = None
) -> str:
    """A SQL expression of type tsquery for `match`, its words bound as parameters; the
    alternatives in `expanded` (words' beginnings) as the words given for them."""
    clauses = []
    for alts in match.clauses:
        parts = [_ts_alt(sql, a, expanded) for a in alts]
        clauses.append(parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")")
    joiner = " || " if match.any_of else " && "
    expression = joiner.join(clauses)
    for alt in match.excluded:
        expression = f"({expression}) && !!{_ts_alt(sql, alt)}"
    return expression


@contextmanager
def _matches_by_index(session: Session, match: Match) -> Iterator[None]:
    """PostgreSQL: for "any of these words" (suggestions, made of rare words), read the
    matches through the GIN index. The planner estimates a word missing from its statistics
    at half the rarest known word's frequency; a few of them add up, and it then walks the
    whole table backwards by id, for the newest matches, finding none (a second on 1M
    tickets). Index scans and table scans are switched off for the one statement and switched
    back after it, a statement each (a savepoint and two SET LOCALs took four round trips).
    When the statement fails, the transaction is aborted and its rollback restores them;
    any other failure restores them here."""
    if not match.any_of:
        yield
        return
    before = session.execute(
        text(
            "SELECT current_setting('enable_indexscan'), current_setting('enable_seqscan'), "
            "set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true)"
        )
    ).one()
    aborted = False
    try:
        yield
    except DBAPIError:
        aborted = True
        raise
    finally:
        if not aborted:
            session.execute(
                text(
                    "SELECT set_config('enable_indexscan', :i, true), "
                    "set_config('enable_seqscan', :s, true)"
                ),
                {"i": before[0], "s": before[1]},
            )


def _alt_share(lexemes: Sequence[str], prefix: bool, freqs: dict[str, float]) -> float:
    """The share of articles an alternative may match: its rarest word's (a phrase or a word
    the parser splits, "two-factor", needs all of them), or for a word's beginning the sum
    over the common words it begins. A word missing from the statistics counts half the
    rarest one they keep, as PostgreSQL's own estimates do; stop words alone match all."""
    if not lexemes:
        return 1.0
    rare = min(freqs.values()) / 2
    if prefix:
        return max(rare, sum(f for word, f in freqs.items() if word.startswith(lexemes[0])))
    return min(freqs.get(lexeme, rare) for lexeme in lexemes)


def match_share(match: Match, lexemes: dict[Alt, Sequence[str]], freqs: dict[str, float]) -> float:
    """An upper estimate of the share of articles `match` matches: its rarest clause's
    (clauses are ANDed, and words searched together mostly occur together), a clause's being
    the sum of its alternatives'. `lexemes`: each alternative's words as the vectors hold
    them; `freqs`: the share of articles holding each of the most common words."""
    return min(
        min(1.0, sum(_alt_share(lexemes[alt], alt.prefix, freqs) for alt in clause))
        for clause in match.clauses
    )


# A word's beginning ("passw", "reset" while it is typed) matches as the known words it begins
# (`search_terms`) when they are at most EXPANSION_MAX: a prefix in the GIN index gathers the
# postings of every word it begins before ANDing them with the other words' (7 ms for "password
# reset" on 100,000 articles, where "reset" is in 44% of them), exact words are ANDed as they
# are read (1 ms). A beginning of fewer than three letters, one the parser splits in several
# words, or one with more known words, stays a prefix. Known words are those of 3-40
# characters (what `search_terms` learns): a longer word is not found by its beginning while
# it is typed.
EXPANSION_MAX = 8
_EXPANSIONS = (
    "(SELECT json_agg((SELECT array_agg(k.term ORDER BY k.term) FROM (SELECT t.term "
    "FROM search_terms t WHERE cardinality(x.lexemes) = 1 AND length(x.lexemes[1]) >= 3 "
    "AND t.term LIKE replace(replace(replace(x.lexemes[1], '\\', '\\\\'), '%', '\\%'), "
    "'_', '\\_') || '%' LIMIT :plan_most + 1) k) ORDER BY x.n) "
    "FROM (SELECT u.n, tsvector_to_array(to_tsvector(" + _CONFIG + ", u.w)) AS lexemes "
    "FROM unnest(CAST(:plan_begun AS text[])) WITH ORDINALITY AS u(w, n)) x)"
)


# What an article search reads first: the highest id, the matches expected per id (None:
# no statistics, search the whole table), and the expanded words' beginnings.
_Plan = tuple[int, float | None, dict[Alt, tuple[str, ...]]]
_PLANNED = "tui_helpdesk.search.plan"  # session.info: (match, plan) read by `known`

# The share of articles holding each of their most common words (what ANALYZE keeps of the
# vectors). Planning a statement over the `pg_stats` view took ~1.5 ms of the server's time on
# every search, for figures that change only when the table is analysed: they are read once
# per database connection and kept in its `info` (`_STATS`) with the table's analyse counters
# and times (`_STATS_VERSION`: functions, nothing to plan), and read again when those change.
# They only size the windows: stale figures could make a search slower, never different.
_STATS = "tui_helpdesk.search.article_stats"  # connection.info: (version, {word: share})
_COMMON_WORDS = (
    "(SELECT json_object_agg(e.elem, e.freq) FROM pg_stats p, "
    "unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) AS e(elem, freq) "
    "WHERE p.schemaname = current_schema() AND p.tablename = 'articles' "
    "AND p.attname = 'search_vector' AND e.elem IS NOT NULL)"
)
_STATS_VERSION = (
    "(SELECT concat_ws(' ', c.oid, pg_stat_get_analyze_count(c.oid), "
    "pg_stat_get_autoanalyze_count(c.oid), pg_stat_get_last_analyze_time(c.oid), "
    "pg_stat_get_last_autoanalyze_time(c.oid)) FROM pg_class c "
    "WHERE c.oid = CAST('articles' AS regclass))"
)


# A `tag:` filter is an index condition ANDed with the words (`ix_search_articles_tags`), but
# the statistics say nothing of how many articles a tag keeps: a window sized for the words
# alone then held too few and a second window was searched (both index scans again, twice
# the time). A window is sized as if each tag kept this share of the matches.
FILTER_SHARE = 0.25


# PostgreSQL estimates the share of articles a tsquery matches by multiplying its words'
# frequencies as if they were independent, and a word missing from its statistics counts half
# the rarest one's: "two-factor codes" was expected to match 3 articles and matched 3,098. With
# that estimate the planner reads the GIN index alone and checks every match of the table in
# the heap before a window's id bounds drop most of them. For a phrase the check is costly (the
# index keeps no word positions: each match's vector is read and the phrase tested again), so
# when its words are expected in fewer than BITMAP_SHARE of the articles (`match_share`), a
# window's query is a sub-select, which the planner takes to match a fixed 0.5% of the table:
# it then ANDs the id index with the GIN index first ("two-factor codes": 910 heap blocks
# instead of 2,836, the pool read in 5.9 ms instead of 9.0 at best). Without a phrase the
# heap's check is cheap and the id index cost more than it saved (~1 ms); common words are in
# the statistics, and walking the window backwards by id costs less than their long GIN
# posting lists ("reset", in 44% of the articles: 1.9 ms, 17 as a sub-select).
BITMAP_SHARE = 0.15


def _windows(top: int, per_id: float | None) -> list[tuple[int, int | None]]:
    """The id ranges (floor, ceiling], newest first: one expected to hold WINDOW_MARGIN x
    POOL matches at `per_id` matches per id, then ever wider ones down to the first id (one
    range without an expectation, or when the first would be the whole table)."""
    if per_id is None:
        return [(0, None)]
    window = int(WINDOW_MARGIN * POOL / per_id) if per_id else top
    ranges: list[tuple[int, int | None]] = []
    ceiling: int | None = None
    while window < top:
        ranges.append((top - window, ceiling))
        ceiling = top - window
        window *= WINDOW_GROWTH
    return [*ranges, (0, ceiling)]


class _Postgres(_Browsing):
    # The tags as jsonb: the GIN index `ix_search_articles_tags` (migration 0007).
    _TAG = "CAST(a.tags AS jsonb) @> jsonb_build_array(CAST({} AS text))"

    def _not_matching(self, sql: _Sql, excluded: Match, table: str, alias: str) -> None:
        if excluded.clauses:
            query = tsquery_expression(sql, excluded)
            sql.parts.append(f"NOT ({alias}.search_vector @@ ({query}))")

    def known(
        self, session: Session, words: Sequence[tuple[str, bool]], plan: Match | None = None
    ) -> set[tuple[str, bool]]:
        """The (word, prefix) pairs that some article or ticket subject contains, looked up
        in the learnt words (`search_terms`: its primary key, or its trigram index for a
        word's beginning) rather than in the tables, whose plans vary with the statistics.
        With `plan` (the article search that follows when every word is known), its windows
        and expansions (`_plan`) are read by the same statement and kept for `articles`:
        one round trip less."""
        if not words:
            return set()
        sql = _Sql()
        checks = []
        for word, prefix in words:
            # A word's beginning ("passw") is known when a learnt word starts with it, or when
            # it is a whole word already ("jams", learnt as its stem "jam").
            check = (
                "EXISTS (SELECT 1 FROM search_terms WHERE term = ANY (tsvector_to_array("
                f"to_tsvector({_CONFIG}, {sql.param(word)}))))"
            )
            if prefix:
                pattern = word.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
                check += (
                    " OR EXISTS (SELECT 1 FROM search_terms WHERE term LIKE "
                    f"{sql.param(pattern + '%')})"
                )
            checks.append(f"({check})")
        # One statement for all the words (and the plan).
        planned = self._plan_select(session, plan) if plan is not None else None
        columns = checks + ([planned[0]] if planned else [])
        params = {**sql.params, **(planned[1] if planned else {})}
        row = session.execute(text("SELECT " + ", ".join(columns)), params).one()
        if plan is not None and planned:
            plan_row = row[len(checks) :]
            session.info[_PLANNED] = (plan, self._plan_result(session, plan, plan_row))
        return {pair for pair, hit in zip(words, row[: len(checks)], strict=True) if hit}

    def candidates(self, session: Session, word: str) -> list[str]:
        """Learnt words that share enough trigrams with `word` (the pg_trgm GIN index)."""
        rows = session.execute(
            text(
                "SELECT term FROM search_terms WHERE term % :w "
                "ORDER BY similarity(term, :w) DESC, term LIMIT 30"
            ),
            {"w": word},
        )
        return [row[0] for row in rows]

    def frequencies(
        self, session: Session, source: str, words: Sequence[str], cap: int
    ) -> dict[str, int | None]:
        """How many articles or ticket subjects contain each word, from the planner's
        statistics (ANALYZE keeps the most common lexemes of a tsvector column with their
        frequencies): 0 for a word no article or subject has (or a stop word); None for one
        too rare to be in the statistics, or before the table was analysed."""
        table = {"articles": "articles", "subjects": "tickets"}[source]
        rows = session.execute(
            text(
                "SELECT w.word, w.lexeme IS NOT NULL AND EXISTS "
                "(SELECT 1 FROM search_terms WHERE term = w.lexeme), "
                "round(s.freq * greatest(c.reltuples, 0)) "
                f"FROM (SELECT k AS word, (tsvector_to_array(to_tsvector({_CONFIG}, k)))[1] "
                "AS lexeme FROM unnest(CAST(:words AS text[])) AS k) w "
                "LEFT JOIN (SELECT e.elem, e.freq FROM pg_stats p, "
                "unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) "
                "AS e(elem, freq) WHERE p.schemaname = current_schema() "
                "AND p.tablename = :table AND p.attname = 'search_vector') s "
                "ON s.elem = w.lexeme "
                "CROSS JOIN (SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)) c"
            ),
            {"words": list(words), "table": table},
        ).all()
        # A known word counts at least 1: statistics may be stale (a table emptied since).
        return {
            word: (0 if not known else max(1, int(df)) if df is not None else None)
            for word, known, df in rows
        }

    def windows(self, session: Session, match: Match) -> list[tuple[int, int | None]]:
        """The id ranges (floor, ceiling], newest first, in which `articles` looks for the
        newest POOL matches of `match`: a window expected to hold WINDOW_MARGIN x POOL of
        them, then ever wider ones down to the first id. The expectation is an upper
        estimate (`match_share`) from the statistics ANALYZE keeps of the vectors' most
        common words; without statistics, or when the window would be the whole table, one
        range. Suggestions (`any_of`, rare words) always search in one range."""
        top, per_id, _expanded = self._plan(session, match)
        return _windows(top, per_id)

    def _plan(self, session: Session, match: Match) -> _Plan:
        """The windows (see `windows`), and the words' beginnings of `match` to match as the
        known words they begin (`_EXPANSIONS`), read in one statement, or by `known` before."""
        planned = session.info.pop(_PLANNED, None)
        if planned is not None and planned[0] == match:
            return cast(_Plan, planned[1])
        select_plan = self._plan_select(session, match)
        if select_plan is None:
            return 0, None, {}
        row = session.execute(text("SELECT " + select_plan[0]), select_plan[1]).one()
        return self._plan_result(session, match, row)

    @staticmethod
    def _plan_alts(match: Match) -> tuple[list[Alt], list[Alt]]:
        alts = [alt for clause in match.clauses for alt in clause]
        begun = [alt for alt in alts if alt.prefix and not alt.phrase and alt.words[0].isalnum()]
        return alts, begun

    def _plan_select(self, session: Session, match: Match) -> tuple[str, dict[str, Any]] | None:
        """The columns (SQL) and parameters of the plan of `match`; None for suggestions
        (`any_of`: rare words, one range) and an empty match. The common words' shares are
        read with it only while this connection has none (`_STATS`)."""
        if match.any_of or not match.clauses:
            return None
        alts, begun = self._plan_alts(match)
        columns = (
            "(SELECT max(id) FROM articles), (SELECT reltuples FROM pg_class "
            "WHERE oid = CAST('articles' AS regclass)), (SELECT json_agg(tsvector_to_array("
            f"to_tsvector({_CONFIG}, u.w)) ORDER BY u.n) FROM unnest(CAST(:plan_words AS text[])) "
            f"WITH ORDINALITY AS u(w, n)), {_EXPANSIONS}, {_STATS_VERSION}"
        )
        if _STATS not in session.connection().info:
            columns += f", {_COMMON_WORDS}"
        params = {
            "plan_words": [" ".join(alt.words) for alt in alts],
            "plan_begun": [alt.words[0] for alt in begun],
            "plan_most": EXPANSION_MAX,
        }
        return columns, params

    @staticmethod
    def _common_words(
        session: Session, version: str | None, read: Sequence[Any]
    ) -> dict[str, float]:
        """The shares of the common words: `read` with the plan (one column, None before the
        table is analysed) on a connection's first search, else those kept for this
        connection, read again when `version` (the table's analyse counters and times)
        changed since."""
        info = session.connection().info
        kept = info.get(_STATS)
        if not read and kept is not None and kept[0] == version:
            return cast(dict[str, float], kept[1])
        freqs = read[0] if read else session.execute(text("SELECT " + _COMMON_WORDS)).scalar()
        info[_STATS] = (version, freqs or {})
        return cast(dict[str, float], freqs or {})

    def _plan_result(self, session: Session, match: Match, row: Sequence[Any]) -> _Plan:
        alts, begun = self._plan_alts(match)
        top, rows, lexemes, expansions, version, *read = row
        freqs = self._common_words(session, version, read)
        expanded = {
            alt: tuple(words)
            for alt, words in zip(begun, expansions or [], strict=True)
            if words and len(words) <= EXPANSION_MAX
        }
        if not top or not rows or rows < 1 or not freqs:
            return 0, None, expanded
        share = match_share(match, dict(zip(alts, lexemes, strict=True)), freqs)
        return top, share * min(1.0, rows / top), expanded

    def articles(
        self, session: Session, match: Match, where: ArticleFilter, limit: int
    ) -> list[ArticleRow]:
        """The newest POOL matches ranked by ts_rank, found window by window (`windows`):
        each window ranks its part of the pool, and the best `limit` of the parts are the
        best of the pool. A word's beginning is matched as the few known words it begins
        when there are few (`expansions`); the rank is that of the query as typed."""
        found: list[tuple[int, float]] = []
        texts: dict[int, tuple[str, str, ArticleFacts]] = {}
        pooled = 0
        first = True
        with _matches_by_index(session, match):
            top, per_id, expanded = self._plan(session, match)
            rare_phrase = (
                per_id is not None
                and per_id < BITMAP_SHARE
                and any(alt.phrase for clause in match.clauses for alt in clause)
            )
            if per_id is not None:  # each tag kept expected to keep FILTER_SHARE of them
                per_id *= FILTER_SHARE ** len(where.tags)
            for floor, ceiling in _windows(top, per_id):
                sql = _Sql()
                query = tsquery_expression(sql, match, expanded)
                ranking = tsquery_expression(sql, match) if expanded else query
                _article_filters(sql, where, self._TAG)
                # The bounds are written into the SQL (integers): the planner sees how many
                # ids they keep, and ANDs the id index with the GIN index when that pays.
                sql.parts.append(f"a.id > {int(floor)}")
                if ceiling is not None:
                    sql.parts.append(f"a.id <= {int(ceiling)}")
                # A phrase of rare words in a window: a sub-select, so that the id index is
                # ANDed with the GIN index (`BITMAP_SHARE`).
                windowed = rare_phrase and (floor > 0 or ceiling is not None)
                matching = f"(SELECT {query})" if windowed else f"({query})"
                # In the first window (sized to hold about WINDOW_MARGIN x POOL matches) the
                # matches are ranked as they are read, so that only (id, score) pairs are
                # sorted for the newest POOL: sorting ~1,000 rows with their vectors cost
                # twice as much. Elsewhere (the whole table, or a wider window), where the
                # matches may be many more than the pool, only the pool is ranked.
                if first and floor > 0:
                    pool = (
                        f"SELECT a.id, ts_rank(a.search_vector, {ranking}) AS score "
                        f"FROM articles a WHERE a.search_vector @@ {matching}{_conditions(sql)} "
                        "ORDER BY a.id DESC LIMIT :pool"
                    )
                else:
                    pool = (
                        f"SELECT p.id, ts_rank(p.search_vector, {ranking}) AS score FROM ("
                        "SELECT a.id, a.search_vector "
                        f"FROM articles a WHERE a.search_vector @@ {matching}{_conditions(sql)} "
                        "ORDER BY a.id DESC LIMIT :pool) p"
                    )
                first = False
                # The best `limit` come with their text: one round trip for the window, a
                # typed textual select (the ORM select of the same columns cost ~1 ms more).
                rows = session.execute(
                    text(
                        f"SELECT r.id, r.score, r.pooled, {_ARTICLE_TEXT_SQL} FROM ("
                        f"SELECT id, score, count(*) OVER () AS pooled FROM ({pool}) pool "
                        "ORDER BY score DESC, id DESC LIMIT :limit) r "
                        "JOIN articles a ON a.id = r.id "
                        "LEFT OUTER JOIN categories c ON c.id = a.category_id"
                    ).columns(*_RANKED_COLUMNS, *_ARTICLE_TEXT_COLUMNS),
                    {**sql.params, "limit": limit, "pool": POOL - pooled},
                ).all()
                found += [(r.id, float(r.score)) for r in rows]
                texts.update((r.id, _article_text(r)) for r in rows)
                pooled += rows[0].pooled if rows else 0
                if pooled >= POOL:
                    break
        found.sort(key=lambda hit: (-hit[1], -hit[0]))
        return _marked_articles(session, match, found[:limit], texts)

    def tickets(
        self, session: Session, match: Match, where: TicketFilter, limit: int
    ) -> list[TicketRow]:
        sql = _Sql()
        # An exclusion holds for the whole ticket: its subject and every message.
        query = tsquery_expression(sql, replace(match, excluded=()))
        _ticket_filters(sql, where)
        if match.excluded:
            excluded = tsquery_expression(
                sql, Match(tuple((a,) for a in match.excluded), any_of=True)
            )
            sql.parts.append(f"NOT t.search_vector @@ ({excluded})")
            sql.parts.append(
                "NOT EXISTS (SELECT 1 FROM messages xm WHERE xm.ticket_id = t.id "
                f"AND xm.search_vector @@ ({excluded}))"
            )
        conditions = _conditions(sql)
        subject_hits = (
            f"SELECT ticket_id, 2 * ts_rank(v, {query}) AS score FROM (SELECT t.id AS ticket_id, "
            "t.search_vector AS v FROM tickets t "
            f"WHERE t.search_vector @@ ({query}){conditions} ORDER BY t.id DESC LIMIT :pool) s"
        )
        message_hits = (
            f"SELECT ticket_id, ts_rank(v, {query}) FROM (SELECT m.ticket_id, m.search_vector AS v "
            "FROM messages m JOIN tickets t ON t.id = m.ticket_id "
            f"WHERE m.search_vector @@ ({query}){conditions} ORDER BY m.id DESC LIMIT :pool) s"
        )
        hits = subject_hits if where.subjects_only else f"{subject_hits} UNION ALL {message_hits}"
        with _matches_by_index(session, match):
            rows = session.execute(
                text(
                    f"SELECT h.ticket_id, sum(h.score) AS score FROM ({hits}) h "
                    "GROUP BY h.ticket_id ORDER BY score DESC, h.ticket_id DESC LIMIT :limit"
                ),
                {**sql.params, "limit": limit, "pool": POOL},
            ).all()
        return _marked_tickets(
            session, match, [(r[0], float(r[1])) for r in rows], not where.subjects_only
        )


_SQLITE = _Sqlite()
_POSTGRES = _Postgres()
