"""What the console's knowledge mode shows: search results and one article, as plain
dataclasses (customer text cleaned, times formatted), read in a session of their own.

Called by `tui_helpdesk.screens.knowledge` from worker threads only; the search itself is
`services.search`.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from tui_helpdesk.domain import ArticleStatus, Visibility
from tui_helpdesk.services.desk import desk_settings
from tui_helpdesk.services.directory import get_agent
from tui_helpdesk.services.errors import NotFound, ServiceError
from tui_helpdesk.services.search import Marked, search_articles
from tui_helpdesk.services.views import (  # the views' own helpers
    Store,
    _reading,
    _when,
    _zone,
    relative_age,
)
from tui_helpdesk.store.models import Agent, Article, Ticket
from tui_helpdesk.text import clean

KNOWLEDGE_LIMIT = 30  # hits shown for one query; a search box is not a report
_BROWSE_SNIPPET = 300  # characters of an article's body read for its line in the list


@dataclass(frozen=True)
class KnowledgeHit:
    """One article in the knowledge list: title and snippet as highlighted pieces."""

    id: int
    title: Marked
    snippet: Marked
    category: str
    tags: tuple[str, ...]
    draft: bool
    public: bool
    helpful: int
    not_helpful: int


@dataclass(frozen=True)
class KnowledgeResults:
    text: str  # the query as typed
    hits: tuple[KnowledgeHit, ...]
    corrections: tuple[tuple[str, tuple[str, ...]], ...]  # (typed word, words also searched)
    browsing: bool  # an empty query: the most helpful published articles, not a search


def _browse_articles(session: Session, limit: int) -> tuple[KnowledgeHit, ...]:
    """The most helpful published articles, most recently updated first among equals; the
    bodies stay in the database but for the start of each, which makes the snippet."""
    rows = session.execute(
        select(Article, func.substr(Article.body, 1, _BROWSE_SNIPPET))
        .options(defer(Article.body))
        .where(Article.status == ArticleStatus.PUBLISHED)
        .order_by(Article.helpful.desc(), Article.updated_at.desc(), Article.id.desc())
        .limit(limit)
    )
    hits = []
    for article, start in rows:
        # One line of the body's start; heading marks say nothing in a one-line snippet.
        snippet = " ".join(w for w in clean(start).split() if w.strip("#"))
        hits.append(
            KnowledgeHit(
                id=article.id,
                title=Marked(((clean(article.title, single_line=True), False),)),
                snippet=Marked(((snippet, False),) if snippet else ()),
                category=clean(article.category.path, single_line=True) if article.category else "",
                tags=tuple(clean(t, single_line=True) for t in article.tags or ()),
                draft=False,
                public=article.visibility is Visibility.PUBLIC,
                helpful=article.helpful,
                not_helpful=article.not_helpful,
            )
        )
    return tuple(hits)


def search_knowledge(
    store: Store, text: str, *, typing: bool = False, limit: int = KNOWLEDGE_LIMIT
) -> KnowledgeResults:
    """Articles for the knowledge screen, drafts and internal ones included (agents read
    them all): the search for `text` (the query language of `services.search`), or, for an
    empty query, the most helpful published articles. With `typing` the last word also
    matches as a prefix."""
    with _reading(store) as session:
        if not text.strip():
            return KnowledgeResults(text, _browse_articles(session, limit), (), browsing=True)
        found = search_articles(session, text, limit=limit, typing=typing)
        hits = tuple(
            KnowledgeHit(
                id=hit.id,
                title=hit.title,
                snippet=hit.snippet,
                category=clean(hit.category, single_line=True) if hit.category else "",
                tags=tuple(clean(t, single_line=True) for t in hit.tags),
                draft=hit.status == ArticleStatus.DRAFT.value,
                public=hit.visibility == Visibility.PUBLIC.value,
                helpful=hit.helpful,
                not_helpful=hit.not_helpful,
            )
            for hit in found.hits
        )
        corrections = tuple(
            (clean(word, single_line=True), tuple(clean(w, single_line=True) for w in words))
            for word, words in found.corrections.items()
        )
        return KnowledgeResults(text, hits, corrections, browsing=False)


@dataclass(frozen=True)
class ArticleView:
    """One article for reading: plain one-line facts and the Markdown body (cleaned of
    control sequences; Markdown, not Rich markup)."""

    id: int
    title: str
    body: str
    category: str
    tags: tuple[str, ...]
    status: str
    visibility: str
    author: str  # the author's name, "" when unknown
    source_ticket: str  # the key of the ticket it was drafted from, "" when none
    helpful: int
    not_helpful: int
    updated: str  # in the display time zone, with its age


def article_view(
    store: Store,
    login: str,
    article_id: int,
    *,
    now: datetime,
    timezone: str | None = None,
) -> ArticleView:
    """One knowledge article with its author and source ticket; `NotFound` if it is gone."""
    with _reading(store) as session:
        article = session.scalar(select(Article).where(Article.id == article_id))
        if article is None:
            raise NotFound(f"no article {article_id}")
        author = ""
        if article.author_id is not None:
            row = session.execute(
                select(Agent.name, Agent.login).where(Agent.id == article.author_id)
            ).first()
            if row is not None:
                author = clean(row.name or row.login, single_line=True)
        source = ""
        if article.source_ticket_id is not None:
            source = (
                session.scalar(select(Ticket.key).where(Ticket.id == article.source_ticket_id))
                or ""
            )
        agent_zone = None
        with suppress(ServiceError):  # an unknown viewer still sees it in the desk's zone
            agent_zone = get_agent(session, login).timezone
        zone = _zone(timezone, agent_zone, desk_settings(session).timezone)
        stamp = article.updated_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return ArticleView(
            id=article.id,
            title=clean(article.title, single_line=True),
            body=clean(article.body),
            category=clean(article.category.path, single_line=True) if article.category else "",
            tags=tuple(clean(t, single_line=True) for t in article.tags or ()),
            status=article.status.value,
            visibility=article.visibility.value,
            author=author,
            source_ticket=source,
            helpful=article.helpful,
            not_helpful=article.not_helpful,
            updated=_when(stamp, relative_age(article.updated_at, now)),
        )
