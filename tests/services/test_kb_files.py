"""The knowledge base as Markdown files, on both back ends: the exact file format, a lossless
round trip (export, import into an empty desk, export again: the same bytes), updates by id,
dry runs, and bad folders refused whole with one line per bad file."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import ArticleStatus, Role, Status, Visibility
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, directory, kb, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.kb_files import (
    ArticleImportFailed,
    export_articles,
    file_name,
    import_articles,
    slugify,
)
from tui_helpdesk.services.serialize import iso
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Article

LATER = NOW + timedelta(days=1)

TOML_TITLE = "Quotes \"double\" 'single' \\back\\slash # [x] = {y} +++ \"\"\" ''' \x07 end"
TRICKY_BODY = '+++\nid = 99\ntitle = "not the front matter"\n+++\n\nmiddle\n+++\n\n+++'


def read_folder(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def count_articles(store: Store) -> int:
    with store.read() as session:
        return len(kb.list_articles(session, limit=kb.MAX_LIMIT).articles)


@dataclass
class Other:
    """A second, empty desk (a SQLite file): the same agents, one ticket HD-1, no articles."""

    store: Store


@pytest.fixture
def other_desk(tmp_path: Path, _sqlite_template: Path) -> Iterator[Other]:
    path = tmp_path / "other.db"
    shutil.copyfile(_sqlite_template, path)
    store = Store(f"sqlite:///{path}")
    with store.write() as session:
        directory.add_agent(
            session, NOW, directory.AgentDraft("admin", "Ada", "admin@desk.example", Role.ADMIN)
        )
        directory.add_agent(session, NOW, directory.AgentDraft("bob", "Bob", "bob@desk.example"))
        admin = directory.actor_for(session, "admin")
        desk.apply_rules(session, admin, NOW, parse_rules('[desk]\nticket_prefix = "HD"\n'))
        tickets.create_ticket(
            session, admin, NOW, tickets.NewTicket("Elsewhere", requester="anna@acme.example")
        )
    yield Other(store)
    store.dispose()


def write_articles(desk_store: Desk, make_ticket: MakeTicket) -> None:
    """Eight articles that exercise the format: non-ASCII, TOML specials, bodies with and
    without final newlines, `+++` lines in bodies, CRLF, an empty body, microseconds, votes,
    a source ticket, no author, no category."""
    key = make_ticket("VPN drops", body="It drops.", category="Technical > Network", tags=["vpn"])
    agent = desk_store.agent
    with desk_store.store.write() as session:
        tickets.reply(session, agent, NOW, key, "Update the client.", status=Status.RESOLVED)
        directory.ensure_category(session, "Accounts > Passwords")

        def add(title: str, at: datetime = NOW, actor: Actor = agent, **fields: Any) -> int:
            return kb.add_article(session, at, actor, kb.ArticleDraft(title, **fields)).id

        first = add(
            "Réinitialiser le mot de passe — 日本語",
            body="Ünïcödé body ✓\n\n日本語のテキスト\n",
            category="Accounts > Passwords",
            tags=["password", "login"],
            visibility=Visibility.PUBLIC,
            status=ArticleStatus.PUBLISHED,
        )
        for helpful in (True, True, False, True):
            kb.vote(session, first, helpful)
        add(TOML_TITLE, body="no newline at the end", category="Billing")
        add("Front matter lookalikes", body=TRICKY_BODY, tags=["edge"])
        add("Blank lines and CRLF", body="\n\n  indented\r\nline\r\n\n\n")
        add("Empty draft", actor=Actor.system())
        add("Microseconds", at=NOW.replace(microsecond=123456), body="x")
        kb.draft_from_ticket(session, LATER, agent, key)
        add("A" * 300, body="long title")


def test_file_format(desk_store: Desk, make_ticket: MakeTicket, tmp_path: Path) -> None:
    write_articles(desk_store, make_ticket)
    folder = tmp_path / "kb"
    with desk_store.store.read() as session:
        assert export_articles(session, folder) == 8
    files = read_folder(folder)
    assert list(files) == [
        "1-reinitialiser-le-mot-de-passe.md",
        "2-quotes-double-single-back-slash-x-y-end.md",
        "3-front-matter-lookalikes.md",
        "4-blank-lines-and-crlf.md",
        "5-empty-draft.md",
        "6-microseconds.md",
        "7-vpn-drops.md",
        "8-" + "a" * 60 + ".md",
    ]
    assert files["1-reinitialiser-le-mot-de-passe.md"].decode() == (
        "+++\n"
        "id = 1\n"
        'title = "Réinitialiser le mot de passe — 日本語"\n'
        'category = "Accounts > Passwords"\n'
        'tags = ["login", "password"]\n'
        'visibility = "public"\n'
        'status = "published"\n'
        'author = "bob"\n'
        "helpful = 3\n"
        "not_helpful = 1\n"
        "created = 2026-11-23T09:30:00Z\n"
        "updated = 2026-11-23T09:30:00Z\n"
        "+++\n"
        "Ünïcödé body ✓\n\n日本語のテキスト\n"
    )
    assert files["5-empty-draft.md"].decode() == (
        '+++\nid = 5\ntitle = "Empty draft"\ntags = []\nvisibility = "internal"\n'
        'status = "draft"\nhelpful = 0\nnot_helpful = 0\n'
        "created = 2026-11-23T09:30:00Z\nupdated = 2026-11-23T09:30:00Z\n+++\n"
    )
    assert (
        files["7-vpn-drops.md"]
        .decode()
        .endswith(
            'author = "bob"\nsource_ticket = "HD-1"\nhelpful = 0\nnot_helpful = 0\n'
            "created = 2026-11-24T09:30:00Z\nupdated = 2026-11-24T09:30:00Z\n+++\n"
            "## Problem\n\nIt drops.\n\n## Solution\n\nUpdate the client.\n"
        )
    )
    assert b"created = 2026-11-23T09:30:00.123456Z\n" in files["6-microseconds.md"]
    assert files["2-quotes-double-single-back-slash-x-y-end.md"].endswith(
        b"+++\nno newline at the end"
    )
    # The front matter is TOML that reads back to the stored title, specials and all.
    text = files["2-quotes-double-single-back-slash-x-y-end.md"].decode()
    front = text.split("+++\n")[1]
    assert tomllib.loads(front)["title"] == TOML_TITLE


def test_round_trip_into_an_empty_desk_is_byte_identical(
    desk_store: Desk, make_ticket: MakeTicket, other_desk: Other, tmp_path: Path
) -> None:
    write_articles(desk_store, make_ticket)
    first, second = tmp_path / "first", tmp_path / "second"
    with desk_store.store.read() as session:
        export_articles(session, first)

    with other_desk.store.write() as session:
        actor = directory.actor_for(session, "admin")
        result = import_articles(session, LATER, actor, first, create_categories=True)
    assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
    # In the order first needed (files by name), created with their parents.
    assert result.categories_created == ("Accounts > Passwords", "Billing", "Technical > Network")
    with other_desk.store.read() as session:
        export_articles(session, second)
    assert read_folder(second) == read_folder(first)

    # Importing the same files again, here or on the desk they came from, changes nothing.
    for store in (other_desk.store, desk_store.store):
        with store.write() as session:
            again = import_articles(session, LATER, Actor.system(), first)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    with other_desk.store.read() as session:
        export_articles(session, second)
    assert read_folder(second) == read_folder(first)


def test_imported_ids_are_kept_and_new_ids_follow(desk_store: Desk, tmp_path: Path) -> None:
    tmp_path = tmp_path / "kb"
    tmp_path.mkdir()
    (tmp_path / "50-far.md").write_text('+++\nid = 50\ntitle = "Far"\n+++\nbody\n')
    with desk_store.store.write() as session:
        import_articles(session, NOW, desk_store.agent, tmp_path)
    with desk_store.store.write() as session:
        article = kb.add_article(session, NOW, desk_store.agent, kb.ArticleDraft("Next"))
        assert article.id == 51
        far = kb.get_article(session, 50)
        assert (far.title, far.body, far.created_at, far.updated_at) == ("Far", "body\n", NOW, NOW)
        assert (far.author_id, far.status, far.visibility) == (
            None,
            ArticleStatus.DRAFT,
            Visibility.INTERNAL,
        )


def test_import_updates_by_id_only_what_differs(desk_store: Desk, tmp_path: Path) -> None:
    tmp_path = tmp_path / "kb"
    with desk_store.store.write() as session:
        kept = kb.add_article(
            session,
            NOW,
            desk_store.agent,
            kb.ArticleDraft("Kept", body="b", status=ArticleStatus.PUBLISHED),
        ).id
        changed = kb.add_article(
            session,
            NOW,
            desk_store.agent,
            kb.ArticleDraft("Changed", body="b", status=ArticleStatus.PUBLISHED),
        ).id
        kb.vote(session, changed, True)
        kb.vote(session, changed, True)
        export_articles(session, tmp_path)
    path = tmp_path / file_name(changed, "Changed")
    text = path.read_text()
    text = text.replace('title = "Changed"', 'title = "Changed again"\ncategory = "Brand > New"')
    text = text.replace("helpful = 2", "helpful = 100")
    text = text.replace("tags = []", 'tags = ["Fresh"]')
    path.write_text(text + "more body")
    (tmp_path / "9-new.md").write_text('+++\nid = 9\ntitle = "New"\n+++\n')
    before = {i: kb_doc(desk_store, i) for i in (kept, changed)}

    with desk_store.store.read() as session:
        dry = import_articles(
            session, LATER, desk_store.admin, tmp_path, dry_run=True, create_categories=True
        )
    assert (dry.created, dry.updated, dry.unchanged, dry.dry_run) == (1, 1, 1, True)
    assert dry.categories_created == ("Brand > New",)
    assert {i: kb_doc(desk_store, i) for i in (kept, changed)} == before
    assert count_articles(desk_store.store) == 2
    with desk_store.store.read() as session, pytest.raises(ValidationError):
        kb.category_for(session, "Brand > New")

    with desk_store.store.write() as session:
        result = import_articles(session, LATER, desk_store.admin, tmp_path, create_categories=True)
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert kb_doc(desk_store, kept) == before[kept]
    assert kb_doc(desk_store, changed) == {
        **before[changed],
        "title": "Changed again",
        "category": "Brand > New",
        "tags": ["fresh"],
        "body": "b" + "more body",
        "helpful": 2,  # this desk's votes, not the file's
        "updated_at": iso(LATER),
    }
    assert kb_doc(desk_store, 9)["created_at"] == iso(LATER)


def kb_doc(desk_store: Desk, article_id: int) -> dict[str, object]:
    with desk_store.store.read() as session:
        return kb.article_docs(session, [kb.get_article(session, article_id)])[0]


def test_export_replaces_the_file_of_a_renamed_article(desk_store: Desk, tmp_path: Path) -> None:
    tmp_path = tmp_path / "kb"
    with desk_store.store.write() as session:
        article_id = kb.add_article(session, NOW, desk_store.agent, kb.ArticleDraft("Old")).id
        export_articles(session, tmp_path)
    (tmp_path / "README.md").write_text("notes")
    (tmp_path / "99-someone-else.md").write_text("+++\nid = 99\n+++\n")
    (tmp_path / f"{article_id}0-not-this-one.md").write_text("kept")
    (tmp_path / f"{article_id}-notes-by-hand.md").write_text("not an export")
    with desk_store.store.write() as session:
        kb.edit_article(session, LATER, desk_store.agent, article_id, kb.ArticleChanges("New"))
    with desk_store.store.read() as session:
        export_articles(session, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{article_id}-new.md",
        f"{article_id}-notes-by-hand.md",
        f"{article_id}0-not-this-one.md",
        "99-someone-else.md",
        "README.md",
    ]


GOOD = '+++\nid = {id}\ntitle = "Good {id}"\ncategory = "New > Category"\n+++\nbody\n'


def test_bad_files_are_all_reported_and_nothing_is_written(
    desk_store: Desk, tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    files = {
        "12-reset.md": '+++\nid = 12\ntitle = "Reset"\ntags = "password"\n+++\nbody',
        "a-no-front.md": "just text\n",
        "b-unclosed.md": '+++\nid = 3\ntitle = "x"\n',
        "c-syntax.md": "+++\nid = \n+++\n",
        "d-many.md": (
            '+++\nid = 0\ncolour = "red"\nvisibility = "secret"\n'
            "created = 2026-11-20T10:00:00\nhelpful = -1\nstatus = true\n+++\n"
        ),
        "e-refs.md": (
            '+++\nid = 5\ntitle = "Refs"\nauthor = "nobody"\nsource_ticket = "HD-999"\n+++\n'
        ),
        "f-dup.md": '+++\nid = 7\ntitle = "One"\n+++\n',
        "g-dup.md": '+++\nid = 7\ntitle = "Two"\nauthor = "ghost"\n+++\n',
        "g-ref.md": '+++\nid = 31\ntitle = "Ref"\nsource_ticket = "oops"\n+++\n',
        "i-published-empty.md": '+++\nid = 8\ntitle = "Empty"\nstatus = "published"\n+++\n\n',
        "ok.md": GOOD.format(id=20),
        "notes.txt": "not an article",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "h-latin1.md").write_bytes(b'+++\nid = 30\ntitle = "caf\xe9"\n+++\n')

    with desk_store.store.write() as session, pytest.raises(ArticleImportFailed) as caught:
        import_articles(session, NOW, desk_store.agent, folder, create_categories=True)
    k = str(folder)
    errors = caught.value.errors
    assert errors[0] == f"{k}/12-reset.md: tags: expected a list of strings"
    assert errors[1] == f"{k}/a-no-front.md: no front matter: the file must start with a +++ line"
    assert errors[2] == f"{k}/b-unclosed.md: front matter: no closing +++ line"
    assert errors[3] == f"{k}/c-syntax.md: front matter: Invalid value (at line 2, column 6)"
    assert errors[4] == (
        f"{k}/d-many.md: colour: unknown key (expected: id, title, category, tags, visibility, "
        "status, author, source_ticket, helpful, not_helpful, created, updated); "
        "id: expected a whole number from 1; title: required; "
        "visibility: expected one of internal, public, got 'secret'; "
        "status: expected one of draft, published; helpful: expected a whole number from 0; "
        "created: expected a date-time with an offset, e.g. 2026-11-20T10:00:00Z"
    )
    assert errors[5] == (
        f"{k}/e-refs.md: author: no agent 'nobody' on this desk (add it with `helpdesk agent "
        "add`, or remove the author line); source_ticket: no ticket HD-999 on this desk "
        "(remove the source_ticket line to import without it)"
    )
    assert errors[6] == (
        f"{k}/g-dup.md: id: 7 is also the id of {k}/f-dup.md; author: no agent 'ghost' on "
        "this desk (add it with `helpdesk agent add`, or remove the author line)"
    )
    assert errors[7] == f"{k}/g-ref.md: source_ticket: not a ticket number: 'oops' (write HD-12)"
    assert errors[8] == f"{k}/h-latin1.md: not UTF-8 text"
    assert errors[9] == f"{k}/i-published-empty.md: status: a published article needs a body"
    assert len(errors) == 10
    assert str(caught.value).splitlines()[0] == f"10 bad files in {k}; nothing imported"
    assert count_articles(desk_store.store) == 0
    with desk_store.store.read() as session, pytest.raises(ValidationError):
        kb.category_for(session, "New > Category")


def test_a_category_the_desk_lacks_is_refused_unless_asked_to_create_it(
    desk_store: Desk, tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "1-typo.md").write_text('+++\nid = 1\ntitle = "T"\ncategory = "Nope > Nope"\n+++\n')
    (folder / "2-known.md").write_text('+++\nid = 2\ntitle = "K"\ncategory = "billing"\n+++\n')
    with desk_store.store.write() as session, pytest.raises(ArticleImportFailed) as caught:
        import_articles(session, NOW, desk_store.agent, folder)
    assert caught.value.errors == [
        f"{folder}/1-typo.md: category: no category 'Nope > Nope' on this desk (see "
        "`helpdesk category list`; --create-categories creates the missing ones)"
    ]
    assert count_articles(desk_store.store) == 0
    with desk_store.store.write() as session:
        result = import_articles(session, NOW, desk_store.agent, folder, create_categories=True)
    assert (result.created, result.categories_created) == (2, ("Nope > Nope",))


def test_a_failed_import_leaves_the_callers_transaction_usable(
    desk_store: Desk, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "kb"
    tmp_path.mkdir()
    (tmp_path / "1-good.md").write_text(GOOD.format(id=1))
    (tmp_path / "2-bad.md").write_text("no front matter")
    with desk_store.store.write() as session:
        with pytest.raises(ArticleImportFailed):
            import_articles(session, NOW, desk_store.agent, tmp_path)
        kb.add_article(session, NOW, desk_store.agent, kb.ArticleDraft("Still works"))
    assert count_articles(desk_store.store) == 1


def test_windows_line_endings_and_a_bom_are_read(desk_store: Desk, tmp_path: Path) -> None:
    tmp_path = tmp_path / "kb"
    tmp_path.mkdir()
    (tmp_path / "4-win.md").write_bytes(
        '\ufeff+++\r\nid = 4\r\ntitle = "Windows"\r\n+++\r\nline\r\n'.encode()
    )
    with desk_store.store.write() as session:
        import_articles(session, NOW, desk_store.agent, tmp_path)
        assert kb.get_article(session, 4).body == "line\r\n"


def test_missing_folder_is_a_validation_error(desk_store: Desk, tmp_path: Path) -> None:
    with desk_store.store.write() as session, pytest.raises(ValidationError) as caught:
        import_articles(session, NOW, desk_store.agent, tmp_path / "nope")
    assert str(caught.value) == f"{tmp_path / 'nope'}: no such folder"


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Reset a forgotten password", "reset-a-forgotten-password"),
        ("Réinitialiser — l'accès (VPN)!", "reinitialiser-l-acces-vpn"),
        ("日本語", "article"),
        ("word " * 30, ("word-" * 12).rstrip("-")),
        ("x" * 80, "x" * 60),
    ],
)
def test_slug(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert file_name(7, title) == f"7-{slug}.md"


def test_files_without_an_id_are_created_then_matched_by_title(
    desk_store: Desk, tmp_path: Path
) -> None:
    """Articles written by hand have no id: the first import creates them (new ids after
    the ones files name), importing again updates the article of the same title, and two
    such files with one title are refused."""
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "password.md").write_text('+++\ntitle = "Reset a password"\n+++\nStep one.\n')
    (folder / "42-vpn.md").write_text('+++\nid = 42\ntitle = "VPN"\n+++\nConnect.\n')
    with desk_store.store.write() as session:
        first = import_articles(session, NOW, desk_store.agent, folder)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    with desk_store.store.read() as session:
        rows = session.execute(select(Article.id, Article.title).order_by(Article.id)).all()
    assert [(i, t) for i, t in rows] == [(42, "VPN"), (43, "Reset a password")]

    (folder / "password.md").write_text('+++\ntitle = "reset a PASSWORD"\n+++\nStep two.\n')
    with desk_store.store.write() as session:
        again = import_articles(session, LATER, desk_store.agent, folder)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    with desk_store.store.read() as session:
        article = session.get(Article, 43)
        assert article is not None and article.body == "Step two.\n"
    assert count_articles(desk_store.store) == 2

    (folder / "password-copy.md").write_text('+++\ntitle = "Reset a Password"\n+++\nX\n')
    with desk_store.store.write() as session, pytest.raises(ArticleImportFailed) as caught:
        import_articles(session, LATER, desk_store.agent, folder)
    assert caught.value.errors == [
        f"{folder}/password.md: title: 'reset a PASSWORD' is also the title of "
        f"{folder}/password-copy.md (neither has an id)"
    ]
