"""`helpdesk ticket ...`: create, list, show and change tickets.

Each body parses its options, opens one unit of work, calls `services.tickets` /
`services.queue` as the acting agent, and prints the result after the transaction commits
(the ticket number, a one-line confirmation, or with `--json` the ticket document).
A NUMBER is written HD-12, 12 or #12. `escalate`, `sla` and `search` live in their own
modules, loaded when they run; the ticket service and Rich load in the bodies that use them,
so `ticket list --json` imports neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tui_helpdesk.domain import Channel, Priority, Status
from tui_helpdesk.services import queue, serialize
from tui_helpdesk.text import file_size, safe_file_name  # the console names files alike

from .common import (
    Body,
    BodyFile,
    ExpectedVersion,
    JsonFlag,
    Number,
    read_body,
    refuse_terminal,
    runtime,
)
from .lazy import from_module, lazy_group
from .plain import print_json, say
from .runtime import CliError, Runtime
from .statuses import parse_statuses, status_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.services.errors import Conflict
    from tui_helpdesk.store.models import Attachment, Message, Ticket


app = typer.Typer(
    rich_markup_mode=None,
    cls=lazy_group(
        {
            "escalate": from_module(".escalate", "ticket_escalate"),
            "sla": from_module(".clocks", "sla"),
            "search": from_module(".search", "ticket_search"),
        }
    ),
    help="Create, list, show and change tickets.",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _me(login: str | None, actor: Actor) -> str | None:
    return actor.login if login is not None and login.lower() == "me" else login


def _done(ticket_doc: dict[str, Any], json_out: bool, line: str) -> None:
    if json_out:
        print_json(ticket_doc)
    else:
        say(line)


# --- create -------------------------------------------------------------------------------


@app.command()
def create(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option("--subject", "-s", help="One line: what is wrong.")],
    body: Body = None,
    body_file: BodyFile = None,
    requester: Annotated[
        str | None,
        typer.Option(
            "--requester",
            "-r",
            metavar="EMAIL_OR_PHONE",
            help="The customer's email or phone number: found, or created as a contact. "
            "Default: you (an internal ticket).",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The requester's name, for a new contact.")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", metavar="NAME", help="The requester's organization.")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", metavar="PATH", help="e.g. 'Technical > Network'."),
    ] = None,
    priority: Annotated[
        Priority | None,
        typer.Option("--priority", "-p", help="Default: the category's, else normal."),
    ] = None,
    channel: Annotated[
        Channel | None,
        typer.Option(
            "--channel",
            help="How the request came in. Default: phone when --requester is a phone "
            "number, else cli.",
        ),
    ] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", metavar="NAME")] = None,
    assign: Annotated[
        str | None, typer.Option("--assign", "-a", metavar="LOGIN", help="An agent, or 'me'.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="TAG", help="Repeatable.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Open a ticket, for a customer or a caller.

    E.g. for a caller: --requester "+39 02 1234 5678" --name "Carla Bianchi".

    Prints the new number (with --json: the ticket document)."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    text = read_body(body, body_file, required=False)
    if channel is None:
        # Someone typing in a caller's phone number is on the phone with them.
        channel = Channel.PHONE if requester and "@" not in requester else Channel.CLI
    with rt.store().write() as session:
        actor = rt.actor(session)
        ticket = tickets.create_ticket(
            session,
            actor,
            rt.now,
            tickets.NewTicket(
                subject=subject,
                body=text,
                channel=channel,
                requester=requester,
                requester_name=name,
                organization=org,
                category=category,
                priority=priority,
                group=group,
                assignee=_me(assign, actor),
                tags=tag or (),
            ),
        )
        doc = serialize.ticket_doc(ticket)
    _done(doc, json_out, doc["number"])


# --- reading ------------------------------------------------------------------------------


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[list[str] | None, status_option("active (not resolved or closed)")] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", metavar="NAME")] = None,
    assignee: Annotated[
        str | None,
        typer.Option("--assignee", metavar="LOGIN", help="An agent, 'me', or 'none'."),
    ] = None,
    priority: Annotated[
        list[Priority] | None, typer.Option("--priority", "-p", help="Repeatable.")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", metavar="NAME")] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", metavar="PATH", help="Includes sub-categories."),
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", metavar="TAG")] = None,
    channel: Annotated[Channel | None, typer.Option("--channel")] = None,
    text: Annotated[
        str | None,
        typer.Option("--text", "-q", help="In the subject, requester name or email."),
    ] = None,
    sort: Annotated[
        queue.Sort,
        typer.Option("--sort", help="due: most urgent deadline first; updated/created: newest."),
    ] = queue.Sort.DUE,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1)] = 50,
    after: Annotated[
        str | None,
        typer.Option("--after", metavar="CURSOR", help="Next page: the cursor of the last one."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """List tickets, one page at a time.

    JSON: {"tickets": [ticket, ...], "next_cursor": CURSOR or null}; pass the cursor back
    with --after (same filters and --sort) for the next page."""
    rt = runtime(ctx)
    statuses = parse_statuses(status)
    cursor = queue.Cursor.decode(after) if after else None
    with rt.store().read() as session:
        actor = rt.actor(session)
        flt = queue.TicketFilter(
            statuses=statuses,
            group=group,
            assignee=_me(assignee, actor),
            priorities=tuple(priority or ()),
            organization=org,
            category=category,
            tag=tag,
            channel=channel,
            text=text,
        )
        page = queue.list_tickets(session, flt, sort=sort, after=cursor, limit=limit)
        next_cursor = page.next_cursor.encode() if page.next_cursor else None
        if json_out:
            print_json(
                {
                    "tickets": [serialize.ticket_doc(t) for t in page.tickets],
                    "next_cursor": next_cursor,
                }
            )
            return
        from .output import hint, show, ticket_table

        if not page.tickets:
            hint("no tickets match")
            return
        show(ticket_table(page.tickets, rt.display_zone(session)))
    if next_cursor:
        hint(f"more: add --after {next_cursor}")


@app.command("show")
def show_(ctx: typer.Context, number: Number, json_out: JsonFlag = False) -> None:
    """Show a ticket with its conversation and history.

    JSON: the ticket document plus "messages" and "events" (oldest first)."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        ticket = tickets.get_ticket(session, number)
        messages = tickets.ticket_messages(session, ticket)
        events = tickets.ticket_events(session, ticket)
        if json_out:
            doc = serialize.ticket_doc(ticket)
            doc["messages"] = [serialize.message_doc(m) for m in messages]
            doc["events"] = [serialize.event_doc(e) for e in events]
            print_json(doc)
            return
        from rich.text import Text

        from .output import event_table, message_block, show, ticket_header

        zone = rt.display_zone(session)
        parts: list[Any] = [ticket_header(ticket, zone), Text("")]
        for message in messages:
            parts.append(message_block(message, zone))
            parts += [_attachment_line(a) for a in message.attachments]
        if events:
            parts += [Text(""), event_table(events, zone)]
        show(*parts)


