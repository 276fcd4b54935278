"""`helpdesk ticket search`, `helpdesk kb search` and `helpdesk kb suggest`: thin glue over
`services.search`.

The query language is the same everywhere: words (all must match), "phrases", -exclusions,
`tag:x`, `category:"A > B"` (or the category's own name; what is below it too), `word*` for
a prefix; an unknown category is an error, not an empty result. Human output marks the
matched words in bold, and an article's snippet without its Markdown syntax
(`markdown_text`, as the console shows it); JSON gives each hit with `snippet` as the stored
text and `marks` as [start, end) offsets into it, plus `corrections` when a misspelt word
was widened. Registered on the `ticket` and `kb` apps by `cli/__init__`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from tui_helpdesk.markdown_text import snippet_text
from tui_helpdesk.services import search
from tui_helpdesk.services.search import ArticleHit, Marked, SearchResult, TicketHit
from tui_helpdesk.text import highlighted

from .common import JsonFlag, read_body, runtime
from .output import hint, print_json, show, when
from .runtime import CliError
from .statuses import parse_statuses, status_option

Query = Annotated[
    str,
    typer.Argument(
        metavar="QUERY",
        help='Words, "a phrase", -exclude, tag:x, category:"A > B" (or B), prefix*.',
    ),
]
Limit = Annotated[int, typer.Option("--limit", "-n", min=1, max=search.MAX_LIMIT)]


def marked_text(marked: Marked, style: str = "bold") -> Text:
    """Highlighted pieces as Rich text: the words matched in `style`, never markup."""
    return highlighted(marked.pieces, highlight=style)


def marked_doc(marked: Marked) -> dict[str, Any]:
    marks, at = [], 0
    for piece, lit in marked.pieces:
        if lit:
            marks.append([at, at + len(piece)])
        at += len(piece)
    return {"text": marked.plain, "marks": marks}


def _corrections(result: SearchResult[Any]) -> None:
    for word, alternatives in result.corrections.items():
        hint(f"{word!r} not found: also searched {', '.join(alternatives)}")


def article_hit_doc(hit: ArticleHit) -> dict[str, Any]:
    return {
        "id": hit.id,
        "title": hit.title.plain,
        "title_marks": marked_doc(hit.title)["marks"],
        "snippet": marked_doc(hit.snippet),
        "category": hit.category,
        "tags": hit.tags,
        "status": hit.status,
        "visibility": hit.visibility,
        "helpful": hit.helpful,
        "not_helpful": hit.not_helpful,
        "updated_at": hit.updated_at.isoformat().replace("+00:00", "Z"),
        "score": round(hit.score, 6),
    }


def ticket_hit_doc(hit: TicketHit) -> dict[str, Any]:
    return {
        "key": hit.key,
        "subject": hit.subject.plain,
        "subject_marks": marked_doc(hit.subject)["marks"],
        "snippet": marked_doc(hit.snippet),
        "status": hit.status,
        "created_at": hit.created_at.isoformat().replace("+00:00", "Z"),
        "resolved_at": hit.resolved_at.isoformat().replace("+00:00", "Z")
        if hit.resolved_at
        else None,
        "resolution": hit.resolution,
        "score": round(hit.score, 6),
    }


def _article_table(hits: list[ArticleHit]) -> Table:
    table = Table("ID", "Article", box=None, header_style="bold", pad_edge=False, expand=True)
    for hit in hits:
        about = marked_text(hit.title)
        if hit.status != "published":
            about.append(f"  [{hit.status}]", style="dim")
        # The body's Markdown as it reads (syntax out, matched words kept), as the console.
        snippet = snippet_text(hit.snippet.pieces, style="dim", highlight="bold")
        if snippet:
            about.append("\n")
            about.append_text(snippet)
        table.add_row(Text(str(hit.id), style="bold"), about)
    return table


def _ticket_table(hits: list[TicketHit], zone: str) -> Table:
    table = Table("Number", "Status", "Created", "Ticket", box=None, header_style="bold")
    for hit in hits:
        about = marked_text(hit.subject)
        if hit.snippet.pieces:
            about.append("\n")
            about.append_text(marked_text(hit.snippet))
        if hit.resolution:
            answer = " ".join(hit.resolution.split())
            cut = answer if len(answer) <= 160 else answer[:159] + "…"
            about.append(f"\nresolution: {cut}", style="dim")
        table.add_row(
            Text(hit.key, style="bold"), Text(hit.status), Text(when(hit.created_at, zone)), about
        )
    return table


def ticket_search(
    ctx: typer.Context,
    query: Query,
    status: Annotated[list[str] | None, status_option("all")] = None,
    limit: Limit = 20,
    json_out: JsonFlag = False,
) -> None:
    """Search tickets by subject and message text, best match first.

    JSON: {"tickets": [...], "corrections": {...}}.
    """
    rt = runtime(ctx)
    with rt.store().read() as session:
        statuses = parse_statuses(status, default=())
        result = search.search_tickets(session, query, limit=limit, statuses=statuses)
        zone = rt.display_zone(session)
    if json_out:
        print_json(
            {
                "tickets": [ticket_hit_doc(h) for h in result.hits],
                "corrections": result.corrections,
            }
        )
        return
    _corrections(result)
    if result.hits:
        show(_ticket_table(result.hits, zone))
    else:
        hint("no ticket matches")


def kb_search(
    ctx: typer.Context,
    query: Query,
    published: Annotated[
        bool, typer.Option("--published", help="Published articles only (no drafts).")
    ] = False,
    public: Annotated[
        bool, typer.Option("--public", help="Articles customers may see only.")
    ] = False,
    limit: Limit = 20,
    json_out: JsonFlag = False,
) -> None:
    """Search the knowledge base, best match first (typos forgiven).

    A misspelt word also finds its correction, named on stderr.
    JSON: {"articles": [...], "corrections": {...}}.
    """
    with runtime(ctx).store().read() as session:
        result = search.search_articles(
            session, query, limit=limit, published_only=published, public_only=public
        )
    if json_out:
        print_json(
            {
                "articles": [article_hit_doc(h) for h in result.hits],
                "corrections": result.corrections,
            }
        )
        return
    _corrections(result)
    if result.hits:
        show(_article_table(result.hits))
    else:
        hint("no article matches")


def kb_suggest(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option("--subject", metavar="TEXT")] = "",
    body: Annotated[
        str | None, typer.Option("--body", metavar="TEXT", help="The description so far.")
    ] = None,
    body_file: Annotated[
        str | None,
        typer.Option("--body-file", metavar="FILE", help="Read it from FILE (-: stdin)."),
    ] = None,
    limit: Limit = 5,
    json_out: JsonFlag = False,
) -> None:
    """Suggest articles and resolved tickets for a new ticket.

    Articles and similar resolved tickets for a ticket being written.

    What the console's new-ticket form shows, from the ticket's informative words.
    JSON: {"keywords": [...], "articles": [...], "tickets": [...]}.
    """
    description = read_body(body, body_file, required=False) or ""
    if not subject.strip() and not description.strip():
        raise CliError("nothing to suggest from: give --subject and/or --body", 2)
    rt = runtime(ctx)
    with rt.store().read() as session:
        found = search.suggest(session, subject, description, articles=limit, tickets=limit)
        zone = rt.display_zone(session)
    if json_out:
        print_json(
            {
                "keywords": list(found.keywords),
                "articles": [article_hit_doc(h) for h in found.articles],
                "tickets": [ticket_hit_doc(h) for h in found.tickets],
            }
        )
        return
    if found.articles:
        show(_article_table(found.articles))
    else:
        hint("no article to suggest")
    if found.tickets:
        show(_ticket_table(found.tickets, zone))
    else:
        hint("no similar resolved ticket")
