"""Searching knowledge articles and tickets, and suggesting both while a ticket is written.

One contract on both back ends (the SQL lives in `store.search`): what the user typed is
parsed by `rules.search_query` (words, "phrases", -exclusions, `tag:`, `category:` (a path
or a category's own name, and what is below it), a trailing word matched as a prefix while
typing); a word that neither the knowledge base nor
any ticket subject contains is widened to the known words within a small edit distance
("pasword" also finds "password"), and the result says so; hits come ranked (the title or
subject weighs most, an exact title first) with highlighted fragments as `Marked` text,
cleaned of control sequences: callers render pieces as plain text, never as markup.

Called by `helpdesk kb search`, `helpdesk ticket search`, the console's knowledge screen and
the new-ticket form (`suggest`, on every pause in typing).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tui_helpdesk.domain import MessageKind, Status
from tui_helpdesk.rules.search_query import (
    SearchQuery,
    Term,
    close_words,
    keywords,
    max_edits,
    parse_query,
    tokens,
)
from tui_helpdesk.services.directory import find_category
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.store.models import Message, Ticket
from tui_helpdesk.store.search import (
    MARK_END,
    MARK_START,
    Alt,
    ArticleFilter,
    ArticleRow,
    Match,
    TicketFilter,
    TicketRow,
    backend_for,
)
from tui_helpdesk.text import clean

MAX_LIMIT = 200
_SPACE = re.compile(r"\s+")
SUGGEST_KEYWORDS = 12
SUGGEST_TERMS = 6
SUGGEST_BUDGET = 4000


@dataclass(frozen=True)
class Marked:
    """Text with highlighted stretches: (text, highlighted) pieces, already cleaned."""

    pieces: tuple[tuple[str, bool], ...] = ()

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.pieces)

    @classmethod
    def parse(cls, marked: str) -> Marked:
        pieces: list[tuple[str, bool]] = []
        for i, chunk in enumerate(marked.split(MARK_START)):
            inside, _, after = chunk.partition(MARK_END) if i else ("", "", chunk)
            for part, lit in ((inside, True), (after, False)):
                part = _SPACE.sub(" ", clean(part))  # one line; the spaces between pieces stay
                if part:
                    pieces.append((part, lit))
        return cls(tuple(pieces))


@dataclass(frozen=True)
class ArticleHit:
    id: int
    title: Marked
    snippet: Marked
    category: str | None
    tags: list[str]
    status: str
    visibility: str
    helpful: int
    not_helpful: int
    updated_at: datetime
    score: float


@dataclass(frozen=True)
class TicketHit:
    key: str
    subject: Marked
    snippet: Marked
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None  # the last public reply, for similar resolved tickets
    score: float


H = TypeVar("H", ArticleHit, TicketHit)


@dataclass(frozen=True)
class SearchResult(Generic[H]):
    query: SearchQuery
    hits: list[H]
    corrections: dict[str, list[str]] = field(default_factory=dict)  # word -> also searched


@dataclass(frozen=True)
class Suggestions:
    keywords: tuple[str, ...]
    articles: list[ArticleHit]
    tickets: list[TicketHit]


def _alt(term: Term) -> Alt:
    return Alt(term.words, phrase=term.phrase and len(term.words) > 1, prefix=term.prefix)


def _corrections(
    session: Session, query: SearchQuery, plan: Match | None = None
) -> dict[str, list[str]]:
    """Typo tolerance: for each word of the query (or word being typed) that no article and
    no ticket subject contains, the known words within its edit budget. `plan`: the article
    search that follows when nothing is corrected (PostgreSQL prepares it in the same
    statement)."""
    single = [t for t in query.positive if len(t.words) == 1 and max_edits(t.words[0])]
    if not single:
        return {}
    backend = backend_for(session)
    known = backend.known(session, [(t.words[0], t.prefix) for t in single], plan)
    found: dict[str, list[str]] = {}
    for term in single:
        word = term.words[0]
        if (word, term.prefix) in known:
            continue
        close = close_words(word, backend.candidates(session, word))
        if close:
            found[word] = close
    return found


def _match(query: SearchQuery, corrections: dict[str, list[str]]) -> Match:
    clauses = []
    for term in query.positive:
        alt = _alt(term)
        extra = corrections.get(term.words[0], []) if len(term.words) == 1 else []
        clauses.append((alt, *(Alt((word,)) for word in extra)))
    return Match(tuple(clauses), tuple(_alt(t) for t in query.negative))


def _categories(session: Session, query: SearchQuery, *, typing: bool) -> tuple[str, ...] | None:
    """The paths of the query's `category:` filters, each matching itself and the paths
    below it, as `ticket list --category` does; a category may also be named by its own
    name when no other has it (`category:Network`). An unknown or ambiguous one is an
    error saying so (`NotFound`, `ValidationError`), not an empty result, but while the
    query is being typed (`typing`) it is None, for no results: `category:Net` on the way
    to `category:Network` is not a mistake yet."""
    paths = []
    for category in query.categories:
        try:
            paths.append(find_category(session, category).path)
        except (NotFound, ValidationError):
            if typing:
                return None
            raise
    return tuple(paths)


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


# --- articles -----------------------------------------------------------------------------


def _article_hits(rows: Sequence[ArticleRow]) -> list[ArticleHit]:
    """The hits, from the rows the back end read with their facts (no ORM objects)."""
    return [
        ArticleHit(
            id=row.id,
            title=Marked.parse(row.title),
            snippet=Marked.parse(row.snippet),
            category=row.facts.category,
            tags=row.facts.tags,
            status=row.facts.status,
            visibility=row.facts.visibility,
            helpful=row.facts.helpful,
            not_helpful=row.facts.not_helpful,
            updated_at=row.facts.updated_at,
            score=row.score,
        )
        for row in rows
    ]


def _excluded(query: SearchQuery) -> Match:
    return Match(tuple((_alt(t),) for t in query.negative), any_of=True)


def _is_query(title: str, words: list[str]) -> bool:
    """Whether the tokens of `title` are `words`. An ASCII title's tokens are its lower-cased
    words: one that lacks one of `words` is not tokenised (most titles of a page of hits)."""
    if title.isascii():
        low = title.lower()
        if not all(word in low for word in words):
            return False
    return tokens(title) == words


def search_articles(
    session: Session,
    text: str,
    *,
    limit: int = 20,
    typing: bool = False,
    published_only: bool = False,
    public_only: bool = False,
) -> SearchResult[ArticleHit]:
    """Knowledge articles matching `text` (the query language), best first; an article whose
    whole title is the query comes first. With `typing`, the last word also matches longer
    words (results while it is being typed). Filters alone (`tag:vpn`) list the most
    recently updated articles."""
    query = parse_query(text, typing=typing)
    categories = _categories(session, query, typing=typing)
    if query.is_empty or categories is None:
        return SearchResult(query, [])
    where = ArticleFilter(
        tags=query.tags,
        excluded_tags=query.excluded_tags,
        categories=categories,
        published_only=published_only,
        public_only=public_only,
    )
    backend = backend_for(session)
    if not query.positive:
        rows = backend.browse_articles(session, _excluded(query), where, _limit(limit))
        return SearchResult(query, _article_hits(rows))
    corrections = _corrections(session, query, _match(query, {}))
    rows = backend.articles(session, _match(query, corrections), where, _limit(limit))
    hits = _article_hits(rows)
    exact = [w for t in query.positive for w in t.words]
    hits.sort(key=lambda h: not _is_query(h.title.plain, exact))  # stable: the rank order stays
    return SearchResult(query, hits, corrections)


# --- tickets ------------------------------------------------------------------------------


def _ticket_hits(
    session: Session, rows: Sequence[TicketRow], *, with_resolution: bool = False
) -> list[TicketHit]:
    ids = [r.id for r in rows]
    found = {
        t.id: t
        for t in session.execute(
            select(
                Ticket.id,
                Ticket.key,
                Ticket.subject,
                Ticket.status,
                Ticket.created_at,
                Ticket.resolved_at,
            ).where(Ticket.id.in_(ids))
        )
    }
    resolutions: dict[int, str] = {}
    if with_resolution and ids:
        last = (
            select(Message.ticket_id, func.max(Message.id).label("id"))
            .where(Message.ticket_id.in_(ids), Message.kind == MessageKind.REPLY)
            .group_by(Message.ticket_id)
            .subquery()
        )
        resolutions = {
            ticket_id: body
            for ticket_id, body in session.execute(
                select(Message.ticket_id, Message.body).join(last, Message.id == last.c.id)
            )
        }
    hits = []
    for row in rows:
        ticket = found.get(row.id)
        if ticket is None:
            continue
        resolution = resolutions.get(ticket.id)
        hits.append(
            TicketHit(
                key=ticket.key,
                subject=Marked.parse(row.subject or ticket.subject),
                snippet=Marked.parse(row.snippet),
                status=ticket.status.value,
                created_at=ticket.created_at,
                resolved_at=ticket.resolved_at,
                resolution=clean(resolution) if resolution is not None else None,
                score=row.score,
            )
        )
    return hits


def search_tickets(
    session: Session,
    text: str,
    *,
    limit: int = 20,
    typing: bool = False,
    statuses: Sequence[Status] = (),
) -> SearchResult[TicketHit]:
    """Tickets whose subject or one of whose messages matches `text`, best first (a match
    in the subject weighs double); filters alone list the most recently updated tickets."""
    query = parse_query(text, typing=typing)
    categories = _categories(session, query, typing=typing)
    if query.is_empty or categories is None:
        return SearchResult(query, [])
    where = TicketFilter(
        tags=query.tags,
        excluded_tags=query.excluded_tags,
        categories=categories,
        statuses=tuple(s.value for s in statuses),
    )
    backend = backend_for(session)
    if not query.positive:
        rows = backend.browse_tickets(session, _excluded(query), where, _limit(limit))
        return SearchResult(query, _ticket_hits(session, rows))
    corrections = _corrections(session, query)
    rows = backend.tickets(session, _match(query, corrections), where, _limit(limit))
    return SearchResult(query, _ticket_hits(session, rows), corrections)


# --- suggestions --------------------------------------------------------------------------


def _informative(session: Session, source: str, words: tuple[str, ...]) -> tuple[str, ...]:
    """The rarest of `words` in `source` ("articles" or "subjects"): words it does not
    contain go, then the rarest come first while their documents add up to at most
    SUGGEST_BUDGET (at least two, at most SUGGEST_TERMS). Rare words say most about what a
    ticket is about, and they keep the cost of a suggestion the same on a desk of any size."""
    frequencies = backend_for(session).frequencies(session, source, words, SUGGEST_BUDGET + 1)
    present = sorted(
        (df or 0, i, word) for i, (word, df) in enumerate(frequencies.items()) if df != 0
    )
    chosen: list[str] = []
    total = 0
    for df, _i, word in present:
        if len(chosen) >= 2 and (len(chosen) >= SUGGEST_TERMS or total + df > SUGGEST_BUDGET):
            break
        chosen.append(word)
        total += df
    return tuple(chosen)


def _any_of(words: tuple[str, ...]) -> Match:
    return Match(tuple((Alt((w,)),) for w in words), any_of=True)


def suggest(
    session: Session, subject: str, description: str = "", *, articles: int = 5, tickets: int = 5
) -> Suggestions:
    """Knowledge articles and similar resolved tickets for a ticket being written, from the
    informative words of its subject and description: the rarest of them (see
    `_informative`), any matching, ranked by BM25 / ts_rank. Published articles only; similar
    tickets are matched on their subjects and come with their last public reply (the
    resolution)."""
    words = keywords(f"{subject}\n{description}", limit=SUGGEST_KEYWORDS)
    found_articles: list[ArticleHit] = []
    found_tickets: list[TicketHit] = []
    if not words:
        return Suggestions(words, found_articles, found_tickets)
    backend = backend_for(session)
    for_articles = _informative(session, "articles", words)
    if for_articles:
        rows = backend.articles(
            session, _any_of(for_articles), ArticleFilter(published_only=True), _limit(articles)
        )
        found_articles = _article_hits(rows)
    for_tickets = _informative(session, "subjects", words)
    if for_tickets:
        rows = backend.tickets(
            session,
            _any_of(for_tickets),
            TicketFilter(statuses=(Status.RESOLVED.value, Status.CLOSED.value), subjects_only=True),
            _limit(tickets),
        )
        found_tickets = _ticket_hits(session, rows, with_resolution=True)
    return Suggestions(words, found_articles, found_tickets)
