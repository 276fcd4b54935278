"""The knowledge base's articles: write, edit, publish, list, vote, and draft from a ticket.

Called by the CLI (`helpdesk kb ...`), the console's knowledge screen and `kb_files` (the
Markdown folder format). Full-text search is not here: `services/search.py` owns it, and the
database keeps its index in step with triggers, so nothing in this module touches the index.

Rules kept here, once, for every caller:
- a title is one line (runs of white space become one space), 1 to 300 characters;
- tags follow the ticket tag rule (`tickets.normalise_tags`): lower case, spaces become `-`,
  letters, digits and `_ . : / -`, unique, stored **sorted** (so the same set always reads
  the same, in lists, files and diffs);
- a category is an existing path (`Technical > Network`); an unknown one is a
  `ValidationError` naming it, with the command that creates it;
- a published article has a body; the body is Markdown kept exactly as given.

Article text is untrusted: it is stored as given and made inert by whoever shows it.
Nothing here commits. Article changes have no audit trail of their own (there is no table
for one; `TicketEvent` rows belong to tickets).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, cast, or_, select, update
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ArticleStatus, EventKind, MessageKind, Status, Visibility
from tui_helpdesk.services import audit
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.directory import get_category
from tui_helpdesk.services.errors import NotFound, ServiceError, ValidationError
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.services.tickets import UNSET, _Unset, get_ticket, normalise_tags
from tui_helpdesk.store.models import Agent, Article, Category, Message, Ticket
from tui_helpdesk.text import clean

MAX_TITLE = 300
MAX_LIMIT = 500
DEFAULT_LIMIT = 50

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_TITLE",
    "UNSET",
    "ArticleChanges",
    "ArticleDraft",
    "ArticlePage",
    "EditResult",
    "Votes",
    "add_article",
    "article_doc",
    "article_docs",
    "author_logins",
    "category_for",
    "clean_tags",
    "clean_title",
    "draft_from_ticket",
    "edit_article",
    "get_article",
    "list_articles",
    "publish_article",
    "ticket_keys",
    "unpublish_article",
    "vote",
]


# --- validation ---------------------------------------------------------------------------


def clean_title(title: str) -> str:
    """The title on one line; refused when empty or longer than `MAX_TITLE`."""
    text = " ".join(title.split())
    if not text:
        raise ValidationError("an article needs a title")
    if len(text) > MAX_TITLE:
        raise ValidationError(f"title too long ({len(text)} > {MAX_TITLE} characters)")
    return text


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags by the ticket rule: lower case, unique, sorted."""
    return normalise_tags(tags)


def category_for(session: Session, path: str, *, hint: str = "add") -> Category:
    """The category at `path`, or a `ValidationError` naming it. `hint="add"` tells how to
    create it (when writing an article), `hint="list"` where to look (when filtering)."""
    try:
        return get_category(session, path)
    except NotFound:
        if hint == "add":
            how = f"create it with `helpdesk category add '{path.strip()}'`"
        else:
            how = "see `helpdesk category list`"
        raise ValidationError(f"unknown category {path.strip()!r}: {how}") from None


def _check_publishable(article_id: int | None, body: str, status: ArticleStatus) -> None:
    if status is ArticleStatus.PUBLISHED and not body.strip():
        which = f"article {article_id}" if article_id is not None else "the article"
        raise ValidationError(f"{which} has no body: write one before publishing it")


# --- loading ------------------------------------------------------------------------------


def get_article(session: Session, article_id: int, *, for_update: bool = False) -> Article:
    """An article by id. `for_update` locks the row (PostgreSQL; SQLite write transactions
    already hold the database lock), so two edits of one article queue."""
    query = select(Article).where(Article.id == article_id)
    if for_update:
        query = query.with_for_update(of=Article).execution_options(populate_existing=True)
    article = session.scalar(query)
    if article is None:
        raise NotFound(f"no article {article_id} (see `helpdesk kb list`)")
    return article


# --- writing ------------------------------------------------------------------------------


@dataclass
class ArticleDraft:
    title: str
    body: str = ""
    category: str | None = None  # a path, e.g. "Accounts > Passwords"
    tags: Sequence[str] = ()
    visibility: Visibility = Visibility.INTERNAL
    status: ArticleStatus = ArticleStatus.DRAFT


