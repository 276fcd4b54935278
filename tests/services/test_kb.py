"""Knowledge articles through the service, on both back ends: writing and validation,
edits that change only what differs, publishing, keyset paging and filters, votes, and
drafting an article from a solved ticket."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import NOW, Desk
from tests.services.conftest import Look, MakeTicket
from tui_helpdesk.domain import ArticleStatus, Status, Visibility
from tui_helpdesk.services import directory, kb, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import NotFound, ServiceError, ValidationError
from tui_helpdesk.services.serialize import iso

LATER = NOW + timedelta(hours=2)


def add(desk_store: Desk, title: str = "Reset a password", **fields: Any) -> int:
    with desk_store.store.write() as session:
        return kb.add_article(
            session, NOW, desk_store.agent, kb.ArticleDraft(title=title, **fields)
        ).id


def doc_of(desk_store: Desk, article_id: int) -> dict[str, Any]:
    with desk_store.store.read() as session:
        return kb.article_docs(session, [kb.get_article(session, article_id)])[0]


# --- writing ------------------------------------------------------------------------------


def test_add_normalises_and_documents(desk_store: Desk) -> None:
    article_id = add(
        desk_store,
        "  Reset   a\tforgotten password ",
        body="# Steps\n\n1. Open *Settings*.\n",
        category="technical > network",
        tags=[" Login", "password", "login", "Two Words"],
        visibility=Visibility.PUBLIC,
    )
    assert doc_of(desk_store, article_id) == {
        "id": article_id,
        "title": "Reset a forgotten password",
        "category": "Technical > Network",
        "tags": ["login", "password", "two-words"],
        "visibility": "public",
        "status": "draft",
        "author": "bob",
        "source_ticket": None,
        "helpful": 0,
        "not_helpful": 0,
        "created_at": iso(NOW),
        "updated_at": iso(NOW),
        "body": "# Steps\n\n1. Open *Settings*.\n",
    }


def test_add_by_the_desk_itself_has_no_author(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        article = kb.add_article(session, NOW, Actor.system(), kb.ArticleDraft("Made by a rule"))
        assert article.author_id is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "  "}, "an article needs a title"),
        ({"title": "x" * 301}, "title too long (301 > 300 characters)"),
        (
            {"title": "T", "category": "Accounts > Passwords"},
            "unknown category 'Accounts > Passwords': create it with "
            "`helpdesk category add 'Accounts > Passwords'`",
        ),
        ({"title": "T", "tags": ["ok", "no!"]}, "invalid tag 'no!'"),
        (
            {"title": "T", "status": ArticleStatus.PUBLISHED, "body": " \n"},
            "the article has no body: write one before publishing it",
        ),
    ],
)
def test_add_refuses_bad_input(desk_store: Desk, fields: dict[str, Any], message: str) -> None:
    with desk_store.store.write() as session:
        with pytest.raises(ValidationError) as caught:
            kb.add_article(session, NOW, desk_store.agent, kb.ArticleDraft(**fields))
        assert str(caught.value).startswith(message)
    with desk_store.store.read() as session:
        assert kb.list_articles(session).articles == []


def test_title_of_300_characters_is_fine(desk_store: Desk) -> None:
    assert doc_of(desk_store, add(desk_store, "é" * 300))["title"] == "é" * 300


def test_get_unknown_article_hints_at_the_list(desk_store: Desk) -> None:
    with desk_store.store.read() as session, pytest.raises(NotFound) as caught:
        kb.get_article(session, 99)
    assert str(caught.value) == "no article 99 (see `helpdesk kb list`)"


# --- editing ------------------------------------------------------------------------------


def edit(desk_store: Desk, article_id: int, at: Any = LATER, **changes: Any) -> tuple[str, ...]:
    with desk_store.store.write() as session:
        result = kb.edit_article(
            session, at, desk_store.admin, article_id, kb.ArticleChanges(**changes)
        )
        return result.changed


def test_edit_changes_only_the_given_fields(desk_store: Desk) -> None:
    article_id = add(desk_store, body="old body", category="Billing", tags=["a", "b"])
    before = doc_of(desk_store, article_id)

    assert edit(desk_store, article_id, title="New title") == ("title",)
    after = doc_of(desk_store, article_id)
    assert after == {**before, "title": "New title", "updated_at": iso(LATER)}

    later = LATER + timedelta(hours=1)
    changed = edit(
        desk_store,
        article_id,
        at=later,
        body="new body",
        category="Technical > Network",
        tags=["C"],
        visibility=Visibility.PUBLIC,
    )
    assert changed == ("body", "category", "tags", "visibility")
    assert doc_of(desk_store, article_id) == {
        **after,
        "body": "new body",
        "category": "Technical > Network",
        "tags": ["c"],
        "visibility": "public",
        "updated_at": iso(later),
    }
    assert doc_of(desk_store, article_id)["author"] == "bob"  # the editor is not the author


def test_edit_to_the_same_values_is_no_change(desk_store: Desk) -> None:
    article_id = add(desk_store, "Same", body="b", category="Billing", tags=["x", "y"])
    before = doc_of(desk_store, article_id)
    changed = edit(
        desk_store,
        article_id,
        title=" Same ",
        body="b",
        category="billing",
        tags=["Y", "x"],
        visibility=Visibility.INTERNAL,
        status=ArticleStatus.DRAFT,
    )
    assert changed == ()
    assert doc_of(desk_store, article_id) == before  # updated_at did not move


def test_edit_clears_category_and_tags(desk_store: Desk) -> None:
    article_id = add(desk_store, category="Billing", tags=["x"])
    assert edit(desk_store, article_id, category=None, tags=[]) == ("category", "tags")
    doc = doc_of(desk_store, article_id)
    assert (doc["category"], doc["tags"]) == (None, [])


def test_refused_edit_writes_nothing(desk_store: Desk) -> None:
    article_id = add(desk_store, body="b")
    before = doc_of(desk_store, article_id)
    for changes, error in [
        ({"title": "new", "category": "Nope"}, ValidationError),
        ({"title": ""}, ValidationError),
        ({"body": "", "status": ArticleStatus.PUBLISHED}, ValidationError),
    ]:
        with pytest.raises(error):
            edit(desk_store, article_id, **changes)
    assert doc_of(desk_store, article_id) == before
    with pytest.raises(NotFound):
        edit(desk_store, 99, title="x")


def test_publish_and_unpublish(desk_store: Desk) -> None:
    article_id = add(desk_store, body="How to.")
    with desk_store.store.write() as session:
        result = kb.publish_article(session, LATER, desk_store.agent, article_id)
        assert result.changed == ("status",)
        assert result.article.status is ArticleStatus.PUBLISHED
    later = LATER + timedelta(hours=1)
    with desk_store.store.write() as session:
        assert kb.publish_article(session, later, desk_store.agent, article_id).changed == ()
    assert doc_of(desk_store, article_id)["updated_at"] == iso(LATER)
    with desk_store.store.write() as session:
        assert kb.unpublish_article(session, later, desk_store.agent, article_id).changed == (
            "status",
        )
    doc = doc_of(desk_store, article_id)
    assert (doc["status"], doc["updated_at"]) == ("draft", iso(later))

    empty = add(desk_store, "Empty")
    with desk_store.store.write() as session, pytest.raises(ValidationError) as caught:
        kb.publish_article(session, LATER, desk_store.agent, empty)
    assert str(caught.value) == f"article {empty} has no body: write one before publishing it"


# --- listing ------------------------------------------------------------------------------


def ids(page: kb.ArticlePage) -> list[int]:
    return [a.id for a in page.articles]


def test_list_pages_by_id(desk_store: Desk) -> None:
    made = [add(desk_store, f"Article {i}") for i in range(7)]
    seen: list[int] = []
    after = None
    pages = 0
    with desk_store.store.read() as session:
        while True:
            page = kb.list_articles(session, after_id=after, limit=3)
            seen += ids(page)
            pages += 1
            if page.next_after is None:
                break
            assert page.next_after == page.articles[-1].id
            after = page.next_after
        assert kb.list_articles(session, limit=7).next_after is None
        assert kb.list_articles(session, limit=6).next_after == made[5]
        with pytest.raises(ValidationError):
            kb.list_articles(session, limit=0)
    assert seen == made
    assert pages == 3


def test_list_filters(desk_store: Desk) -> None:
    with desk_store.store.write() as session:
        directory.ensure_category(session, "Technical")
        directory.ensure_category(session, "Technical > Network > Wifi")
        directory.ensure_category(session, "Technically Other")
    vpn = add(
        desk_store,
        "VPN",
        body="b",
        category="Technical > Network",
        tags=["vpn"],
        status=ArticleStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
    )
    wifi = add(desk_store, "Wifi", category="Technical > Network > Wifi", tags=["vpn-client"])
    top = add(desk_store, "Top", category="Technical", tags=["a_b"])
    other = add(desk_store, "Other", category="Technically Other", tags=["axb"])
    plain = add(desk_store, "Plain")

    def listed(**filters: Any) -> list[int]:
        with desk_store.store.read() as session:
            return ids(kb.list_articles(session, **filters))

    assert listed() == [vpn, wifi, top, other, plain]
    assert listed(status=ArticleStatus.PUBLISHED) == [vpn]
    assert listed(status=ArticleStatus.DRAFT) == [wifi, top, other, plain]
    assert listed(visibility=Visibility.PUBLIC) == [vpn]
    assert listed(category="Technical > Network") == [vpn, wifi]
    assert listed(category="technical") == [vpn, wifi, top]
    assert listed(tag="VPN") == [vpn]  # exact: not vpn-client
    assert listed(tag="a_b") == [top]  # `_` is no wildcard
    assert listed(tag="vpn", category="Technical", status=ArticleStatus.DRAFT) == []
    with pytest.raises(ValidationError) as caught:
        listed(category="Nowhere")
    assert "see `helpdesk category list`" in str(caught.value)
    with pytest.raises(ValidationError):
        listed(tag="no!")


# --- votes --------------------------------------------------------------------------------


def test_votes_count_and_leave_the_article_alone(desk_store: Desk) -> None:
    article_id = add(desk_store, body="b", status=ArticleStatus.PUBLISHED)
    before = doc_of(desk_store, article_id)
    with desk_store.store.write() as session:
        loaded = kb.get_article(session, article_id)
        assert kb.vote(session, article_id, True) == (1, 0)
        assert kb.vote(session, article_id, True) == (2, 0)
        assert kb.vote(session, article_id, False) == (2, 1)
        assert (loaded.helpful, loaded.not_helpful) == (2, 1)  # the session sees it too
    assert doc_of(desk_store, article_id) == {**before, "helpful": 2, "not_helpful": 1}


def test_votes_refused_on_drafts_and_unknown_articles(desk_store: Desk) -> None:
    draft = add(desk_store)
    with desk_store.store.write() as session:
        with pytest.raises(ServiceError) as caught:
            kb.vote(session, draft, True)
        assert not isinstance(caught.value, NotFound)
        assert str(caught.value) == (
            f"article {draft} is a draft: only published articles take votes"
        )
        with pytest.raises(NotFound):
            kb.vote(session, 99, True)
    assert doc_of(desk_store, draft)["helpful"] == 0


def test_concurrent_votes_all_count(desk_store: Desk) -> None:
    article_id = add(desk_store, body="b", status=ArticleStatus.PUBLISHED)
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def voter(helpful: bool) -> None:
        try:
            start.wait()
            for _ in range(5):
                with desk_store.store.write() as session:
                    kb.vote(session, article_id, helpful)
        except BaseException as exc:  # reported below: a thread's error is otherwise lost
            failures.append(exc)

    threads = [threading.Thread(target=voter, args=(i % 2 == 0,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    doc = doc_of(desk_store, article_id)
    assert (doc["helpful"], doc["not_helpful"]) == (10, 10)


# --- drafting from a ticket ---------------------------------------------------------------


def solved_ticket(desk_store: Desk, make_ticket: MakeTicket, **fields: Any) -> str:
    fields.setdefault("category", "Technical > Network")
    fields.setdefault("tags", ["vpn", "Remote"])
    fields.setdefault("body", "\nThe VPN drops every hour.\x1b[31m\n\n")
    key = make_ticket("VPN drops every hour", **fields)
    customer = None
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, key, "Which client version?")
        customer = tickets.get_ticket(session, key).requester
        tickets.add_customer_message(session, desk_store.agent, NOW, key, customer, "4.2")
        tickets.add_note(session, desk_store.agent, NOW, key, "internal: known bug 1234")
        tickets.reply(
            session,
            desk_store.agent,
            NOW + timedelta(minutes=5),
            key,
            "Update to 4.3:\n\n    sudo apt upgrade vpn\n",
            status=Status.RESOLVED,
        )
    return key


def test_draft_from_a_resolved_ticket(
    desk_store: Desk, make_ticket: MakeTicket, look: Look
) -> None:
    key = solved_ticket(desk_store, make_ticket)
    events = look(key).events
    with desk_store.store.write() as session:
        article_id = kb.draft_from_ticket(session, LATER, desk_store.admin, key.lower()).id
    assert doc_of(desk_store, article_id) == {
        "id": article_id,
        "title": "VPN drops every hour",
        "category": "Technical > Network",
        "tags": ["remote", "vpn"],
        "visibility": "internal",
        "status": "draft",
        "author": "admin",
        "source_ticket": key,
        "helpful": 0,
        "not_helpful": 0,
        "created_at": iso(LATER),
        "updated_at": iso(LATER),
        "body": "## Problem\n\nThe VPN drops every hour.\n\n"
        "## Solution\n\nUpdate to 4.3:\n\n    sudo apt upgrade vpn\n",
    }
    # The ticket's history names the article drafted from it.
    assert look(key).events == [*events, ("article", "admin", "article", None, str(article_id))]

    with desk_store.store.write() as session, pytest.raises(ServiceError) as caught:
        kb.draft_from_ticket(session, LATER, desk_store.admin, key)
    assert str(caught.value) == (
        f"{key} already has article {article_id}: edit it with `helpdesk kb edit {article_id}`"
    )


def test_draft_from_a_closed_ticket_without_customer_text(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    key = make_ticket("Badge printer jammed", body=None, category=None)
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, key, "Cleared it.", status=Status.RESOLVED)
        tickets.change_status(session, desk_store.agent, NOW, key, Status.CLOSED)
    with desk_store.store.write() as session:
        article = kb.draft_from_ticket(session, LATER, desk_store.agent, key)
        assert article.body == "## Problem\n\nBadge printer jammed\n\n## Solution\n\nCleared it.\n"
        assert (article.category, article.tags) == (None, [])


def test_draft_refused_for_unsolved_or_unanswered_tickets(
    desk_store: Desk, make_ticket: MakeTicket
) -> None:
    open_key = make_ticket("Still broken")
    silent_key = make_ticket("Solved in person")
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, open_key, Status.OPEN)
        tickets.add_note(session, desk_store.agent, NOW, silent_key, "fixed at the desk")
        tickets.change_status(session, desk_store.agent, NOW, silent_key, Status.RESOLVED)
    cases = [
        (open_key, ServiceError, f"{open_key} is open: draft an article from a resolved or closed"),
        (silent_key, ServiceError, f"{silent_key} has no public reply to take the solution from"),
        ("HD-999", NotFound, "no ticket HD-999"),
        ("nonsense", ValidationError, "not a ticket number"),
    ]
    for ref, error, message in cases:
        with desk_store.store.write() as session, pytest.raises(error) as caught:
            kb.draft_from_ticket(session, LATER, desk_store.agent, ref)
        assert str(caught.value).startswith(message)
    with desk_store.store.read() as session:
        assert kb.list_articles(session).articles == []


def test_long_subject_is_shortened_to_a_title(desk_store: Desk, make_ticket: MakeTicket) -> None:
    key = make_ticket("word " * 80)
    with desk_store.store.write() as session:
        tickets.reply(session, desk_store.agent, NOW, key, "Done.", status=Status.RESOLVED)
        title = kb.draft_from_ticket(session, LATER, desk_store.agent, key).title
    assert len(title) <= kb.MAX_TITLE
    assert title.endswith("word…")
