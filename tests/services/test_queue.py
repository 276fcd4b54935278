"""Ticket lists: every filter, and keyset paging that visits each matching ticket exactly
once for every sort order (DUE across its two phases too); the console's lean rows are the
same pages, field by field, in one statement per phase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.conftest import NOW, Desk, statements
from tests.services.conftest import MakeTicket
from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.services.queue import (
    Cursor,
    Sort,
    TicketFilter,
    TicketRow,
    count_tickets,
    list_rows,
    list_tickets,
)
from tui_helpdesk.store.models import Ticket


@pytest.fixture
def queue(desk_store: Desk, make_ticket: MakeTicket) -> dict[str, str]:
    """A varied queue; values are ticket keys by role."""
    with desk_store.store.write() as session:
        directory.ensure_category(session, "Technical > Network > Wi-Fi")
        directory.ensure_category(session, "Technical_X")
    keys = {
        "net": make_ticket("VPN tunnel down", category="Technical > Network"),
        "wifi": make_ticket(
            "Wi-Fi slow", category="Technical > Network > Wi-Fi", group="L1", tags=["wifi"]
        ),
        "bill": make_ticket(
            "Invoice 100% wrong", category="Billing", requester="zoe@other.example"
        ),
        "phone": make_ticket(
            "Call back", channel=Channel.PHONE, requester="+39 02 1234 5678", assignee="cleo"
        ),
        "urgent": make_ticket("Server down", priority=Priority.URGENT, assignee="bob"),
        "x": make_ticket("Odd category", category="Technical_X", requester="zoe@other.example"),
    }
    with desk_store.store.write() as session:
        tickets.change_status(session, desk_store.agent, NOW, keys["bill"], Status.PENDING)
        tickets.change_status(session, desk_store.agent, NOW, keys["x"], Status.RESOLVED)
    return keys


def _keys(desk_store: Desk, flt: TicketFilter, sort: Sort = Sort.NUMBER) -> list[str]:
    with desk_store.store.read() as session:
        page = list_tickets(session, flt, sort=sort, limit=100)
        assert count_tickets(session, flt) == len(page.tickets)
        return [t.key for t in page.tickets]


def test_filters(desk_store: Desk, queue: dict[str, str]) -> None:
    k = queue
    active = [k["net"], k["wifi"], k["bill"], k["phone"], k["urgent"]]
    cases = [
        (TicketFilter(), active),
        (TicketFilter(statuses=()), [*active, k["x"]]),
        (TicketFilter(statuses=(Status.PENDING,)), [k["bill"]]),
        (TicketFilter(statuses=(Status.RESOLVED, Status.CLOSED)), [k["x"]]),
        (TicketFilter(group="l1"), [k["net"], k["wifi"], k["urgent"]]),
        (TicketFilter(group="L2"), [k["phone"]]),
        (TicketFilter(assignee="bob"), [k["urgent"]]),
        (TicketFilter(assignee="none"), [k["net"], k["wifi"], k["bill"]]),
        (TicketFilter(assignee="None"), [k["net"], k["wifi"], k["bill"]]),
        (TicketFilter(priorities=(Priority.URGENT,)), [k["urgent"]]),
        (TicketFilter(priorities=(Priority.HIGH, Priority.URGENT)), [k["net"], k["urgent"]]),
        (TicketFilter(organization="acme"), [k["net"], k["wifi"], k["urgent"]]),
        (TicketFilter(category="Technical > Network"), [k["net"], k["wifi"]]),
        (TicketFilter(category="Technical"), [k["net"], k["wifi"]]),  # not Technical_X
        (TicketFilter(category="technical > network > wi-fi"), [k["wifi"]]),
        (TicketFilter(tag="WiFi"), [k["wifi"]]),
        (TicketFilter(channel=Channel.PHONE), [k["phone"]]),
        (TicketFilter(text="DOWN"), [k["net"], k["urgent"]]),
        (TicketFilter(text="zoe@other"), [k["bill"]]),  # the requester's address
        (TicketFilter(text="100%"), [k["bill"]]),
        (TicketFilter(text="%"), [k["bill"]]),  # % and _ are characters, not wildcards
        (TicketFilter(text="_"), []),
        (TicketFilter(text="   "), active),
        (TicketFilter(group="L1", assignee="none", tag="wifi"), [k["wifi"]]),
    ]
    for flt, expected in cases:
        assert _keys(desk_store, flt) == expected, flt


def test_requester_filter(desk_store: Desk, queue: dict[str, str]) -> None:
    with desk_store.store.read() as session:
        requester = tickets.get_ticket(session, queue["bill"]).requester_id
    assert _keys(desk_store, TicketFilter(statuses=(), requester_id=requester)) == [
        queue["bill"],
        queue["x"],
    ]


def test_unknown_filter_values(desk_store: Desk) -> None:
    with desk_store.store.read() as session:
        for flt in (
            TicketFilter(group="L9"),
            TicketFilter(assignee="zed"),
            TicketFilter(organization="Nope"),
            TicketFilter(category="Nope"),
        ):
            with pytest.raises(NotFound):
                list_tickets(session, flt)


def _walk(desk_store: Desk, flt: TicketFilter, sort: Sort, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    after: Cursor | None = None
    with desk_store.store.read() as session:
        while True:
            page = list_tickets(session, flt, sort=sort, after=after, limit=limit)
            assert page.sort is sort
            pages.append([t.key for t in page.tickets])
            if page.next_cursor is None:
                return pages
            # The cursor goes through its text form, as the CLI and the console pass it on.
            after = Cursor.decode(page.next_cursor.encode())
            assert len(pages) < 100


LATER = NOW + timedelta(hours=2)
ORDERS_OF_ALL = [s for s in Sort if s is not Sort.RESOLVED]  # RESOLVED lists resolved ones only


def test_paging_visits_every_ticket_once(desk_store: Desk, make_ticket: MakeTicket) -> None:
    keys: list[str] = []
    for i in range(13):
        # Pairs share a timestamp, so ties are broken by id across page boundaries.
        keys.append(make_ticket(f"t{i}", at=NOW + timedelta(minutes=i // 2)))
    with desk_store.store.write() as session:
        # A mix of deadlines: some equal, some missing (no SLA yet, or paused).
        dues = [5, None, 3, 3, None, 9, 1, None, 3, 7, None, None, 2]
        for key, due in zip(keys, dues, strict=True):
            session.execute(
                update(Ticket)
                .where(Ticket.key == key)
                .values(due_at=None if due is None else NOW + timedelta(hours=due))
            )
        for i, key in enumerate(reversed(keys)):
            at = NOW + timedelta(hours=1, minutes=i // 3)  # ties again
            tickets.add_note(session, desk_store.agent, at, key, "x")
    with desk_store.store.read() as session:
        full = {
            sort: [t.key for t in list_tickets(session, sort=sort, limit=100).tickets]
            for sort in ORDERS_OF_ALL
        }
        rows = list_tickets(session, sort=Sort.NUMBER, limit=100).tickets
        assert [t.key for t in rows] == keys
        due = sorted((t for t in rows if t.due_at is not None), key=lambda t: (t.due_at, t.id))
        expected = {
            Sort.NUMBER: keys,
            Sort.DUE: [t.key for t in due] + [t.key for t in rows if t.due_at is None],
            Sort.CREATED: [
                t.key for t in sorted(rows, key=lambda t: (t.created_at, t.id), reverse=True)
            ],
            Sort.UPDATED: [
                t.key for t in sorted(rows, key=lambda t: (t.updated_at, t.id), reverse=True)
            ],
        }
        assert full == expected
        assert len(due) == 8
    for sort in ORDERS_OF_ALL:
        for limit in (1, 2, 3, 5, 7, 8, 12, 13, 14):
            pages = _walk(desk_store, TicketFilter(), sort, limit)
            flat = [k for page in pages for k in page]
            assert flat == full[sort], (sort, limit)
            assert all(len(page) == limit for page in pages[:-1]), (sort, limit)
    # A filter applies to every page, in both DUE phases.
    flt = TicketFilter(text="t1")  # t1, t10, t11, t12
    flat = [k for page in _walk(desk_store, flt, Sort.DUE, 1) for k in page]
    assert sorted(flat) == sorted([keys[1], keys[10], keys[11], keys[12]])


def test_cursor_round_trip_and_refusals(desk_store: Desk, make_ticket: MakeTicket) -> None:
    cursor = Cursor(Sort.UPDATED, 0, "2026-11-23T09:30:00+00:00", 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode(Cursor(Sort.DUE, 1, None, 7).encode()) == Cursor(Sort.DUE, 1, None, 7)
    for bad in ("", "nonsense", "W10", Cursor(Sort.DUE, 0, None, 1).encode()[:-3] + "!!"):
        with pytest.raises(ValidationError, match="invalid page cursor"):
            Cursor.decode(bad)
    make_ticket()
    make_ticket()
    with desk_store.store.read() as session:
        page = list_tickets(session, sort=Sort.NUMBER, limit=1)
        assert page.next_cursor is not None
        with pytest.raises(ValidationError, match="another sort order"):
            list_tickets(session, sort=Sort.CREATED, after=page.next_cursor)
        for limit in (0, 501):
            with pytest.raises(ValidationError, match="limit must be between 1 and 500"):
                list_tickets(session, limit=limit)
        assert (
            list_tickets(session, sort=Sort.NUMBER, after=page.next_cursor).tickets[0].key == "HD-2"
        )


def test_count_tickets(desk_store: Desk, queue: dict[str, str]) -> None:
    with desk_store.store.read() as session:
        assert count_tickets(session) == 5
        assert count_tickets(session, TicketFilter(statuses=())) == 6
        assert count_tickets(session, TicketFilter(assignee="none", group="L1")) == 2
        assert count_tickets(session, TicketFilter(tag="nothing")) == 0


def test_recently_resolved_pages_newest_first(desk_store: Desk, make_ticket: MakeTicket) -> None:
    keys = [make_ticket(f"r{i}") for i in range(7)]
    with desk_store.store.write() as session:
        for i, key in enumerate(keys[:6]):
            # Pairs resolved at the same moment: ties go by id, across page boundaries.
            at = NOW + timedelta(minutes=i // 2)
            tickets.change_status(session, desk_store.agent, at, key, Status.RESOLVED)
        tickets.change_status(session, desk_store.agent, LATER, keys[0], Status.CLOSED)
        tickets.reopen(session, desk_store.agent, LATER, keys[5])  # no longer resolved
    expected = [keys[4], keys[3], keys[2], keys[1], keys[0]]
    with desk_store.store.read() as session:
        everything = TicketFilter(statuses=())
        page = list_tickets(session, everything, sort=Sort.RESOLVED, limit=50)
        assert [t.key for t in page.tickets] == expected
        closed_only = TicketFilter(statuses=(Status.CLOSED,))
        page = list_tickets(session, closed_only, sort=Sort.RESOLVED, limit=50)
        assert [t.key for t in page.tickets] == [keys[0]]
    for limit in (1, 2, 3, 4, 5, 6):
        pages = _walk(desk_store, TicketFilter(statuses=()), Sort.RESOLVED, limit)
        assert [k for page in pages for k in page] == expected, limit


# --- the console's lean rows --------------------------------------------------------------


@pytest.fixture
def varied(desk_store: Desk, queue: dict[str, str], make_ticket: MakeTicket) -> dict[str, str]:
    """The varied queue, with deadlines (some equal, some missing), a level that is not its
    group's, a requester known by phone only and one without an organization."""
    keys = dict(queue)
    keys["escalated"] = make_ticket("Escalated", group="L1", assignee="bob")
    keys["nameless"] = make_ticket("By phone", requester="+39 06 5555 0101")
    with desk_store.store.write() as session:
        dues = {"net": 3, "wifi": 1, "phone": 3, "escalated": 2, "nameless": None}
        for role, hours in dues.items():
            session.execute(
                update(Ticket)
                .where(Ticket.key == keys[role])
                .values(due_at=None if hours is None else NOW + timedelta(hours=hours))
            )
        session.execute(update(Ticket).where(Ticket.key == keys["escalated"]).values(level=2))
    return keys