def _attachment_line(attachment: Attachment) -> Any:
    """`attachment 12: report.pdf (application/pdf, 1.2 KB)`, the customer's name inert."""
    from .output import inert

    kept = "" if attachment.content is not None else ", not kept: over the size limit"
    return inert(
        f"attachment {attachment.id}: {attachment.filename} "
        f"({attachment.content_type}, {file_size(attachment.size)}{kept})",
        style="dim",
    )


@app.command("attachment")
def attachment_(
    ctx: typer.Context,
    number: Number,
    attachment_id: Annotated[int, typer.Argument(help="The attachment's id (ticket show).")],
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="File to write, or - for stdout (a pipe).", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write one of a ticket's attachments to a file.

    By default the file is named after the attachment (made safe) in the current directory;
    `--out -` writes to stdout, only when it is a pipe. An existing file is kept unless
    `--force`."""
    import sys
    from pathlib import Path

    from tui_helpdesk.services import tickets

    refuse_terminal(out, "an attachment is a file: write it to a file (--out FILE) or a pipe")
    rt = runtime(ctx)
    with rt.store().read() as session:
        rt.actor(session)
        found = tickets.ticket_attachment(session, number, attachment_id)
        assert found.content is not None
        content, name = found.content, found.filename
    if out == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    path = Path(out).expanduser() if out else Path(safe_file_name(name, attachment_id))
    try:
        with path.open("wb" if force else "xb") as stream:
            stream.write(content)
    except FileExistsError:
        raise CliError(f"{path} exists: add --force to overwrite it") from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
    sys.stderr.write(f"{len(content)} bytes written to {path}\n")


# --- conversation -------------------------------------------------------------------------


@app.command()
def reply(
    ctx: typer.Context,
    number: Number,
    body: Body = None,
    body_file: BodyFile = None,
    status: Annotated[
        Status | None,
        typer.Option("--status", help="Then move the ticket on, e.g. pending or resolved."),
    ] = None,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Send a public reply to the customer.

    The first one stamps the first response.

    JSON: the ticket document plus "message"."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    text = read_body(body, body_file, required=True)
    assert text is not None
    with _writing(rt) as session:
        actor = rt.actor(session)
        message = tickets.reply(
            session, actor, rt.now, number, text, expected_version=expected_version, status=status
        )
        doc = _ticket_with_message(session, number, message)
    _done(doc, json_out, f"{doc['number']}: reply added; now {doc['status']}")


@app.command()
def note(
    ctx: typer.Context,
    number: Number,
    body: Body = None,
    body_file: BodyFile = None,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Add an internal note (never shown to the customer).

    JSON: the ticket document plus "message"."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    text = read_body(body, body_file, required=True)
    assert text is not None
    with _writing(rt) as session:
        actor = rt.actor(session)
        message = tickets.add_note(
            session, actor, rt.now, number, text, expected_version=expected_version
        )
        doc = _ticket_with_message(session, number, message)
    _done(doc, json_out, f"{doc['number']}: note added")


def _ticket_with_message(session: Session, number: str, message: Message) -> dict[str, Any]:
    from tui_helpdesk.services import tickets

    doc = serialize.ticket_doc(tickets.get_ticket(session, number))
    doc["message"] = serialize.message_doc(message)
    return doc


# --- changes ------------------------------------------------------------------------------


@contextmanager
def _writing(rt: Runtime) -> Iterator[Session]:
    """A unit of work whose refusal because someone else saved first (`Conflict`, e.g. with
    --expected-version) is told as the console tells it: every change made since, who and
    when (`services.conflicts`), on one line, in the display zone with the date, as
    `ticket show` prints times ("2026-12-03 10:05 cleo: priority normal → urgent")."""
    from tui_helpdesk.services.errors import Conflict

    try:
        with rt.store().write() as session:
            yield session
    except Conflict as exc:
        raise CliError(_explained(rt, exc), exc.exit_code) from None


def _explained(rt: Runtime, conflict: Conflict) -> str:
    from zoneinfo import ZoneInfo

    from sqlalchemy.exc import SQLAlchemyError

    from tui_helpdesk.services import conflicts

    since = (
        f"version {conflict.expected_version}"
        if conflict.expected_version is not None
        else "you loaded it"
    )
    try:
        with rt.store().read() as session:
            zone = rt.display_zone(session)
            return conflicts.explain_line(
                session,
                conflict,
                zone=ZoneInfo(zone),
                head=f"{conflict.key} was changed since {since}; nothing was saved",
                tail=f" (times in {zone}); show it and try again",
            )
    except (SQLAlchemyError, LookupError, ValueError):
        return str(conflict)  # the database went away meanwhile: the refusal's own words


def _change(
    ctx: typer.Context,
    json_out: bool,
    change: Callable[[Session, Actor, datetime], Ticket],
    line: Callable[[Ticket], str] | None = None,
) -> None:
    """One change to one ticket in its own unit of work, then the ticket's document (--json)
    or a one-line summary."""
    rt = runtime(ctx)
    with _writing(rt) as session:
        ticket = change(session, rt.actor(session), rt.now)
        doc, text = serialize.ticket_doc(ticket), (line or _summary)(ticket)
    _done(doc, json_out, text)


def _summary(ticket: Ticket) -> str:
    who = ticket.assignee.login if ticket.assignee else "unassigned"
    group = ticket.group.name if ticket.group else "no group"
    return (
        f"{ticket.key}: {ticket.status.value}, {ticket.priority.value}, {who} in {group} "
        f"(version {ticket.version})"
    )


@app.command()
def assign(
    ctx: typer.Context,
    number: Number,
    login: Annotated[
        str | None, typer.Argument(metavar="[LOGIN]", help="The new assignee, or 'me'.")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", "-g", metavar="NAME", help="Move to this group.")
    ] = None,
    none: Annotated[
        bool, typer.Option("--none", help="Unassign (the ticket stays in its group).")
    ] = False,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Assign a ticket to an agent and/or move it to a group."""
    from tui_helpdesk.services import tickets

    if login and none:
        raise CliError("give a LOGIN or --none, not both", 2)
    if not (login or group or none):
        raise CliError("say who: a LOGIN, --group NAME or --none", 2)

    def change(session: Session, actor: Actor, now: datetime) -> Ticket:
        agent: str | tickets._Unset | None = tickets.UNSET
        if none:
            agent = None
        elif login:
            agent = _me(login, actor)
        return tickets.assign(
            session,
            actor,
            now,
            number,
            agent=agent,
            group=group if group else tickets.UNSET,
            expected_version=expected_version,
        )

    _change(ctx, json_out, change)


@app.command()
def status(
    ctx: typer.Context,
    number: Number,
    target: Annotated[Status, typer.Argument(metavar="STATUS")],
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Move a ticket to another status.

    STATUS: new, open, pending, on_hold, resolved or closed."""
    from tui_helpdesk.services import tickets

    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_status(
            session, actor, now, number, target, expected_version=expected_version
        ),
    )


@app.command()
def priority(
    ctx: typer.Context,
    number: Number,
    value: Annotated[Priority, typer.Argument(metavar="PRIORITY")],
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a ticket's priority (low, normal, high, urgent)."""
    from tui_helpdesk.services import tickets

    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_priority(
            session, actor, now, number, value, expected_version=expected_version
        ),
    )


@app.command()
def category(
    ctx: typer.Context,
    number: Number,
    path: Annotated[
        str | None, typer.Argument(metavar="[PATH]", help="e.g. 'Technical > Network'.")
    ] = None,
    none: Annotated[bool, typer.Option("--none", help="Clear the category.")] = False,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Set or clear a ticket's category."""
    from tui_helpdesk.services import tickets

    if bool(path) == none:
        raise CliError("give a category PATH or --none", 2)
    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_category(
            session, actor, now, number, path or None, expected_version=expected_version
        ),
        lambda t: f"{t.key}: category {t.category.path if t.category else 'none'}",
    )


@app.command()
def subject(
    ctx: typer.Context,
    number: Number,
    text: Annotated[str, typer.Argument(metavar="SUBJECT", help="The new subject, one line.")],
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a ticket's subject (the old one stays in its history)."""
    from tui_helpdesk.services import tickets

    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_subject(
            session, actor, now, number, text, expected_version=expected_version
        ),
        lambda t: f"{t.key}: subject {t.subject}",
    )


@app.command()
def requester(
    ctx: typer.Context,
    number: Number,
    identity: Annotated[
        str, typer.Argument(metavar="EMAIL|PHONE", help="Who asked: found, or added as a contact.")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="The requester's name, for a new contact.")
    ] = None,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Give a ticket another requester, whose contract then applies."""
    from tui_helpdesk.services import tickets

    def line(t: Ticket) -> str:
        who = t.requester.email or t.requester.phone or t.requester.name
        org = t.organization.name if t.organization else "no organization"
        return f"{t.key}: requester {t.requester.name} <{who}>, {org}"

    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_requester(
            session, actor, now, number, identity, name=name, expected_version=expected_version
        ),
        line,
    )


# -TAG words are tags to remove, not options; and `-h...` must not read as -h (help).
@app.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
def tag(
    ctx: typer.Context,
    number: Number,
    changes: Annotated[
        list[str] | None,
        typer.Argument(metavar="[+TAG|-TAG]...", help="+tag or tag adds, -tag removes."),
    ] = None,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Add and remove tags: helpdesk ticket tag HD-12 +vip -billing."""
    from tui_helpdesk.services import tickets

    add = [c[1:] if c.startswith("+") else c for c in changes or [] if not c.startswith("-")]
    remove = [c[1:] for c in changes or [] if c.startswith("-")]
    if not add and not remove:
        raise CliError("no tags given: write +TAG to add, -TAG to remove", 2)
    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.change_tags(
            session, actor, now, number, add=add, remove=remove, expected_version=expected_version
        ),
        lambda t: f"{t.key}: tags {' '.join(t.tags) or '(none)'}",
    )