def add_article(session: Session, now: datetime, actor: Actor, draft: ArticleDraft) -> Article:
    """A new article written by `actor` (no author when the desk itself writes it)."""
    title = clean_title(draft.title)
    tags = clean_tags(draft.tags)
    category = category_for(session, draft.category) if draft.category else None
    _check_publishable(None, draft.body, draft.status)
    article = Article(
        title=title,
        body=draft.body,
        category=category,
        tags=tags,
        visibility=draft.visibility,
        status=draft.status,
        author_id=actor.agent_id,
        helpful=0,
        not_helpful=0,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    return article


@dataclass(frozen=True)
class ArticleChanges:
    """What to change; `None` (or `UNSET` for the category, where `None` clears it) leaves a
    field as it is. `tags` replaces the whole set."""

    title: str | None = None
    body: str | None = None
    category: str | _Unset | None = UNSET
    tags: Sequence[str] | None = None
    visibility: Visibility | None = None
    status: ArticleStatus | None = None

    @property
    def empty(self) -> bool:
        return (
            self.title is None
            and self.body is None
            and self.category is UNSET
            and self.tags is None
            and self.visibility is None
            and self.status is None
        )


@dataclass(frozen=True)
class EditResult:
    article: Article
    changed: tuple[str, ...] = field(default=())  # the fields that really changed


def edit_article(
    session: Session, now: datetime, actor: Actor, article_id: int, changes: ArticleChanges
) -> EditResult:
    """Change the given fields. `updated_at` moves only when a value really changed; a change
    that sets what is already there writes nothing. `actor` is the editor (kept for the
    audit trail articles do not have yet)."""
    del actor  # no article audit table: see the module docstring
    article = get_article(session, article_id, for_update=True)
    wanted: dict[str, Any] = {}
    if changes.title is not None:
        wanted["title"] = clean_title(changes.title)
    if changes.body is not None:
        wanted["body"] = changes.body
    if not isinstance(changes.category, _Unset):
        path = changes.category
        wanted["category_id"] = category_for(session, path).id if path else None
    if changes.tags is not None:
        wanted["tags"] = clean_tags(changes.tags)
    if changes.visibility is not None:
        wanted["visibility"] = changes.visibility
    if changes.status is not None:
        wanted["status"] = changes.status
    changed = tuple(name for name, value in wanted.items() if getattr(article, name) != value)
    if not changed:
        return EditResult(article)
    _check_publishable(
        article.id, wanted.get("body", article.body), wanted.get("status", article.status)
    )
    for name in changed:
        setattr(article, name, wanted[name])
    article.updated_at = now
    session.flush()
    if "category_id" in changed:
        session.refresh(article, ["category"])
    names = tuple("category" if name == "category_id" else name for name in changed)
    return EditResult(article, names)


def publish_article(session: Session, now: datetime, actor: Actor, article_id: int) -> EditResult:
    """Publish (a published article needs a body); publishing it again changes nothing."""
    return edit_article(
        session, now, actor, article_id, ArticleChanges(status=ArticleStatus.PUBLISHED)
    )


def unpublish_article(session: Session, now: datetime, actor: Actor, article_id: int) -> EditResult:
    """Back to draft; a draft stays as it is."""
    return edit_article(session, now, actor, article_id, ArticleChanges(status=ArticleStatus.DRAFT))


# --- listing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    next_after: int | None  # pass back as `after_id` for the next page; None on the last


def list_articles(
    session: Session,
    *,
    status: ArticleStatus | None = None,
    visibility: Visibility | None = None,
    category: str | None = None,
    tag: str | None = None,
    after_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> ArticlePage:
    """One page of articles in id order (keyset paging: `limit + 1` rows are read to know
    whether there is a next page). `category` includes its sub-categories."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be 1 to {MAX_LIMIT}, got {limit}")
    clauses: list[ColumnElement[bool]] = []
    if status is not None:
        clauses.append(Article.status == status)
    if visibility is not None:
        clauses.append(Article.visibility == visibility)
    if category:
        node = category_for(session, category, hint="list")
        sub_ids = select(Category.id).where(
            or_(
                Category.id == node.id,
                Category.path.startswith(node.path + " > ", autoescape=True),
            )
        )
        clauses.append(Article.category_id.in_(sub_ids))
    if tag:
        words = clean_tags([tag])
        if len(words) != 1:
            raise ValidationError(f"invalid tag {tag!r}")
        # Tags are normalised (no quotes, no backslashes), so `"tag"` in the JSON text of the
        # list is an exact element match on both back ends.
        clauses.append(cast(Article.tags, String).contains(f'"{words[0]}"', autoescape=True))
    if after_id is not None:
        clauses.append(Article.id > after_id)
    rows = list(
        session.scalars(select(Article).where(*clauses).order_by(Article.id).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return ArticlePage(rows, rows[-1].id if more else None)


# --- votes --------------------------------------------------------------------------------


class Votes(NamedTuple):
    helpful: int
    not_helpful: int


def vote(session: Session, article_id: int, helpful: bool) -> Votes:
    """Count one reader's vote on a published article, atomically in the database (two
    votes at once both count). A vote is not an edit: `updated_at` stays."""
    column = Article.helpful if helpful else Article.not_helpful
    row = session.execute(
        update(Article)
        .where(Article.id == article_id, Article.status == ArticleStatus.PUBLISHED)
        .values({column: column + 1})
        .returning(Article.helpful, Article.not_helpful)
        .execution_options(synchronize_session="fetch")
    ).one_or_none()
    if row is None:
        get_article(session, article_id)  # NotFound for an unknown id
        raise ServiceError(f"article {article_id} is a draft: only published articles take votes")
    return Votes(row.helpful, row.not_helpful)


# --- drafting from a ticket ---------------------------------------------------------------


def _first_customer_message(session: Session, ticket: Ticket) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.kind == MessageKind.CUSTOMER)
        .order_by(Message.created_at, Message.id)
        .limit(1)
    ).first()


def _last_public_reply(session: Session, ticket: Ticket) -> Message | None:
    return session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.kind == MessageKind.REPLY)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    ).first()


def draft_from_ticket(session: Session, now: datetime, actor: Actor, ticket_key: str) -> Article:
    """An internal draft built from a resolved or closed ticket: its subject as the title,
    "## Problem" (the first customer message, else the subject) and "## Solution" (the last
    public reply), its category and tags, and a link back to it.

    Refused for a ticket still being worked, one without a public reply, and one already
    drafted (edit that article instead). The message text is copied without control
    characters; it may hold customer details, which is why the draft is internal.
    No event is written on the ticket: no `EventKind` says "article drafted"."""
    ticket = get_ticket(session, ticket_key)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise ServiceError(
            f"{ticket.key} is {ticket.status.value}: draft an article from a resolved or "
            "closed ticket, once its solution is known"
        )
    existing = session.scalar(
        select(Article.id).where(Article.source_ticket_id == ticket.id).order_by(Article.id)
    )
    if existing is not None:
        raise ServiceError(
            f"{ticket.key} already has article {existing}: edit it with `helpdesk kb edit "
            f"{existing}`"
        )
    solution = _last_public_reply(session, ticket)
    if solution is None:
        raise ServiceError(f"{ticket.key} has no public reply to take the solution from")
    problem = _first_customer_message(session, ticket)
    problem_text = clean(problem.body).strip() if problem is not None else ticket.subject
    body = f"## Problem\n\n{problem_text}\n\n## Solution\n\n{clean(solution.body).strip()}\n"
    title = ticket.subject
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    article = Article(
        title=clean_title(title),
        body=body,
        category_id=ticket.category_id,
        tags=clean_tags(ticket.tags),
        visibility=Visibility.INTERNAL,
        status=ArticleStatus.DRAFT,
        author_id=actor.agent_id,
        source_ticket_id=ticket.id,
        helpful=0,
        not_helpful=0,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    session.refresh(article, ["category"])
    audit.record(session, ticket, actor, now, EventKind.ARTICLE, field="article", new=article.id)
    return article


# --- documents ----------------------------------------------------------------------------


def article_doc(
    article: Article, *, author: str | None, source_ticket: str | None
) -> dict[str, Any]:
    """The JSON document of an article (stable keys, ISO 8601 UTC times with `Z`). The body
    is the stored Markdown, as is: printers make it inert."""
    return {
        "id": article.id,
        "title": article.title,
        "category": article.category.path if article.category else None,
        "tags": list(article.tags),
        "visibility": article.visibility.value,
        "status": article.status.value,
        "author": author,
        "source_ticket": source_ticket,
        "helpful": article.helpful,
        "not_helpful": article.not_helpful,
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
        "body": article.body,
    }


def author_logins(session: Session, articles: Sequence[Article]) -> dict[int, str]:
    """Agent id -> login for the authors of these articles, in one query."""
    ids = {a.author_id for a in articles if a.author_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Agent.id, Agent.login).where(Agent.id.in_(ids)))
    return {agent_id: login for agent_id, login in rows}


def ticket_keys(session: Session, articles: Sequence[Article]) -> dict[int, str]:
    """Ticket id -> key ("HD-12") for the source tickets of these articles, in one query."""
    ids = {a.source_ticket_id for a in articles if a.source_ticket_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Ticket.id, Ticket.key).where(Ticket.id.in_(ids)))
    return {ticket_id: key for ticket_id, key in rows}


def article_docs(session: Session, articles: Sequence[Article]) -> list[dict[str, Any]]:
    """`article_doc` for each article, with authors and source tickets read in two queries."""
    logins = author_logins(session, articles)
    keys = ticket_keys(session, articles)
    return [
        article_doc(
            a,
            author=logins.get(a.author_id) if a.author_id is not None else None,
            source_ticket=keys.get(a.source_ticket_id) if a.source_ticket_id is not None else None,
        )
        for a in articles
    ]
