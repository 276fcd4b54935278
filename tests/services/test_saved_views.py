"""The console's `status:` filter and saved views read status words as --status does
(`services.statuses`): statuses, `active` and `all`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import NOW, Desk
from tests.screens.conftest import make_ticket
from tui_helpdesk.domain import ACTIVE_STATUSES, Status
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.saved_views import (
    SavedView,
    format_filter,
    load,
    parse_filter,
    save,
    views_path,
)
from tui_helpdesk.services.statuses import ALL_STATUSES, UnknownStatus, parse_statuses
from tui_helpdesk.services.views import View, count_view


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("open", (Status.OPEN,)),
        ("Open, on_hold", (Status.OPEN, Status.ON_HOLD)),
        (["pending", "new,pending"], (Status.PENDING, Status.NEW)),
        ("active", ACTIVE_STATUSES),
        ("resolved,active", (Status.RESOLVED, *ACTIVE_STATUSES)),
        ("all", ALL_STATUSES),
        ("closed,all", ALL_STATUSES),
        ("", ()),
    ],
)
def test_status_words(words: str | list[str], expected: tuple[Status, ...]) -> None:
    assert parse_statuses(words) == expected


def test_an_unknown_status_word_is_named() -> None:
    with pytest.raises(UnknownStatus, match=r"unknown status 'later' \(expected new, .*all\)"):
        parse_statuses("open,later")
    with pytest.raises(UnknownStatus):
        parse_statuses("all,later")  # every word is checked, `all` or not


def test_the_filter_takes_active_and_all() -> None:
    active = parse_filter("status:active vpn")
    assert (active.statuses, active.text) == (ACTIVE_STATUSES, "vpn")
    every = parse_filter("status:all")
    assert every.statuses == ALL_STATUSES
    assert every.ticket_filter("bob").statuses == ALL_STATUSES
    assert format_filter(every) == "status:all" and parse_filter("status:all") == every
    assert format_filter(active) == "status:active vpn"
    assert parse_filter("status:pending,resolved").statuses == (Status.PENDING, Status.RESOLVED)
    with pytest.raises(ValidationError, match=r"status: unknown value 'later' \(one of .*all\)"):
        parse_filter("status:later")


def test_status_all_lists_resolved_tickets(desk_store: Desk) -> None:
    make_ticket(desk_store, "Still open")
    make_ticket(desk_store, "Fixed", status=Status.RESOLVED)
    count = count_view(desk_store.store, "bob", View.ALL_OPEN, text="status:all", now=NOW)
    assert count == 2
    assert count_view(desk_store.store, "bob", View.ALL_OPEN, text="status:active", now=NOW) == 1


def test_saved_views_keep_active_and_all(tmp_path: Path) -> None:
    path = views_path(tmp_path / "config.toml")
    views = (
        SavedView("Everything", parse_filter("status:all tag:vip")),
        SavedView("Working", parse_filter("status:active")),
    )
    save(path, views)
    written = tomllib.loads(path.read_text())["view"]
    assert [v["status"] for v in written] == [["all"], ["active"]]  # as people write them
    assert load(path) == (views, [])
