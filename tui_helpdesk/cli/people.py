"""`helpdesk agent|group|org|contact|category ...`: the desk's directory and customers.

Thin glue over `services.directory` (add, edit, list), `services.customers` (find a caller,
show a customer's history, merge duplicates) and `services.imports` (CSV files with a header
row: a bad row names its line and nothing of the file is written, or with --skip-bad the good
rows are and the command exits 3). List commands print a table, or with `--json` one object:
{"agents": [...]}, {"groups": [...]}, {"organizations": [...]}, {"contacts": [...]},
{"categories": [...]}.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from tui_helpdesk.domain import Priority, Role
from tui_helpdesk.services import (
    customer_history,
    customers,
    desk,
    directory,
    imports,
    queue,
    serialize,
)
from tui_helpdesk.services.context import require_admin

from .common import EX_SOME_FAILED, JsonFlag, read_text, runtime
from .output import (
    agent_table,
    caller_table,
    category_doc,
    category_table,
    contact_profile,
    error,
    group_table,
    hint,
    history_figures,
    merge_lines,
    organization_profile,
    organization_table,
    print_json,
    requester_table,
    say,
    show,
    ticket_table,
)
from .plain import counted


def _app(help_text: str) -> typer.Typer:
    return typer.Typer(
        rich_markup_mode=None,
        help=help_text,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )


agent_app = _app("Agents: the people who work tickets.")
group_app = _app("Groups: support levels (1, 2, 3) and functional teams.")
org_app = _app("Organizations: the customers' companies, known by email domain.")
contact_app = _app("Contacts: the people who ask for help.")
category_app = _app("Categories: the tree tickets are filed under.")
apps = {
    "agent": agent_app,
    "group": group_app,
    "org": org_app,
    "contact": contact_app,
    "category": category_app,
}

ImportFile = Annotated[
    str, typer.Argument(metavar="FILE.csv", help="A CSV file with a header row (- for stdin).")
]
SkipBad = Annotated[
    bool,
    typer.Option(
        "--skip-bad",
        help="Import the good rows, list the bad ones on stderr and exit 3 "
        "(default: a bad row imports nothing).",
    ),
]
HistoryLimit = Annotated[
    int, typer.Option("--limit", "-n", min=1, max=queue.MAX_PAGE, help="Recent tickets shown.")
]
HistoryAfter = Annotated[
    str | None,
    typer.Option("--after", metavar="CURSOR", help="Older tickets: the cursor printed last."),
]


def _many(help_text: str) -> Any:
    return typer.Option(metavar="VALUE", help=help_text + " Repeatable.")


def _tell_edit(
    noun: str, name: str, doc: dict[str, Any], changes: Sequence[str], json_out: bool, **more: Any
) -> None:
    """What an `edit` command did: one line ("group L1 changed: +cleo, lead admin → cleo",
    or "... unchanged"), or with --json the document with its "changes" (and `more`)."""
    if json_out:
        print_json({**doc, "changes": list(changes), **more})
    elif changes:
        say(f"{noun} {name} changed: {', '.join(changes)}")
    else:
        say(f"{noun} {name} unchanged")


def _import(
    ctx: typer.Context,
    file: str,
    noun: str,
    run: Callable[..., Any],
    skip_bad: bool,
    admin_only: bool = False,
) -> None:
    rt = runtime(ctx)
    text = read_text(file, "CSV file")
    source = "<stdin>" if file == "-" else file
    with rt.store().write() as session:
        if admin_only:
            require_admin(rt.actor(session), f"import {noun}")
        result = run(session, rt.now, text, source=source, skip_bad=skip_bad)
    skipped = f", {result.skipped} already known" if result.skipped else ""
    say(f"imported {result.created} {noun} from {source}{skipped}")
    for warning in result.warnings:
        hint(f"warning: {warning}")
    if result.errors:
        rows = "row" if result.failed == 1 else "rows"
        error("\n".join([f"{result.failed} bad {rows} in {source} skipped", *result.errors]))
        raise typer.Exit(EX_SOME_FAILED)


# --- agents -------------------------------------------------------------------------------


@agent_app.command("add")
def agent_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN", help="Their OS login, usually.")],
    name: Annotated[str | None, typer.Option("--name", help="Default: the login.")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    role: Annotated[Role, typer.Option("--role")] = Role.AGENT,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", metavar="NAME", help="Repeatable.")
    ] = None,
    skill: Annotated[
        list[str] | None, typer.Option("--skill", metavar="SKILL", help="Repeatable.")
    ] = None,
    language: Annotated[
        list[str] | None,
        typer.Option("--language", metavar="CODE", help="Repeatable, e.g. en, it."),
    ] = None,
    capacity: Annotated[
        int, typer.Option("--capacity", metavar="N", help="Most open tickets at once.")
    ] = 20,
    json_out: JsonFlag = False,
) -> None:
    """Register an agent."""
    rt = runtime(ctx)
    draft = directory.AgentDraft(
        login=login,
        name=name or login,
        email=email,
        role=role,
        groups=group or (),
        skills=skill or (),
        languages=language or (),
        capacity=capacity,
    )
    with rt.store().write() as session:
        require_admin(rt.actor(session), "add agents")
        doc = serialize.agent_doc(directory.add_agent(session, rt.now, draft))
    if json_out:
        print_json(doc)
    else:
        say(f"agent {doc['login']} added ({doc['role']})")


@agent_app.command("edit")
def agent_edit(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    email: Annotated[str | None, typer.Option("--email", help='"" to clear.')] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", metavar="ZONE", help='e.g. Europe/Rome; "" for the desk\'s.'),
    ] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Admins only.")] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", metavar="N", help="Admins only.")
    ] = None,
    language: Annotated[
        list[str] | None,
        typer.Option("--language", metavar="CODE", help="Replaces the list; repeatable."),
    ] = None,
    add_skill: Annotated[list[str] | None, _many("Add a skill (admins).")] = None,
    remove_skill: Annotated[list[str] | None, _many("Remove a skill (admins).")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Change an agent's details, role or skills.

    Anyone may change their own name, address and time zone; role, capacity, languages and
    skills, and other agents, are an admin's job. Group membership: `helpdesk group edit`."""
    rt = runtime(ctx)
    with rt.store().write() as session:
        agent, changes = directory.edit_agent(
            session,
            rt.actor(session),
            login,
            name=name,
            email=email,
            timezone=timezone,
            role=role,
            capacity=capacity,
            languages=language,
            add_skills=add_skill or (),
            remove_skills=remove_skill or (),
        )
        doc = serialize.agent_doc(agent)
    _tell_edit("agent", doc["login"], doc, changes, json_out)