@app.command()
def merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The ticket to close.")],
    target: Annotated[str, typer.Argument(metavar="TARGET", help="The ticket that stays.")],
    json_out: JsonFlag = False,
) -> None:
    """Merge ticket SOURCE into ticket TARGET.

    Its messages move over and SOURCE is closed with a link.

    JSON: {"source": ticket, "target": ticket}."""
    from tui_helpdesk.services import tickets

    rt = runtime(ctx)
    with _writing(rt) as session:
        merged, kept = tickets.merge(session, rt.actor(session), rt.now, source, target)
        doc = {"source": serialize.ticket_doc(merged), "target": serialize.ticket_doc(kept)}
    if json_out:
        print_json(doc)
    else:
        say(f"{doc['source']['number']} merged into {doc['target']['number']}")


@app.command()
def reopen(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str | None, typer.Option("--reason", help="Recorded in the history.")] = None,
    expected_version: ExpectedVersion = None,
    json_out: JsonFlag = False,
) -> None:
    """Reopen a resolved or recently closed ticket.

    A closed ticket reopens only within the desk's reopen window."""
    from tui_helpdesk.services import tickets

    _change(
        ctx,
        json_out,
        lambda session, actor, now: tickets.reopen(
            session, actor, now, number, reason=reason, expected_version=expected_version
        ),
    )
