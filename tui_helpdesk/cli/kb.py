"""`helpdesk kb ...`: the knowledge base's articles.

Thin glue over `services.kb` (add, edit, publish, list, vote, draft from a ticket) and
`services.kb_files` (a folder of Markdown files with TOML front matter). Every command acts
as an agent (`--as`); changes run in one unit of work and print after it commits: the
article id (`add`, `from-ticket`), a one-line confirmation, or with `--json` the document
{"article": {...}}. `list --json` prints {"articles": [...], "next_cursor": CURSOR or null}.

Article text is untrusted: `show` renders the body as Markdown on a terminal (Rich's
Markdown never reads Rich markup; links are shown as text, not made clickable) and prints
it as plain text when piped; titles, tags and names go through `inert()`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from tui_helpdesk.domain import ArticleStatus, Visibility
from tui_helpdesk.services import kb, kb_files
from tui_helpdesk.text import clean

from .common import JsonFlag, read_text, runtime
from .lazy import from_module, lazy_group
from .output import console, hint, inert, print_json, say, show, when
from .runtime import CliError

app = typer.Typer(
    rich_markup_mode=None,
    cls=lazy_group(
        {
            "search": from_module(".search", "kb_search"),
            "suggest": from_module(".search", "kb_suggest"),
        }
    ),
    help="Knowledge base: write, publish, find and share articles.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ArticleId = Annotated[int, typer.Argument(metavar="ID", help="The article's number.", min=1)]
Body = Annotated[
    str | None, typer.Option("--body", metavar="TEXT", help="The article text (Markdown).")
]
BodyFile = Annotated[
    str | None,
    typer.Option(
        "--body-file", metavar="FILE", help="Read the article text from FILE (- for stdin)."
    ),
]
Category = Annotated[
    str | None,
    typer.Option(
        "--category", metavar="PATH", help="An existing category, e.g. 'Accounts > Passwords'."
    ),
]
Tags = Annotated[list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="Repeatable.")]
Folder = Annotated[
    Path, typer.Argument(metavar="FOLDER", help="A folder of <id>-<title>.md files.")
]


def _body(body: str | None, body_file: str | None) -> str | None:
    if body is not None and body_file is not None:
        raise CliError("give the text with --body or --body-file, not both", 2)
    if body_file is not None:
        return read_text(body_file, "article text")
    return body


def _print_article(doc: dict[str, Any], json_out: bool, line: str) -> None:
    if json_out:
        print_json({"article": doc})
    else:
        say(line)


# --- writing ------------------------------------------------------------------------------


@app.command()
def add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", metavar="TITLE", help="One line.")],
    body: Body = None,
    body_file: BodyFile = None,
    category: Category = None,
    tag: Tags = None,
    public: Annotated[
        bool, typer.Option("--public", help="Customers may read it (default: internal).")
    ] = False,
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish now (default: draft).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Write an article. Prints its id (with --json: {"article": {...}})."""
    rt = runtime(ctx)
    draft = kb.ArticleDraft(
        title=title,
        body=_body(body, body_file) or "",
        category=category,
        tags=tag or (),
        visibility=Visibility.PUBLIC if public else Visibility.INTERNAL,
        status=ArticleStatus.PUBLISHED if publish else ArticleStatus.DRAFT,
    )
    with rt.store().write() as session:
        article = kb.add_article(session, rt.now, rt.actor(session), draft)
        doc = kb.article_docs(session, [article])[0]
    _print_article(doc, json_out, str(doc["id"]))