@agent_app.command("list")
def agent_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List agents. JSON: {"agents": [...]}."""
    with runtime(ctx).store().read() as session:
        agents = directory.list_agents(session)
        if json_out:
            print_json({"agents": [serialize.agent_doc(a) for a in agents]})
        else:
            show(agent_table(agents))


@agent_app.command("import")
def agent_import(ctx: typer.Context, file: ImportFile, skip_bad: SkipBad = False) -> None:
    """Import agents from a CSV file.

    Columns: login, name, email, role, groups, skills, ..."""
    _import(ctx, file, "agents", imports.import_agents, skip_bad, admin_only=True)


def _set_active(ctx: typer.Context, login: str, active: bool) -> None:
    rt = runtime(ctx)
    with rt.store().write() as session:
        changed = directory.set_agent_active(session, rt.actor(session), login, active)
        led, tickets = directory.left_behind(session, login) if not active else ([], 0)
    state = "activated" if active else "deactivated"
    say(f"agent {login} {state}" if changed else f"agent {login} was already {state}")
    for group in led:
        hint(
            f"warning: {login} leads {group}: its lead's notifications reach nobody until "
            f"`helpdesk group edit {group} --lead LOGIN`"
        )
    if tickets:
        hint(
            f"warning: {counted(tickets, 'active ticket')} still assigned to {login}: "
            f"`helpdesk ticket list --assignee {login}` lists them"
        )


@agent_app.command("deactivate")
def agent_deactivate(
    ctx: typer.Context, login: Annotated[str, typer.Argument(metavar="LOGIN")]
) -> None:
    """Deactivate an agent (admins only).

    They can no longer act, get no new assignments and no notifications; their tickets stay
    theirs until reassigned."""
    _set_active(ctx, login, False)


@agent_app.command("activate")
def agent_activate(
    ctx: typer.Context, login: Annotated[str, typer.Argument(metavar="LOGIN")]
) -> None:
    """Activate a deactivated agent again (admins only)."""
    _set_active(ctx, login, True)


# --- groups -------------------------------------------------------------------------------


@group_app.command("add")
def group_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    level: Annotated[
        int | None,
        typer.Option("--level", min=1, max=3, help="Support level 1-3; none for a team."),
    ] = None,
    next_level: Annotated[
        str | None,
        typer.Option("--next-level", metavar="GROUP", help="Where escalation goes next."),
    ] = None,
    lead: Annotated[str | None, typer.Option("--lead", metavar="LOGIN")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    member: Annotated[
        list[str] | None, typer.Option("--member", "-m", metavar="LOGIN", help="Repeatable.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Create a group."""
    rt = runtime(ctx)
    draft = directory.GroupDraft(
        name=name,
        level=level,
        next_level=next_level,
        lead=lead,
        email=email,
        members=member or (),
    )
    with rt.store().write() as session:
        require_admin(rt.actor(session), "add groups")
        doc = serialize.group_doc(directory.add_group(session, rt.now, draft))
    if json_out:
        print_json(doc)
    else:
        say(f"group {doc['name']} added")


