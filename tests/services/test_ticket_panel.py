"""The ticket screen's read models and the panel's writes, on SQLite and PostgreSQL: SLA clocks
in working time, the side panel (requester, organization with segment and contract, other
open tickets, suggestions), the history with the rule behind automatic changes, merging and
drafting an article from a resolved ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW, Desk
from tui_helpdesk.domain import ArticleStatus, EventKind, Status, Visibility
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import audit, desk, directory, kb, tickets
from tui_helpdesk.services.errors import Conflict, ServiceError
from tui_helpdesk.services.ticket_panel import (
    draft_article,
    merge_into,
    ticket_history,
    ticket_panel,
)
from tui_helpdesk.services.views import SlaState
from tui_helpdesk.store.models import Article, Ticket

HOURS = "\n".join(
    f'hours.{day} = ["09:00-13:00", "14:00-18:00"]' for day in ("mon", "tue", "wed", "thu", "fri")
)
RULES = f"""
[desk]
ticket_prefix = "HD"
phone_region = "IT"

[calendars.office]
timezone = "UTC"
{HOURS}

[[sla]]
name = "standard"
calendar = "office"
first_response = {{ urgent = "1h", high = "2h", normal = "4h", low = "8h" }}
resolution     = {{ urgent = "8h", high = "16h", normal = "36h", low = "72h" }}
"""


def new_ticket(d: Desk, subject: str, body: str = "It does not work.", **kw: object) -> str:
    with d.store.write() as session:
        new = tickets.NewTicket(
            subject=subject,
            body=body,
            requester=str(kw.pop("requester", "mario@acme.example")),
            requester_name="Mario [b]Rossi[/b]\x1b]0;evil\x07",
            **kw,  # type: ignore[arg-type]
        )
        return tickets.create_ticket(session, d.agent, NOW, new).key


@pytest.fixture
def sla_desk(desk_store: Desk) -> Desk:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(RULES))
    return desk_store


def test_panel_names_the_requester_organization_and_other_open_tickets(sla_desk: Desk) -> None:
    key = new_ticket(sla_desk, "VPN drops every hour")
    other = new_ticket(sla_desk, "Printer jams")
    done = new_ticket(sla_desk, "Old question")
    stranger = new_ticket(sla_desk, "Not mine", requester="someone@else.example")
    with sla_desk.store.write() as session:
        tickets.reply(session, sla_desk.agent, NOW, done, "Answered.")
        tickets.change_status(session, sla_desk.agent, NOW, done, Status.RESOLVED)
        org = directory.get_organization(session, "Acme")
        org.sla_policy = "standard"
        contact = tickets.get_ticket(session, key).requester
        contact.phone = "+390212345678"

    panel = ticket_panel(sla_desk.store, key, now=NOW + timedelta(hours=1))
    assert panel.key == key
    assert panel.requester == "Mario [b]Rossi[/b]"  # cleaned, still not markup
    assert panel.emails == ("mario@acme.example",)
    assert panel.phones == ("+39 02 1234 5678",)
    assert (panel.organization, panel.segment, panel.contract) == ("Acme", "premium", "standard")
    assert [t.key for t in panel.other_open] == [other]  # not itself, not resolved, not others'
    assert panel.other_open[0].age == "1h"
    assert stranger not in [t.key for t in panel.other_open]
    assert panel.level == "" and panel.policy == "standard"


def test_clocks_count_working_time(sla_desk: Desk) -> None:
    key = new_ticket(sla_desk, "Slow laptop")
    panel = ticket_panel(sla_desk.store, key, now=NOW)  # Monday 09:30, office hours
    clocks = {c.name: c for c in panel.clocks}
    assert clocks["first response"].text == "4h left"
    assert clocks["first response"].state is SlaState.OK
    # 36h of office hours (8 a day) is four and a half working days away.
    assert clocks["resolution"].text == "36h left"
    # 09:30 + 4h of working time is 14:30 (the lunch hour does not count): at 13:50 half an
    # hour is left, not forty minutes.
    later = ticket_panel(sla_desk.store, key, now=NOW.replace(hour=13, minute=50))
    first = next(c for c in later.clocks if c.name == "first response")
    assert first.text == "30m left" and first.state is SlaState.AT_RISK
    late = ticket_panel(sla_desk.store, key, now=NOW.replace(hour=16, minute=0))
    first = next(c for c in late.clocks if c.name == "first response")
    assert first.text == "overdue 1h30m" and first.state is SlaState.BREACHED

    with sla_desk.store.write() as session:
        tickets.reply(session, sla_desk.agent, NOW, key, "On it", status=Status.PENDING)
    paused = {c.name: c for c in ticket_panel(sla_desk.store, key, now=NOW).clocks}
    assert paused["first response"].text == "met"
    assert paused["resolution"].text.startswith("paused, ")
    assert paused["resolution"].state is SlaState.PAUSED


def test_suggestions_leave_the_ticket_itself_out(sla_desk: Desk) -> None:
    with sla_desk.store.write() as session:
        kb.add_article(
            session,
            NOW,
            sla_desk.agent,
            kb.ArticleDraft(
                "VPN tunnel drops",
                "Renew the VPN certificate.",
                visibility=Visibility.PUBLIC,
                status=ArticleStatus.PUBLISHED,
            ),
        )
    solved = new_ticket(sla_desk, "VPN tunnel drops at night")
    with sla_desk.store.write() as session:
        tickets.reply(session, sla_desk.agent, NOW, solved, "Renewed the certificate.")
        tickets.change_status(session, sla_desk.agent, NOW, solved, Status.RESOLVED)
    key = new_ticket(sla_desk, "VPN tunnel drops again", body="The tunnel drops.")

    panel = ticket_panel(sla_desk.store, key, now=NOW)
    assert [a.title.plain for a in panel.articles] == ["VPN tunnel drops"]
    assert [t.key for t in panel.similar] == [solved]
    assert panel.similar[0].resolution == "Renewed the certificate."
    itself = ticket_panel(sla_desk.store, solved, now=NOW)
    assert solved not in [t.key for t in itself.similar]
    assert ticket_panel(sla_desk.store, key, now=NOW, suggestions=False).articles == ()


def test_history_names_the_rule_behind_automatic_changes(sla_desk: Desk) -> None:
    key = new_ticket(sla_desk, "Escalate me")
    with sla_desk.store.write() as session:
        tickets.change_status(session, sla_desk.agent, NOW, key, Status.OPEN)
        ticket = tickets.get_ticket(session, key)
        audit.record(
            session,
            ticket,
            sla_desk.admin,
            NOW,
            EventKind.PRIORITY,
            field="priority",
            old="normal",
            new="urgent\x1b[2J",
            rule="vip-first",
        )
    history = ticket_history(sla_desk.store, "bob", key)
    assert history.key == key and history.hidden == 0
    kinds = [r.kind for r in history.rows]
    assert kinds[0] == "created" and "status" in kinds
    status = next(r for r in history.rows if r.kind == "status")
    assert status.change == "status: new -> open" and status.rule == "" and status.actor == "bob"
    rule = history.rows[-1]
    assert rule.change == "priority: normal -> urgent" and rule.rule == "vip-first"
    assert any(r.kind == "sla" and r.change.startswith("SLA policy standard") for r in history.rows)

    short = ticket_history(sla_desk.store, "bob", key, limit=2)
    assert len(short.rows) == 2 and short.hidden == len(history.rows) - 2
    assert short.rows[-1] == history.rows[-1]  # the newest are kept


def test_merge_into_another_ticket(sla_desk: Desk) -> None:
    source = new_ticket(sla_desk, "Duplicate")
    target = new_ticket(sla_desk, "Original")
    with sla_desk.store.read() as session:
        version = tickets.get_ticket(session, source).version
    with sla_desk.store.write() as session:
        tickets.add_note(session, sla_desk.admin, NOW, source, "meanwhile")
    with pytest.raises(Conflict):
        merge_into(sla_desk.store, "bob", source, target, expected_version=version, now=NOW)
    with sla_desk.store.read() as session:
        version = tickets.get_ticket(session, source).version
    result = merge_into(sla_desk.store, "bob", source, target, expected_version=version, now=NOW)
    assert result.key == target and result.summary == f"{source} merged into {target}"
    with sla_desk.store.read() as session:
        merged = tickets.get_ticket(session, source)
        assert merged.status is Status.CLOSED and merged.merged_into_id is not None
    with pytest.raises(ServiceError):
        merge_into(sla_desk.store, "bob", target, target, expected_version=0, now=NOW)


def test_draft_article_from_a_resolved_ticket(sla_desk: Desk) -> None:
    key = new_ticket(sla_desk, "Reset the router")
    with sla_desk.store.read() as session:
        version = tickets.get_ticket(session, key).version
    with pytest.raises(ServiceError, match="resolved or closed"):
        draft_article(sla_desk.store, "bob", key, expected_version=version, now=NOW)
    with sla_desk.store.write() as session:
        tickets.reply(session, sla_desk.agent, NOW, key, "Hold the button 10s.")
        tickets.change_status(session, sla_desk.agent, NOW, key, Status.RESOLVED)
        version = tickets.get_ticket(session, key).version
    result = draft_article(sla_desk.store, "bob", key, expected_version=version, now=NOW)
    with sla_desk.store.read() as session:
        article = session.scalars(select(Article)).one()
        source = session.get(Ticket, article.source_ticket_id)
        assert source is not None and source.key == key
        assert "Hold the button 10s." in article.body
        article_id = article.id
    assert result.summary == f"article {article_id} drafted: Reset the router"
    assert any(
        r.change == f"knowledge article {article_id} drafted from this ticket"
        for r in ticket_history(sla_desk.store, "bob", key).rows
    )