@app.command()
def edit(
    ctx: typer.Context,
    article_id: ArticleId,
    title: Annotated[str | None, typer.Option("--title", metavar="TITLE")] = None,
    body: Body = None,
    body_file: BodyFile = None,
    category: Category = None,
    no_category: Annotated[bool, typer.Option("--no-category", help="Clear the category.")] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="TAG", help="Repeatable; replaces all tags."),
    ] = None,
    no_tags: Annotated[bool, typer.Option("--no-tags", help="Remove all tags.")] = False,
    public: Annotated[
        bool | None, typer.Option("--public/--internal", help="Who may read it.")
    ] = None,
    publish: Annotated[
        bool | None, typer.Option("--publish/--draft", help="Publish, or back to draft.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Change an article: only the options given change."""
    if category and no_category:
        raise CliError("give --category PATH or --no-category, not both", 2)
    if tag and no_tags:
        raise CliError("give --tag or --no-tags, not both", 2)
    changes = kb.ArticleChanges(
        title=title,
        body=_body(body, body_file),
        category=None if no_category else (category if category is not None else kb.UNSET),
        tags=[] if no_tags else tag,
        visibility=None if public is None else Visibility.PUBLIC if public else Visibility.INTERNAL,
        status=None
        if publish is None
        else ArticleStatus.PUBLISHED
        if publish
        else ArticleStatus.DRAFT,
    )
    if changes.empty:
        raise CliError(
            "nothing to change: give --title, --body, --category, --tag, --public or --publish "
            "(see `helpdesk kb edit --help`)",
            2,
        )
    rt = runtime(ctx)
    with rt.store().write() as session:
        result = kb.edit_article(session, rt.now, rt.actor(session), article_id, changes)
        doc = kb.article_docs(session, [result.article])[0]
    what = ", ".join(result.changed)
    _print_article(
        doc,
        json_out,
        f"article {article_id}: {what} changed" if what else f"article {article_id}: no change",
    )


def _set_status(ctx: typer.Context, article_id: int, publish: bool, json_out: bool) -> None:
    rt = runtime(ctx)
    change = kb.publish_article if publish else kb.unpublish_article
    with rt.store().write() as session:
        result = change(session, rt.now, rt.actor(session), article_id)
        doc = kb.article_docs(session, [result.article])[0]
    state = "published" if publish else "a draft"
    line = f"article {article_id} is {'now' if result.changed else 'already'} {state}"
    _print_article(doc, json_out, line)


@app.command()
def publish(ctx: typer.Context, article_id: ArticleId, json_out: JsonFlag = False) -> None:
    """Publish an article (it needs a body)."""
    _set_status(ctx, article_id, True, json_out)


@app.command()
def unpublish(ctx: typer.Context, article_id: ArticleId, json_out: JsonFlag = False) -> None:
    """Take an article back to draft."""
    _set_status(ctx, article_id, False, json_out)


@app.command()
def vote(
    ctx: typer.Context,
    article_id: ArticleId,
    helpful: Annotated[
        bool | None,
        typer.Option("--helpful/--not-helpful", help="The reader's verdict (one is required)."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Count a reader's vote on a published article."""
    if helpful is None:
        raise CliError("say how it went: --helpful or --not-helpful", 2)
    rt = runtime(ctx)
    with rt.store().write() as session:
        rt.actor(session)
        votes = kb.vote(session, article_id, helpful)
    if json_out:
        print_json({"article": {"id": article_id, **votes._asdict()}})
    else:
        say(f"article {article_id}: {votes.helpful} helpful, {votes.not_helpful} not helpful")


@app.command("from-ticket")
def from_ticket(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(metavar="NUMBER", help="HD-12, 12 or #12.")],
    json_out: JsonFlag = False,
) -> None:
    """Draft an internal article from a resolved ticket.

    The ticket may be resolved or closed; prints the article's id.

    The ticket's first customer message becomes the problem, its last public reply the
    solution; its category and tags are kept. With --json: {"article": {...}}."""
    rt = runtime(ctx)
    with rt.store().write() as session:
        article = kb.draft_from_ticket(session, rt.now, rt.actor(session), number)
        doc = kb.article_docs(session, [article])[0]
    _print_article(doc, json_out, str(doc["id"]))


# --- reading ------------------------------------------------------------------------------


def _label(label: str, value: Text | str) -> Text:
    text = Text(f"{label} ", style="dim")
    text.append_text(value if isinstance(value, Text) else Text(value))
    return text


def _when(value: str | None, zone: str) -> str:
    return when(datetime.fromisoformat(value), zone) if value else "-"


def _header(doc: dict[str, Any], zone: str) -> list[RenderableType]:
    votes = f"{doc['helpful']} helpful, {doc['not_helpful']} not helpful"
    return [
        Text.assemble(Text(f"#{doc['id']}", style="bold"), "  ", inert(doc["title"], style="bold")),
        Text("  ").join(
            [
                _label("status", doc["status"]),
                _label("visibility", doc["visibility"]),
                _label("category", inert(doc["category"] or "-")),
            ]
        ),
        Text("  ").join(
            [
                _label("tags", inert(", ".join(doc["tags"]) or "-")),
                _label("author", inert(doc["author"] or "-")),
                _label("from", inert(doc["source_ticket"] or "-")),
            ]
        ),
        Text("  ").join(
            [
                _label("created", _when(doc["created_at"], zone)),
                _label("updated", _when(doc["updated_at"], zone)),
                _label("votes", votes),
            ]
        ),
    ]


@app.command("show")
def show_(ctx: typer.Context, article_id: ArticleId, json_out: JsonFlag = False) -> None:
    """Show an article.

    Markdown on a terminal, plain text when piped.

    JSON: {"article": {...}} with the body as stored."""
    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        doc = kb.article_docs(session, [kb.get_article(session, article_id)])[0]
        zone = rt.display_zone(session)
    if json_out:
        print_json({"article": doc})
        return
    body_text = clean(doc["body"])
    # A terminal gets the Markdown rendered; a pipe gets the text as written.
    body: RenderableType = (
        Markdown(body_text, hyperlinks=False) if console().is_terminal else Text(body_text)
    )
    show(Group(*_header(doc, zone)), Text(""), body)


def _table(docs: list[dict[str, Any]]) -> Table:
    """One article a line, even at 80 columns: long titles and categories are cut, never
    wrapped (tags and times are in `kb show` and `--json`)."""
    table = Table(box=None, header_style="bold", pad_edge=False, show_edge=False)
    for column in ("ID", "Status", "Visibility", "Votes"):
        table.add_column(column, no_wrap=True)
    # Rich narrows only columns that may wrap; the cells themselves refuse to wrap, so a
    # narrowed title or category ends in an ellipsis instead of taking more lines.
    table.add_column("Title", min_width=12)
    table.add_column("Category", max_width=24)

    def cut(text: str) -> Text:
        cell = inert(text)
        cell.no_wrap, cell.overflow = True, "ellipsis"
        return cell

    for doc in docs:
        table.add_row(
            Text(str(doc["id"]), style="bold"),
            Text(doc["status"]),
            Text(doc["visibility"]),
            Text(f"+{doc['helpful']} -{doc['not_helpful']}"),
            cut(doc["title"]),
            cut(doc["category"] or "-"),
        )
    return table


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[ArticleStatus | None, typer.Option("--status")] = None,
    visibility: Annotated[Visibility | None, typer.Option("--visibility")] = None,
    tag: Annotated[str | None, typer.Option("--tag", "-t", metavar="TAG")] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", metavar="PATH", help="Includes sub-categories."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", metavar="N", min=1, max=kb.MAX_LIMIT)
    ] = kb.DEFAULT_LIMIT,
    after: Annotated[
        str | None,
        typer.Option("--after", metavar="CURSOR", help="Next page: the cursor of the last one."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """List articles in id order, one page at a time.

    JSON: {"articles": [...], "next_cursor": CURSOR or null}; pass the cursor back with
    --after (same filters) for the next page."""
    after_id = None
    if after is not None:
        if not after.strip().isdigit():
            raise CliError(f"invalid cursor {after!r}: pass the next_cursor of the last page", 2)
        after_id = int(after)
    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        page = kb.list_articles(
            session,
            status=status,
            visibility=visibility,
            category=category,
            tag=tag,
            after_id=after_id,
            limit=limit,
        )
        docs = kb.article_docs(session, page.articles)
    next_cursor = str(page.next_after) if page.next_after is not None else None
    if json_out:
        print_json({"articles": docs, "next_cursor": next_cursor})
        return
    if not docs:
        hint("no articles match")
        return
    show(_table(docs))
    if next_cursor:
        hint(f"more: add --after {next_cursor}")


# --- files --------------------------------------------------------------------------------


@app.command("export")
def export(ctx: typer.Context, folder: Folder) -> None:
    """Write every article to FOLDER as a Markdown file.

    One file each, with TOML front matter."""
    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        try:
            count = kb_files.export_articles(session, folder)
        except OSError as exc:
            raise CliError(f"cannot write to {folder}: {exc.strerror or exc}") from None
    say(f"exported {count} article{'' if count == 1 else 's'} to {folder}")


@app.command("import")
def import_(
    ctx: typer.Context,
    folder: Folder,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every file and count; write nothing.")
    ] = False,
    create_categories: Annotated[
        bool,
        typer.Option(
            "--create-categories",
            help="Create the categories the files name and the desk lacks (default: such a "
            "file is bad).",
        ),
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Import FOLDER's *.md articles (all or nothing).

    Every file is checked first: one bad file and nothing is written, each bad file is
    named on its own line. Known ids are updated, others created with their id; a file
    without an id updates the article with its title, else is created. A category the
    desk lacks makes its file bad (a typo is not a new category), unless
    --create-categories, which creates and lists them (a restore into an empty desk).

    A file is TOML front matter between +++ lines, then the Markdown body. Keys: title
    (required), id, category ("Accounts > Passwords"), tags (a list), visibility
    (internal, public), status (draft, published), author (a login), source_ticket
    ("HD-12"), helpful, not_helpful, created, updated (2026-11-20T10:00:00Z).

    JSON: {"created": N, "updated": N, "unchanged": N, "categories_created": [...],
    "dry_run": bool}."""
    rt = runtime(ctx)
    unit = rt.store().read if dry_run else rt.store().write
    with unit() as session:
        result = kb_files.import_articles(
            session,
            rt.now,
            rt.actor(session),
            folder,
            dry_run=dry_run,
            create_categories=create_categories,
        )
    if json_out:
        print_json(
            {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "categories_created": list(result.categories_created),
                "dry_run": result.dry_run,
            }
        )
        return
    verb = "would import" if dry_run else "imported"
    line = (
        f"{verb} {folder}: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged"
    )
    if result.categories_created:
        made = "would create" if dry_run else "created"
        line += f"; {made} categories: {', '.join(result.categories_created)}"
    say(line)