@group_app.command("edit")
def group_edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    add_member: Annotated[list[str] | None, _many("Add an agent (a login).")] = None,
    remove_member: Annotated[list[str] | None, _many("Remove an agent (a login).")] = None,
    lead: Annotated[
        str | None, typer.Option("--lead", metavar="LOGIN", help='"" for none.')
    ] = None,
    next_level: Annotated[
        str | None,
        typer.Option(
            "--next-level", metavar="GROUP", help='Where escalation goes next; "" for none.'
        ),
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help='"" to clear.')] = None,
    description: Annotated[str | None, typer.Option("--description", help='"" to clear.')] = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a group's members, lead or next level (admins).

    Also its address and description. An agent who leaves keeps the group's tickets assigned
    to them."""
    rt = runtime(ctx)
    with rt.store().write() as session:
        group, changes = directory.edit_group(
            session,
            rt.actor(session),
            name,
            next_level=next_level,
            lead=lead,
            email=email,
            description=description,
            add_members=add_member or (),
            remove_members=remove_member or (),
        )
        doc = serialize.group_doc(group)
    _tell_edit("group", doc["name"], doc, changes, json_out)


@group_app.command("list")
def group_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List groups. JSON: {"groups": [...]}."""
    with runtime(ctx).store().read() as session:
        groups = directory.list_groups(session)
        if json_out:
            print_json({"groups": [serialize.group_doc(g) for g in groups]})
        else:
            show(group_table(groups))


