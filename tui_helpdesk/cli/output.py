"""Printing for people: Rich tables and panels, dim hints. JSON, status lines and errors
are in `plain` (re-exported here); a path that prints only those imports `plain`, not Rich.

Data goes to stdout, diagnostics to stderr. Human output goes through a Rich console: no
colour when piped or under NO_COLOR (Rich's own rules), a fixed width when piped so rows
don't wrap at 80 columns. Every piece of stored text (subjects, names, bodies, tags) is
untrusted: it is shown through `clean()` as `rich.text.Text`, never as a string Rich would
parse for markup. Renderables are built inside the caller's session (they read
relationships) and printed after it closes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from tui_helpdesk.services.history_text import describe_event
from tui_helpdesk.text import clean, span

from .plain import error as error  # re-exported: commands that print both import one module
from .plain import print_json as print_json
from .plain import say as say

if TYPE_CHECKING:  # only named in annotations: a command imports what it uses itself
    from tui_helpdesk.services.customer_history import TicketFigures
    from tui_helpdesk.services.customers import CallerMatch, MergePlan
    from tui_helpdesk.store.models import (
        Agent,
        Category,
        Contact,
        Message,
        Organization,
        Ticket,
        TicketEvent,
    )
    from tui_helpdesk.store.models import Group as AgentGroup

PIPE_WIDTH = 120


def console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty() if hasattr(stream, "isatty") else False
    width = None if terminal or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, emoji=False, markup=False)


def show(*renderables: RenderableType) -> None:
    out = console()
    for renderable in renderables:
        out.print(renderable)


def hint(line: str) -> None:
    """A diagnostic for people (paging hints and the like) on stderr."""
    console(stderr=True).print(Text(clean(line), style="dim"), soft_wrap=True)


def inert(text: object, *, single_line: bool = True, style: str = "") -> Text:
    """Untrusted text made safe to print: control sequences stripped, never markup."""
    return Text(clean("" if text is None else str(text), single_line=single_line), style=style)


def when(value: datetime | None, zone: str) -> str:
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(
        *columns,
        title=Text(title) if title else None,
        box=None,
        header_style="bold",
        pad_edge=False,
        show_edge=False,
    )
    return table


# --- tickets ------------------------------------------------------------------------------


WIDE_TICKET_TABLE = 120  # below this many columns the ticket list leaves out group and requester
CUT_COLUMN = 16  # at most this wide: assignee, group (longer names are cut, "…")


def ticket_table(tickets: Sequence[Ticket], zone: str, width: int | None = None) -> Table:
    """Tickets a line each. The number, status, priority and due time are never cut; in a
    terminal narrower than WIDE_TICKET_TABLE (80x24 over SSH) the group and requester are
    left out and the due time is shorter; the subject takes what is left, cut to fit."""
    total = width or console().width
    wide = total >= WIDE_TICKET_TABLE
    names = ["Number", "Status", "Priority", "Due", "Assignee"]
    names += ["Group", "Requester"] if wide else []
    rows = []
    for t in tickets:
        due = when(t.due_at, zone)
        cells = [
            Text(t.key, style="bold"),
            Text(t.status.value),
            Text(t.priority.value, style="bold red" if t.priority.value == "urgent" else ""),
            Text(due if wide or t.due_at is None else due[5:]),  # "11-12 17:00"
            inert(t.assignee.login if t.assignee else "-"),
        ]
        if wide:
            cells += [inert(t.group.name if t.group else "-"), inert(t.requester.name)]
        rows.append([*cells, inert(t.subject)])
    table = _table()
    widths = []
    for index, name in enumerate(names):
        fit = max([len(name), *(row[index].cell_len for row in rows)])
        widths.append(min(fit, CUT_COLUMN) if index >= 4 else fit)
        table.add_column(name, width=widths[-1], no_wrap=True, overflow="ellipsis")
    rest = total - sum(widths) - 2 * len(widths)  # two spaces between columns
    table.add_column("Subject", width=max(12, rest), no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    return table


def _field(label: str, value: Text | str) -> Text:
    text = Text(f"{label} ", style="dim")
    text.append_text(value if isinstance(value, Text) else Text(value))
    return text


def _join(parts: Iterable[Text], sep: str = "  ") -> Text:
    return Text(sep).join(list(parts))


def ticket_header(t: Ticket, zone: str) -> RenderableType:
    requester = t.requester
    who = inert(requester.name)
    for extra in (requester.email, requester.phone):
        if extra:
            who.append("  ")
            who.append_text(inert(extra))
    lines = [
        Text.assemble(Text(t.key, style="bold"), "  ", inert(t.subject, style="bold")),
        _join(
            [
                _field("status", t.status.value),
                _field("priority", t.priority.value),
                _field("channel", t.channel.value),
                _field("version", str(t.version)),
            ]
        ),
        _join(
            [
                _field("requester", who),
                _field("organization", inert(t.organization.name if t.organization else "-")),
            ]
        ),
        _join(
            [
                _field("group", inert(t.group.name if t.group else "-")),
                _field("level", str(t.level) if t.level else "-"),
                _field("assignee", inert(t.assignee.login if t.assignee else "-")),
                _field("category", inert(t.category.path if t.category else "-")),
            ]
        ),
        _field("tags", inert(", ".join(t.tags) or "-")),
        _join(
            [
                _field("created", when(t.created_at, zone)),
                _field("updated", when(t.updated_at, zone)),
                _field("first response", when(t.first_response_at, zone)),
            ]
        ),
        _join(
            [
                _field("first response due", when(t.first_response_due_at, zone)),
                _field("resolution due", when(t.resolution_due_at, zone)),
                _field("escalation", str(t.escalation_level)),
            ]
        ),
    ]
    if t.merged_into is not None:
        lines.append(_field("merged into", t.merged_into.key))
    lines.append(Text(f"times in {zone}", style="dim"))
    return Group(*lines)


def _author(message: Message) -> Text:
    if message.author_contact is not None:
        text = inert(message.author_contact.name)
        if message.author_agent is not None:
            text.append(" ")
            text.append_text(inert(f"(taken by {message.author_agent.login})"))
        return text
    if message.author_agent is not None:
        return inert(message.author_agent.name or message.author_agent.login)
    return Text("desk")


def message_block(message: Message, zone: str) -> RenderableType:
    title = Text.assemble(
        Text(message.kind.value, style="bold yellow" if message.kind.value == "note" else "bold"),
        " · ",
        _author(message),
        " · ",
        when(message.created_at, zone),
    )
    return Group(Rule(title, align="left", style="dim"), inert(message.body, single_line=False))


def _change_text(event: TicketEvent, zone: str) -> str:
    return describe_event(event, lambda moment: when(moment, zone))


def event_table(events: Sequence[TicketEvent], zone: str) -> Table:
    table = _table("When", "Who", "What", title="History")
    table.add_column("Change", ratio=1, overflow="fold")
    for event in events:
        change = inert(_change_text(event, zone))
        if event.rule:
            change.append("  ")
            change.append_text(inert(f"(rule {event.rule})", style="dim"))
        table.add_row(
            Text(when(event.at, zone)), inert(event.actor), Text(event.kind.value), change
        )
    return table


def ticket_view(
    t: Ticket, messages: Sequence[Message], events: Sequence[TicketEvent], zone: str
) -> list[RenderableType]:
    parts: list[RenderableType] = [ticket_header(t, zone), Text("")]
    parts += [message_block(m, zone) for m in messages]
    if events:
        parts += [Text(""), event_table(events, zone)]
    return parts


# --- people and customers -----------------------------------------------------------------


def agent_table(agents: Sequence[Agent]) -> Table:
    table = _table("Login", "Name", "Email", "Role", "Groups", "Skills", "Capacity", "Active")
    for a in agents:
        table.add_row(
            inert(a.login),
            inert(a.name),
            inert(a.email or "-"),
            Text(a.role.value),
            inert(", ".join(g.name for g in a.groups) or "-"),
            inert(", ".join(a.skills) or "-"),
            Text(str(a.capacity)),
            Text("yes" if a.active else "no"),
        )
    return table


def group_table(groups: Sequence[AgentGroup]) -> Table:
    table = _table("Name", "Level", "Next level", "Lead", "Email", "Members")
    for g in groups:
        table.add_row(
            inert(g.name),
            Text(str(g.level) if g.level else "-"),
            inert(g.next_level.name if g.next_level else "-"),
            inert(g.lead.login if g.lead else "-"),
            inert(g.email or "-"),
            inert(", ".join(m.login for m in g.members) or "-"),
        )
    return table


def organization_table(orgs: Sequence[Organization]) -> Table:
    table = _table("Name", "Domains", "Segment", "SLA policy", "Region")
    for o in orgs:
        table.add_row(
            inert(o.name),
            inert(", ".join(o.domains) or "-"),
            inert(o.segment),
            inert(o.sla_policy or "-"),
            inert(o.region or "-"),
        )
    return table


def contact_table(contacts: Sequence[Contact]) -> Table:
    table = _table("Name", "Email", "Phone", "Organization", "Language", "VIP")
    for c in contacts:
        table.add_row(
            inert(c.name),
            inert(c.email or "-"),
            inert(c.phone or "-"),
            inert(c.organization.name if c.organization else "-"),
            inert(c.language or "-"),
            Text("yes" if c.vip else ""),
        )
    return table


def category_doc(category: Category) -> dict[str, Any]:
    return {
        "path": category.path,
        "name": category.name,
        "default_group": category.default_group.name if category.default_group else None,
        "default_priority": category.default_priority.value if category.default_priority else None,
    }


def category_table(categories: Sequence[Category]) -> Table:
    table = _table("Category", "Default group", "Default priority")
    for c in categories:
        table.add_row(
            inert(c.path),
            inert(c.default_group.name if c.default_group else "-"),
            Text(c.default_priority.value if c.default_priority else "-"),
        )
    return table


# --- customers ----------------------------------------------------------------------------


def caller_table(matches: Sequence[CallerMatch]) -> Table:
    table = _table("Id", "Name", "Email", "Phone", "Organization", "Found by", "VIP")
    for m in matches:
        c = m.contact
        table.add_row(
            Text(f"#{c.id}"),
            inert(c.name),
            inert(c.email or "-"),
            inert(c.phone or "-"),
            inert(m.organization.name if m.organization else "-"),
            Text(m.reason),
            Text("yes" if c.vip else ""),
        )
    return table


def contact_profile(c: Contact, zone: str) -> RenderableType:
    org = c.organization
    lines = [
        Text.assemble(inert(c.name, style="bold"), f"  #{c.id}", " VIP" if c.vip else ""),
        _field("emails", inert(", ".join(c.emails) or "-")),
        _field("phones", inert(", ".join(c.phones) or "-")),
        _join(
            [
                _field("organization", inert(f"{org.name} ({org.segment})" if org else "-")),
                _field("language", inert(c.language or "-")),
                _field("since", when(c.created_at, zone)),
            ]
        ),
    ]
    if c.notes:
        lines.append(_field("notes", inert(c.notes)))
    if c.merged_into_id is not None:
        lines.append(_field("merged into", f"contact #{c.merged_into_id}"))
    return Group(*lines)


def organization_profile(o: Organization, contacts: int | None) -> RenderableType:
    return Group(
        Text.assemble(inert(o.name, style="bold"), f"  {contacts or 0} contacts"),
        _join(
            [
                _field("segment", inert(o.segment)),
                _field("SLA policy", inert(o.sla_policy or "-")),
                _field("region", inert(o.region or "-")),
            ]
        ),
        _field("domains", inert(", ".join(o.domains) or "-")),
        *([_field("notes", inert(o.notes))] if o.notes else []),
    )


def _average(wall: float | None, working: float | None, n: int) -> str:
    if wall is None:
        return "-"
    text = span(timedelta(seconds=wall))
    if working is not None:
        text += f" (working time {span(timedelta(seconds=working))} over {n} with SLA clocks)"
    return text


def history_figures(f: TicketFigures, zone: str) -> RenderableType:
    return Group(
        _join(
            [
                _field("tickets", str(f.total)),
                _field("open", str(f.open)),
                _field("resolved or closed", str(f.done)),
                _field("breached", Text(str(f.breached), style="bold red" if f.breached else "")),
            ]
        ),
        _field(
            "average first response",
            _average(f.first_response_s, f.first_response_working_s, f.first_response_working_n),
        ),
        _field(
            "average resolution",
            _average(f.resolution_s, f.resolution_working_s, f.resolution_working_n),
        ),
        _join(
            [
                _field("last contact", when(f.last_contact_at, zone)),
                _field("oldest open", when(f.oldest_open_at, zone)),
            ]
        ),
    )


def requester_table(top: Sequence[tuple[Contact, int]]) -> Table:
    table = _table("Id", "Top requesters", "Email", "Tickets")
    for c, n in top:
        table.add_row(Text(f"#{c.id}"), inert(c.name), inert(c.email or "-"), Text(str(n)))
    return table


def merge_lines(plan: MergePlan, dry_run: bool) -> list[str]:
    keep, dup = plan.keep, plan.duplicate
    verb = "would merge" if dry_run else "merged"
    tickets = ", ".join(plan.tickets[:10]) + (" ..." if len(plan.tickets) > 10 else "")
    lines = [
        f"{verb} {dup.name} (#{dup.id}) into {keep.name} (#{keep.id})",
        f"  tickets: {len(plan.tickets)}" + (f" ({tickets})" if tickets else ""),
        f"  messages: {plan.messages}",
        f"  emails: {', '.join(plan.emails) or '-'}",
        f"  phones: {', '.join(plan.phones) or '-'}",
    ]
    if plan.filled:
        filled = ", ".join(f"{k} {' '.join(v.split())}" for k, v in plan.filled.items())
        lines.append(f"  filled: {filled}")
    return lines