FILTERS = [
    TicketFilter(),
    TicketFilter(statuses=()),
    TicketFilter(group="L1"),
    TicketFilter(assignee="none"),
    TicketFilter(text="down"),
    TicketFilter(tag="wifi"),
    TicketFilter(category="Technical"),
    TicketFilter(statuses=(Status.RESOLVED, Status.CLOSED)),
]


@pytest.mark.parametrize("sort", list(Sort))
def test_rows_are_the_pages_of_tickets_field_by_field(
    desk_store: Desk, varied: dict[str, str], sort: Sort
) -> None:
    with desk_store.store.read() as session:
        for flt in FILTERS:
            for limit in (1, 2, 3, 50):
                after_tickets = after_rows = None
                seen = 0
                while True:
                    page = list_tickets(session, flt, sort=sort, after=after_tickets, limit=limit)
                    rows, cursor = list_rows(session, flt, sort=sort, after=after_rows, limit=limit)
                    assert rows == [TicketRow.of(t) for t in page.tickets], (flt, limit, seen)
                    assert cursor == page.next_cursor
                    seen += len(rows)
                    if cursor is None:
                        break
                    after_tickets = after_rows = Cursor.decode(cursor.encode())
                assert seen == len(list_tickets(session, flt, sort=sort, limit=100).tickets)