# --- organizations ------------------------------------------------------------------------


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", "-d", help="Email domain of its people; repeatable."),
    ] = None,
    segment: Annotated[
        str,
        typer.Option("--segment", help=f"One of {', '.join(directory.SEGMENTS)}."),
    ] = "standard",
    sla_policy: Annotated[
        str | None,
        typer.Option(
            "--sla-policy",
            metavar="NAME",
            help="Its contract: a policy of the active rules, whatever its tickets are.",
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Add an organization."""
    rt = runtime(ctx)
    draft = directory.OrganizationDraft(
        name=name,
        domains=domain or (),
        segment=segment,
        sla_policy=sla_policy,
        region=region,
        notes=notes,
    )
    with rt.store().write() as session:
        added = directory.create_organization(session, rt.now, draft)
        doc = serialize.organization_doc(added.organization)
    for warning in added.warnings:
        hint(f"warning: {warning}")
    if json_out:
        print_json(doc)
    else:
        say(f"organization {doc['name']} added")


@org_app.command("edit")
def org_edit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    rename: Annotated[str | None, typer.Option("--name", metavar="NEW", help="Rename it.")] = None,
    segment: Annotated[
        str | None,
        typer.Option("--segment", help=f"One of {', '.join(directory.SEGMENTS)} (admins)."),
    ] = None,
    sla_policy: Annotated[
        str | None,
        typer.Option(
            "--sla-policy",
            metavar="NAME",
            help='Its contract, a policy of the active rules; "" for none (admins).',
        ),
    ] = None,
    add_domain: Annotated[list[str] | None, _many("Add an email domain.")] = None,
    remove_domain: Annotated[list[str] | None, _many("Remove an email domain.")] = None,
    region: Annotated[str | None, typer.Option("--region", help='"" to clear.')] = None,
    notes: Annotated[str | None, typer.Option("--notes", help='"" to clear.')] = None,
    json_out: JsonFlag = False,
) -> None:
    """Change an organization, its segment or its contract.

    Its name, domains, region and notes too. A new segment or contract (admins only) moves
    the SLA clocks of its active tickets at once (the working time used stays used; each
    ticket's ledger says why). JSON: the organization, with "changes" and "retargeted"
    (tickets whose clocks moved)."""
    rt = runtime(ctx)
    with rt.store().write() as session:
        edited = directory.edit_organization(
            session,
            rt.actor(session),
            rt.now,
            name,
            rename=rename,
            segment=segment,
            sla_policy=sla_policy,
            region=region,
            notes=notes,
            add_domains=add_domain or (),
            remove_domains=remove_domain or (),
        )
        doc = serialize.organization_doc(edited.organization)
    for warning in edited.warnings:
        hint(f"warning: {warning}")
    _tell_edit(
        "organization", doc["name"], doc, edited.changes, json_out, retargeted=edited.retargeted
    )
    if edited.retargeted and not json_out:
        say(f"SLA clocks moved on {counted(edited.retargeted, 'active ticket')} of {doc['name']}")


@org_app.command("list")
def org_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List organizations. JSON: {"organizations": [...]}."""
    with runtime(ctx).store().read() as session:
        orgs = directory.list_organizations(session)
        if json_out:
            print_json({"organizations": [serialize.organization_doc(o) for o in orgs]})
        else:
            show(organization_table(orgs))


@org_app.command("import")
def org_import(ctx: typer.Context, file: ImportFile, skip_bad: SkipBad = False) -> None:
    """Import organizations from CSV (name, domains, segment, ...)."""
    _import(ctx, file, "organizations", imports.import_organizations, skip_bad)


@org_app.command("show")
def org_show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME")],
    limit: HistoryLimit = 10,
    after: HistoryAfter = None,
    json_out: JsonFlag = False,
) -> None:
    """Show an organization with its figures and requesters.

    Its profile, ticket figures, top requesters and recent tickets.

    JSON: {"organization": {...}, "history": {...}}.
    """
    rt = runtime(ctx)
    cursor = queue.Cursor.decode(after) if after else None
    with rt.store().read() as session:
        org = directory.get_organization(session, name, beginning=True)
        history = customer_history.organization_history(
            session, org.id, rt.now, limit=limit, after=cursor
        )
        if json_out:
            doc = {**serialize.organization_doc(org), "contacts": history.contacts}
            print_json({"organization": doc, "history": serialize.history_doc(history)})
            return
        zone = rt.display_zone(session)
        parts = [
            organization_profile(org, history.contacts),
            history_figures(history.figures, zone),
        ]
        if history.top_requesters:
            parts.append(requester_table(history.top_requesters))
        if history.recent:
            parts.append(ticket_table(history.recent, zone))
    show(*parts)
    if history.next_cursor:
        hint(f"more: add --after {history.next_cursor.encode()}")


# --- contacts -----------------------------------------------------------------------------

ContactRef = Annotated[
    str, typer.Argument(metavar="CONTACT", help="#id (or id), email address or phone number.")
]


def _phone_region(session: Session) -> str | None:
    return desk.desk_settings(session).phone_region


@contact_app.command("add")
def contact_add(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--name")] = None,
    email: Annotated[
        list[str] | None,
        typer.Option("--email", help="Repeatable; the first is the primary address."),
    ] = None,
    phone: Annotated[
        list[str] | None,
        typer.Option(
            "--phone", help="With +country, or in the desk's region; repeatable, first primary."
        ),
    ] = None,
    org: Annotated[
        str | None,
        typer.Option("--org", metavar="NAME", help="Default: by the email's domain."),
    ] = None,
    language: Annotated[str | None, typer.Option("--language", metavar="CODE")] = None,
    vip: Annotated[bool, typer.Option("--vip", help="Mark as a VIP.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Add a contact (an email address or a phone number is required)."""
    rt = runtime(ctx)
    draft = directory.ContactDraft(
        name=name,
        organization=org,
        language=language,
        vip=vip,
        emails=email or (),
        phones=phone or (),
    )
    with rt.store().write() as session:
        contact = directory.add_contact(session, rt.now, draft, _phone_region(session))
        doc = serialize.contact_doc(contact)
    if json_out:
        print_json(doc)
    else:
        say(f"contact {doc['name']} added (#{doc['id']})")


@contact_app.command("edit")
def contact_edit(
    ctx: typer.Context,
    ref: ContactRef,
    name: Annotated[str | None, typer.Option("--name")] = None,
    org: Annotated[str | None, typer.Option("--org", metavar="NAME", help='"" to clear.')] = None,
    language: Annotated[
        str | None, typer.Option("--language", metavar="CODE", help='"" to clear.')
    ] = None,
    vip: Annotated[bool | None, typer.Option("--vip/--no-vip")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help='"" to clear.')] = None,
    add_email: Annotated[list[str] | None, _many("Add an address.")] = None,
    remove_email: Annotated[list[str] | None, _many("Remove an address.")] = None,
    add_phone: Annotated[list[str] | None, _many("Add a number.")] = None,
    remove_phone: Annotated[list[str] | None, _many("Remove a number.")] = None,
    primary_email: Annotated[str | None, typer.Option("--primary-email", metavar="EMAIL")] = None,
    primary_phone: Annotated[str | None, typer.Option("--primary-phone", metavar="PHONE")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a contact's name, organization, addresses or numbers.

    And which address and which number is the primary one."""
    rt = runtime(ctx)
    with rt.store().write() as session:
        contact = customers.resolve_contact(session, ref, _phone_region(session))
        directory.edit_contact(
            session,
            rt.now,
            contact,
            name=name,
            organization=org,
            language=language,
            vip=vip,
            notes=notes,
            add_emails=add_email or (),
            remove_emails=remove_email or (),
            add_phones=add_phone or (),
            remove_phones=remove_phone or (),
            primary_email=primary_email,
            primary_phone=primary_phone,
        )
        doc = serialize.contact_doc(contact)
    if json_out:
        print_json(doc)
    else:
        say(f"contact {doc['name']} (#{doc['id']}) changed")


@contact_app.command("find")
def contact_find(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            metavar="QUERY", help="A phone number, an email, part of a name, an organization."
        ),
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500)] = 20,
    json_out: JsonFlag = False,
) -> None:
    """Find a caller by phone, email, name or organization.

    Names are matched with typos forgiven.

    Best match first, with what it was found by. JSON: {"contacts": [{..., "reason": ...}]}.
    """
    with runtime(ctx).store().read() as session:
        found = customers.find_callers(session, query, _phone_region(session), limit=limit)
        if json_out:
            print_json({"contacts": [serialize.caller_doc(m) for m in found]})
        elif found:
            show(caller_table(found))
        else:
            hint("no contact matches")


@contact_app.command("show")
def contact_show(
    ctx: typer.Context,
    ref: ContactRef,
    limit: HistoryLimit = 10,
    after: HistoryAfter = None,
    json_out: JsonFlag = False,
) -> None:
    """A contact: profile, ticket history in figures, recent tickets.

    JSON: {"contact": {...}, "history": {...}}.
    """
    rt = runtime(ctx)
    cursor = queue.Cursor.decode(after) if after else None
    with rt.store().read() as session:
        contact = customers.resolve_contact(session, ref, _phone_region(session))
        history = customer_history.contact_history(
            session, contact.id, rt.now, limit=limit, after=cursor
        )
        if json_out:
            doc = serialize.contact_doc(contact)
            print_json({"contact": doc, "history": serialize.history_doc(history)})
            return
        zone = rt.display_zone(session)
        parts = [contact_profile(contact, zone), history_figures(history.figures, zone)]
        if history.recent:
            parts.append(ticket_table(history.recent, zone))
    show(*parts)
    if history.next_cursor:
        hint(f"more: add --after {history.next_cursor.encode()}")


@contact_app.command("merge")
def contact_merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(metavar="KEEP", help="The contact that stays.")],
    duplicate: Annotated[
        str, typer.Argument(metavar="DUPLICATE", help="The contact merged into it.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would move; change nothing.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Merge a duplicate contact into the one that stays.

    Its tickets, messages, addresses and numbers move; the duplicate is kept, marked merged.
    Contacts are named by #id, email or phone.
    """
    rt = runtime(ctx)
    unit = rt.store().read() if dry_run else rt.store().write()
    with unit as session:
        region = _phone_region(session)
        kept = customers.resolve_contact(session, keep, region)
        dup = customers.resolve_contact(session, duplicate, region)
        if dry_run:
            plan = customers.plan_merge(session, kept, dup)
        else:
            plan = customers.merge_contacts(session, rt.now, rt.actor(session), kept, dup)
        doc = serialize.merge_doc(plan, dry_run)
        lines = merge_lines(plan, dry_run)
    if json_out:
        print_json(doc)
    else:
        for line in lines:
            say(line)


@contact_app.command("import")
def contact_import(ctx: typer.Context, file: ImportFile, skip_bad: SkipBad = False) -> None:
    """Import contacts from a CSV file.

    Columns: name, email, phone, emails, phones, organization, ...

    A row is refused when its address is already a contact's, or, for a row without an
    address, when a contact of the same name (case and spacing aside) has the same number
    (in any format): importing a file twice doubles no one.
    """
    _import(ctx, file, "contacts", imports.import_contacts, skip_bad)


# --- categories ---------------------------------------------------------------------------


@category_app.command("add")
def category_add(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="e.g. 'Technical > Network'; parents too.")
    ],
    group: Annotated[
        str | None, typer.Option("--group", "-g", metavar="NAME", help="Default group.")
    ] = None,
    priority: Annotated[
        Priority | None, typer.Option("--priority", "-p", help="Default priority.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Add a category (or set the defaults of an existing one)."""
    with runtime(ctx).store().write() as session:
        doc = category_doc(
            directory.ensure_category(session, path, default_group=group, default_priority=priority)
        )
    if json_out:
        print_json(doc)
    else:
        say(f"category {doc['path']}")


@category_app.command("list")
def category_list(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List categories. JSON: {"categories": [...]}."""
    with runtime(ctx).store().read() as session:
        categories = directory.list_categories(session)
        if json_out:
            print_json({"categories": [category_doc(c) for c in categories]})
        else:
            show(category_table(categories))
