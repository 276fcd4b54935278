"""The knowledge base as a folder of Markdown files: `helpdesk kb export|import`.

One file per article, `<id>-<ascii-slug-of-title>.md`: TOML front matter between `+++`
lines (Hugo style), then the body exactly as stored (everything after the closing `+++`
line, verbatim: leading and trailing blank lines, no final newline if there is none):

    +++
    id = 12
    title = "Reset a forgotten password"
    category = "Accounts > Passwords"
    tags = ["login", "password"]
    visibility = "public"
    status = "published"
    author = "bob"
    source_ticket = "HD-1042"
    helpful = 3
    not_helpful = 0
    created = 2026-11-20T10:00:00Z
    updated = 2026-11-21T08:30:00Z
    +++
    <body>

Keys without a value (no category, author or source ticket) are left out. Strings are
escaped by tomli_w; the lines are laid out here so arrays stay on one line and times read
as RFC 3339 with `Z` (tomli_w writes `2026-11-20 10:00:00+00:00` and one item per line).
Files are read with tomllib. Export, import into an empty desk and export again gives the
same bytes.

Import reads every `*.md` of the folder (not sub-folders) and checks all of them before
writing anything; any bad file fails the whole import with one line per bad file
(`kb/12-reset.md: tags: expected a list of strings`) and nothing written. Then:
- with an `id`, an article with that id on this desk is updated when a field differs
  (title, body, category, tags, visibility, status, author, source ticket), else it is
  counted unchanged; other ids are created with that id. Ids are desk-local: importing
  another desk's folder over articles of this one overwrites them by id.
- without an `id` (articles written by hand or brought from elsewhere), the article of
  this desk with the same title (case aside) is the one updated, so importing the folder
  again changes nothing twice; with no such article it is created with a new id (after
  those the files name). Two such files with one title are refused, as are two files
  with one id.
- the vote counts and timestamps of the file are kept when an article is created (so a
  restore is lossless); an update keeps this desk's counts (votes cast since the export
  would otherwise be lost) and stamps `updated` with `now`;
- a category must exist on this desk, or the file is refused (a typo would otherwise
  become a new category); with `create_categories` (`--create-categories`) missing ones
  are created (`directory.ensure_category`) and listed in the result;
- `author` must be an agent of this desk and `source_ticket` a ticket of this desk, or
  the file is refused (leave the key out to import without one).
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tui_helpdesk.domain import ArticleStatus, Visibility
from tui_helpdesk.rules.numbering import parse_ref
from tui_helpdesk.services import directory
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import ServiceError, ValidationError
from tui_helpdesk.services.imports import ImportFailed
from tui_helpdesk.services.kb import (
    author_logins,
    clean_tags,
    clean_title,
    ticket_keys,
)
from tui_helpdesk.store.models import Agent, Article, Category, Ticket

DELIMITER = "+++"
BATCH = 200
MAX_SLUG = 60
MAX_ID = 2**31 - 1  # an INTEGER column on both back ends

# The front matter's keys, in the order they are written.
KEYS = (
    "id",
    "title",
    "category",
    "tags",
    "visibility",
    "status",
    "author",
    "source_ticket",
    "helpful",
    "not_helpful",
    "created",
    "updated",
)


class ArticleImportFailed(ImportFailed):
    """Some files of the folder are bad; nothing was written."""

    def __init__(self, errors: Sequence[str], source: str) -> None:
        self.errors = list(errors)
        self.source = source
        count = len(self.errors)
        summary = f"{count} bad file{'' if count == 1 else 's'} in {source}; nothing imported"
        ValidationError.__init__(self, "\n".join([summary, *self.errors]))


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    categories_created: tuple[str, ...]  # paths, in the order they were first needed
    dry_run: bool


# --- writing ------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """An ASCII slug of the title ("Réinitialiser le mot de passe" -> "reinitialiser-le-mot-
    de-passe"), at most `MAX_SLUG` characters, "article" when nothing ASCII is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > MAX_SLUG:
        slug = slug[:MAX_SLUG].rsplit("-", 1)[0] if "-" in slug[:MAX_SLUG] else slug[:MAX_SLUG]
    return slug or "article"


def file_name(article_id: int, title: str) -> str:
    return f"{article_id}-{slugify(title)}.md"


def _string(value: str) -> str:
    """A TOML basic string, escaped by tomli_w."""
    line = tomli_w.dumps({"v": value})
    return line[len("v = ") : -1]


def _time(value: datetime) -> str:
    """An RFC 3339 offset date-time in UTC with `Z` (a TOML offset date-time)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        raise TypeError("no booleans in the front matter")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} in the front matter")


def _tag_set(tags: Sequence[str]) -> list[str]:
    """Tags as the services store them (sorted, unique), also for rows written otherwise
    (the demo desk keeps its tags in the order it lists them)."""
    return sorted(set(tags))


def render_article(article: Article, author: str | None, source_ticket: str | None) -> str:
    """The whole file: front matter, then the body as stored."""
    values: dict[str, object] = {
        "id": article.id,
        "title": article.title,
        "category": article.category.path if article.category else None,
        "tags": _tag_set(article.tags),
        "visibility": article.visibility.value,
        "status": article.status.value,
        "author": author,
        "source_ticket": source_ticket,
        "helpful": article.helpful,
        "not_helpful": article.not_helpful,
        "created": article.created_at,
        "updated": article.updated_at,
    }
    lines = [f"{key} = {_literal(value)}" for key, value in values.items() if value is not None]
    return "\n".join([DELIMITER, *lines, DELIMITER, ""]) + article.body


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` whole or not at all (a crash never leaves half a file)."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _batches(session: Session) -> Iterator[list[Article]]:
    """All articles in id order, `BATCH` at a time (keyset paging: memory stays flat)."""
    after = 0
    while True:
        batch = list(
            session.scalars(
                select(Article).where(Article.id > after).order_by(Article.id).limit(BATCH)
            )
        )
        if not batch:
            return
        yield batch
        after = batch[-1].id


def _earlier_exports(folder: Path) -> dict[int, list[Path]]:
    """Files this export wrote before, by article id: `<id>-*.md` starting `+++` / `id = <id>`."""
    found: dict[int, list[Path]] = {}
    for path in folder.glob("*.md"):
        match = re.match(r"(\d+)-", path.name)
        if not match or not path.is_file():
            continue
        with path.open("rb") as handle:
            head = handle.read(64)
        if head.startswith(f"{DELIMITER}\nid = {int(match.group(1))}\n".encode()):
            found.setdefault(int(match.group(1)), []).append(path)
    return found


def export_articles(session: Session, folder: Path) -> int:
    """Write every article to `folder` (created if missing) and return how many. An earlier
    export of the same article under another name (its title changed since) is removed, so
    the folder never holds two files with one id; other files are left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = _earlier_exports(folder)
    count = 0
    for batch in _batches(session):
        logins = author_logins(session, batch)
        keys = ticket_keys(session, batch)
        for article in batch:
            author = logins.get(article.author_id) if article.author_id is not None else None
            source = (
                keys.get(article.source_ticket_id) if article.source_ticket_id is not None else None
            )
            name = file_name(article.id, article.title)
            _write_atomically(folder / name, render_article(article, author, source).encode())
            for stale in existing.get(article.id, []):
                if stale.name != name:
                    stale.unlink(missing_ok=True)
            session.expunge(article)
            count += 1
    return count


# --- reading ------------------------------------------------------------------------------


@dataclass
class ArticleFile:
    """One file, parsed and checked on its own (references are checked against the desk
    later)."""

    name: str  # as shown in messages: the folder as given, then the file name
    id: int | None  # None: matched by title, else a new id
    title: str
    body: str
    category: str | None
    tags: list[str]
    visibility: Visibility
    status: ArticleStatus
    author: str | None
    source_ticket: str | None
    helpful: int
    not_helpful: int
    created: datetime | None
    updated: datetime | None


class BadArticleFile(ValidationError):
    """Problems with one file, each `key: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _split(content: str) -> tuple[str, str]:
    """(front matter, body). The body starts right after the closing `+++` line."""
    first, sep, rest = content.partition("\n")
    if first.rstrip("\r") != DELIMITER or not sep:
        raise BadArticleFile(["no front matter: the file must start with a +++ line"])
    front: list[str] = []
    position = 0
    while position < len(rest):
        end = rest.find("\n", position)
        line = rest[position:] if end < 0 else rest[position:end]
        following = len(rest) if end < 0 else end + 1
        line = line.removesuffix("\r")  # CRLF files: TOML reads either, but not a lone CR
        if line == DELIMITER:
            return "".join(f"{line}\n" for line in front), rest[following:]
        front.append(line)
        position = following
    raise BadArticleFile(["front matter: no closing +++ line"])


def _choice(key: str, value: object, kind: type[Visibility] | type[ArticleStatus]) -> Any:
    words = ", ".join(m.value for m in kind)
    if not isinstance(value, str):
        raise BadArticleFile([f"{key}: expected one of {words}"])
    try:
        return kind(value.strip().lower())
    except ValueError:
        raise BadArticleFile([f"{key}: expected one of {words}, got {value!r}"]) from None


def parse_article(name: str, content: str) -> ArticleFile:
    """Parse one file's text (`name` is for messages); `BadArticleFile` lists every problem
    found in it. References (author, ticket, category) are checked by the import."""
    front, body = _split(content)
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as exc:
        # tomllib counts lines from the start of the front matter; the file has `+++` above.
        where = re.sub(r"at line (\d+)", lambda m: f"at line {int(m[1]) + 1}", str(exc))
        raise BadArticleFile([f"front matter: {where}"]) from None
    problems: list[str] = []
    unknown = [key for key in data if key not in KEYS]
    if unknown:
        problems.append(f"{', '.join(unknown)}: unknown key (expected: {', '.join(KEYS)})")

    def take(key: str, check: Any, default: Any = None, required: bool = False) -> Any:
        if key not in data:
            if required:
                problems.append(f"{key}: required")
            return default
        try:
            return check(key, data[key])
        except BadArticleFile as bad:
            problems.extend(bad.problems)
            return default

    def integer(key: str, value: object) -> int:
        low = 1 if key == "id" else 0
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_ID:
            raise BadArticleFile([f"{key}: expected a whole number from {low}"])
        return value

    def string(key: str, value: object) -> str | None:
        if not isinstance(value, str):
            raise BadArticleFile([f"{key}: expected a string"])
        return value.strip() or None

    def title(key: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadArticleFile([f"{key}: expected a string"])
        try:
            return clean_title(value)
        except ValidationError as exc:
            raise BadArticleFile([f"{key}: {exc}"]) from None

    def category(key: str, value: object) -> str | None:
        path = string(key, value)
        if path is None:
            return None
        try:
            return directory.CATEGORY_SEPARATOR.join(directory.split_category_path(path))
        except ValidationError as exc:
            raise BadArticleFile([f"{key}: {exc}"]) from None

    def tags(key: str, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise BadArticleFile([f"{key}: expected a list of strings"])
        try:
            return clean_tags(value)
        except ValidationError as exc:
            raise BadArticleFile([f"{key}: {exc}"]) from None

    def moment(key: str, value: object) -> datetime:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise BadArticleFile(
                [f"{key}: expected a date-time with an offset, e.g. 2026-11-20T10:00:00Z"]
            )
        return value.astimezone(UTC)

    def ticket(key: str, value: object) -> str | None:
        ref = string(key, value)
        if ref is not None and parse_ref(ref) is None:
            raise BadArticleFile([f"{key}: not a ticket number: {ref!r} (write HD-12)"])
        return ref

    parsed = ArticleFile(
        name=name,
        id=take("id", integer),
        title=take("title", title, "", required=True),
        body=body,
        category=take("category", category),
        tags=take("tags", tags, []),
        visibility=take("visibility", lambda k, v: _choice(k, v, Visibility), Visibility.INTERNAL),
        status=take("status", lambda k, v: _choice(k, v, ArticleStatus), ArticleStatus.DRAFT),
        author=take("author", string),
        source_ticket=take("source_ticket", ticket),
        helpful=take("helpful", integer, 0),
        not_helpful=take("not_helpful", integer, 0),
        created=take("created", moment),
        updated=take("updated", moment),
    )
    if parsed.status is ArticleStatus.PUBLISHED and not parsed.body.strip():
        problems.append("status: a published article needs a body")
    if problems:
        raise BadArticleFile(problems)
    return parsed


Problems = dict[str, list[str]]  # file name (as shown) -> what is wrong with it


def _read_folder(folder: Path, problems: Problems) -> list[ArticleFile]:
    """Every `*.md` file of the folder, parsed; the bad ones go to `problems`."""
    if not folder.is_dir():
        what = "not a folder" if folder.exists() else "no such folder"
        raise ValidationError(f"{folder}: {what}")
    parsed: list[ArticleFile] = []
    for path in sorted(folder.glob("*.md")):
        name = str(folder / path.name)
        if not path.is_file():
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.setdefault(name, []).append(f"cannot read: {exc.strerror or exc}")
            continue
        try:
            content = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            problems.setdefault(name, []).append("not UTF-8 text")
            continue
        try:
            parsed.append(parse_article(name, content))
        except BadArticleFile as bad:
            problems.setdefault(name, []).extend(bad.problems)
    return parsed


# --- importing ----------------------------------------------------------------------------


def _chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _resolve(
    session: Session, files: list[ArticleFile], problems: Problems
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Check what the files name against the desk: agents by login, tickets by key, and
    categories by path. Returns login -> agent id, ticket ref -> ticket id, and path (lower
    case) -> category id for the categories that exist."""
    logins = sorted({f.author for f in files if f.author})
    agents: dict[str, int] = {}
    for chunk in _chunks(logins):
        rows = session.execute(select(Agent.login, Agent.id).where(Agent.login.in_(chunk)))
        agents.update({login: agent_id for login, agent_id in rows})
    refs: dict[str, tuple[str | None, int]] = {}
    for f in files:
        if f.source_ticket:
            parsed = parse_ref(f.source_ticket)
            assert parsed is not None  # parse_article checked it
            refs[f.source_ticket] = parsed
    found: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(sorted({number for _, number in refs.values()})):
        for number, ticket_id, key in session.execute(
            select(Ticket.number, Ticket.id, Ticket.key).where(Ticket.number.in_(chunk))
        ):
            found[number] = (ticket_id, key)
    tickets: dict[str, int] = {}
    for ref, (prefix, number) in refs.items():
        hit = found.get(number)
        if hit is not None and (prefix is None or hit[1].upper().startswith(prefix + "-")):
            tickets[ref] = hit[0]
    categories = {
        path.lower(): category_id
        for path, category_id in session.execute(select(Category.path, Category.id))
    }
    for f in files:
        if f.author and f.author not in agents:
            problems.setdefault(f.name, []).append(
                f"author: no agent {f.author!r} on this desk (add it with `helpdesk agent "
                "add`, or remove the author line)"
            )
        if f.source_ticket and f.source_ticket not in tickets:
            problems.setdefault(f.name, []).append(
                f"source_ticket: no ticket {f.source_ticket} on this desk (remove the "
                "source_ticket line to import without it)"
            )
    return agents, tickets, categories


def _duplicates(files: list[ArticleFile], problems: Problems) -> None:
    first: dict[int, str] = {}
    titled: dict[str, str] = {}  # the files without an id, by title (lower case)
    for f in files:
        if f.id is None:
            earlier = titled.setdefault(f.title.lower(), f.name)
            if earlier != f.name:
                problems.setdefault(f.name, []).append(
                    f"title: {f.title!r} is also the title of {earlier} (neither has an id)"
                )
            continue
        earlier = first.setdefault(f.id, f.name)
        if earlier != f.name:
            problems.setdefault(f.name, []).append(f"id: {f.id} is also the id of {earlier}")


def import_articles(
    session: Session,
    now: datetime,
    actor: Actor,
    folder: Path,
    *,
    dry_run: bool = False,
    create_categories: bool = False,
) -> ImportResult:
    """Import the folder's articles (see the module docstring for the rules). All files are
    checked before anything is written; `ArticleImportFailed` lists every bad file. The
    writes happen in a SAVEPOINT, so a failure leaves the caller's transaction usable.
    `dry_run` checks and counts without writing. `actor` is the importer: authors come from
    the files, never from who runs the import. A category the desk lacks refuses its file
    unless `create_categories`."""
    del actor  # authors come from the files; articles have no audit trail yet
    problems: Problems = {}
    files = _read_folder(folder, problems)
    _duplicates(files, problems)
    agents, tickets, categories = _resolve(session, files, problems)
    missing: dict[str, str] = {}  # lower case -> as first written, in the order first needed
    for f in files:
        if f.category and f.category.lower() not in categories:
            missing.setdefault(f.category.lower(), f.category)
            if not create_categories:
                problems.setdefault(f.name, []).append(
                    f"category: no category {f.category!r} on this desk (see `helpdesk "
                    "category list`; --create-categories creates the missing ones)"
                )
    if problems:
        lines = [f"{name}: {'; '.join(found)}" for name, found in sorted(problems.items())]
        raise ArticleImportFailed(lines, str(folder))

    existing: dict[int, Article] = {}
    for chunk in _chunks(sorted(f.id for f in files if f.id is not None)):
        query = select(Article).where(Article.id.in_(chunk))
        if not dry_run:
            query = query.with_for_update(of=Article)
        for article in session.scalars(query):
            existing[article.id] = article
    by_title: dict[str, Article] = {}  # for the files without an id
    for chunk in _chunks(sorted({f.title.lower() for f in files if f.id is None})):
        query = select(Article).where(func.lower(Article.title).in_(chunk))
        if not dry_run:
            query = query.with_for_update(of=Article)
        for article in session.scalars(query.order_by(Article.id)):
            by_title.setdefault(article.title.lower(), article)
    fresh: list[Article] = []  # new articles without an id: added once the ids are safe

    created = updated = unchanged = 0
    with session.begin_nested():
        if not dry_run:
            for key, path in missing.items():
                categories[key] = directory.ensure_category(session, path).id
        for f in files:
            wanted: dict[str, Any] = {
                "title": f.title,
                "body": f.body,
                "category_id": categories.get(f.category.lower()) if f.category else None,
                "tags": f.tags,
                "visibility": f.visibility,
                "status": f.status,
                "author_id": agents[f.author] if f.author else None,
                "source_ticket_id": tickets[f.source_ticket] if f.source_ticket else None,
            }
            article = existing.get(f.id) if f.id is not None else by_title.get(f.title.lower())
            if article is None:
                created += 1
                if dry_run:
                    continue
                new = Article(
                    id=f.id,
                    helpful=f.helpful,
                    not_helpful=f.not_helpful,
                    created_at=f.created or now,
                    updated_at=f.updated or f.created or now,
                    **wanted,
                )
                if f.id is None:
                    fresh.append(new)
                else:
                    session.add(new)
                continue
            if f.category and wanted["category_id"] is None:
                changed = True  # its category is created by this import
            else:
                current = {k: getattr(article, k) for k in wanted}
                current["tags"] = _tag_set(current["tags"])
                changed = current != wanted
            if not changed:
                unchanged += 1
                continue
            updated += 1
            if not dry_run:
                for key, value in wanted.items():
                    setattr(article, key, value)
                article.updated_at = now
        session.flush()
        if created and not dry_run:
            _advance_id_sequence(session)  # before the new ids are drawn from it
            session.add_all(fresh)
            session.flush()
    return ImportResult(created, updated, unchanged, tuple(missing.values()), dry_run)


def _advance_id_sequence(session: Session) -> None:
    """After rows were inserted with explicit ids, make PostgreSQL's id sequence hand out
    ids above them (SQLite takes the largest rowid + 1 by itself)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    sequence = session.scalar(text("SELECT pg_get_serial_sequence('articles', 'id')"))
    if sequence is None:
        raise ServiceError("articles.id has no sequence: run `helpdesk db check`")
    top = session.scalar(select(func.max(Article.id)))
    # The sequence name comes from PostgreSQL itself, already quoted as needed.
    last, called = session.execute(text(f"SELECT last_value, is_called FROM {sequence}")).one()
    issued = last if called else last - 1
    if top is not None and top > issued:
        session.execute(text("SELECT setval(:sequence, :top)"), {"sequence": sequence, "top": top})