def test_row_fields_of_a_crafted_desk(desk_store: Desk, varied: dict[str, str]) -> None:
    with desk_store.store.read() as session:
        rows, _ = list_rows(session, TicketFilter(statuses=()), sort=Sort.NUMBER, limit=100)
    by_key = {row.key: row for row in rows}
    escalated = by_key[varied["escalated"]]
    assert (escalated.group, escalated.group_level, escalated.level) == ("L1", 1, 2)
    assert escalated.assignee == "bob" and escalated.organization == "Acme"
    nameless = by_key[varied["nameless"]]
    assert nameless.requester_phone == "+390655550101" and nameless.requester_email is None
    assert nameless.organization is None and nameless.assignee is None
    bill = by_key[varied["bill"]]
    assert bill.requester_email == "zoe@other.example" and bill.status is Status.PENDING
    assert by_key[varied["wifi"]].due_at == NOW + timedelta(hours=1)


def test_a_page_of_rows_is_one_statement_per_phase(
    desk_store: Desk, varied: dict[str, str]
) -> None:
    store = desk_store.store
    with store.read() as session:
        with statements(store) as sent:
            rows, cursor = list_rows(session, limit=2)  # deadlines only
        assert len(rows) == 2 and cursor is not None and len(sent) == 1
        with statements(store) as sent:
            rows, cursor = list_rows(session, limit=50)  # deadlines, then the rest
        assert len(rows) == 7 and cursor is None and len(sent) == 2
        with statements(store) as sent:
            list_rows(session, TicketFilter(group="L1", assignee="bob"), limit=50)
        assert len(sent) == 4  # the group and the agent looked up once each
        with statements(store) as sent:
            list_rows(session, TicketFilter(statuses=()), sort=Sort.UPDATED, limit=50)
        assert len(sent) == 1
