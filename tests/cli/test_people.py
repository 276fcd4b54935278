"""`helpdesk agent|group|org|contact|category ...` and the CSV imports, on both back ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from tests.cli.conftest import Run, ok, one_line_error
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import RuleSet


def test_agents_and_groups(hd: Run) -> None:
    doc = ok(
        hd(
            "agent",
            "add",
            "dana",
            "--name",
            "Dana Scully",
            "--email",
            "Dana@Desk.example",
            "--role",
            "supervisor",
            "--group",
            "L2",
            "--skill",
            "Network",
            "--skill",
            "vpn",
            "--language",
            "en",
            "--capacity",
            "12",
            "--json",
            as_="admin",
        )
    ).json()
    assert doc == {
        "login": "dana",
        "name": "Dana Scully",
        "email": "dana@desk.example",
        "role": "supervisor",
        "active": True,
        "presence": "available",
        "capacity": 12,
        "skills": ["network", "vpn"],
        "languages": ["en"],
        "groups": ["L2"],
    }
    assert ok(hd("agent", "add", "eve", as_="admin")).stdout == "agent eve added (agent)\n"
    logins = [a["login"] for a in ok(hd("agent", "list", "--json")).json()["agents"]]
    assert logins == ["admin", "bob", "cleo", "dana", "eve"]
    assert "Dana Scully" in ok(hd("agent", "list")).stdout

    group = ok(
        hd(
            "group",
            "add",
            "L3",
            "--level",
            "3",
            "--lead",
            "dana",
            "--email",
            "l3@desk.example",
            "--member",
            "dana",
            "--member",
            "eve",
            "--json",
            as_="admin",
        )
    ).json()
    assert group == {
        "name": "L3",
        "level": 3,
        "next_level": None,
        "lead": "dana",
        "email": "l3@desk.example",
        "members": ["dana", "eve"],
    }
    ok(hd("group", "add", "Billing Team", "--next-level", "L3", as_="admin"))
    groups = ok(hd("group", "list", "--json")).json()["groups"]
    assert [(g["name"], g["level"]) for g in groups] == [
        ("L1", 1),
        ("L2", 2),
        ("L3", 3),
        ("Billing Team", None),
    ]

    assert "already exists" in one_line_error(hd("agent", "add", "dana", as_="admin"), 2)
    assert "unknown group" in one_line_error(
        hd("agent", "add", "fox", "--group", "L9", as_="admin"), 1
    )
    one_line_error(hd("agent", "add", "fox", "--role", "boss", as_="admin"), 2)
    one_line_error(hd("group", "add", "L4", "--level", "4", as_="admin"), 2)


def test_agent_edit_by_themselves_and_by_an_admin(hd: Run) -> None:
    # Bob keeps his own name, address and zone; the rest, and other agents, are an admin's.
    said = ok(hd("agent", "edit", "bob", "--name", " Bob  Builder ", "--timezone", "Asia/Tokyo"))
    assert said.stdout == "agent bob changed: name changed, time zone Asia/Tokyo\n"
    refusal = "helpdesk: bob is not an admin: only admins change other agents, roles, capacity"
    for args in (
        ("bob", "--capacity", "5"),
        ("bob", "--add-skill", "vpn"),
        ("cleo", "--name", "C"),
    ):
        assert one_line_error(hd("agent", "edit", *args), 1).startswith(refusal)
    one_line_error(hd("agent", "edit", "bob", "--timezone", "Mars/Olympus"), 2)
    doc = ok(
        hd(
            "agent",
            "edit",
            "bob",
            "--role",
            "supervisor",
            "--capacity",
            "8",
            "--add-skill",
            "VPN",
            "--add-skill",
            "printers",
            "--language",
            "IT",
            "--json",
            as_="admin",
        )
    ).json()
    assert (doc["name"], doc["role"], doc["capacity"], doc["skills"], doc["languages"]) == (
        "Bob Builder",
        "supervisor",
        8,
        ["printers", "vpn"],
        ["it"],
    )
    assert doc["changes"] == [
        "role agent → supervisor",
        "capacity 20 → 8",
        "languages it",
        "skill +printers",
        "skill +vpn",
    ]
    said = ok(hd("agent", "edit", "bob", "--remove-skill", "vpn", as_="admin"))
    assert said.stdout == "agent bob changed: skill -vpn\n"
    one_line_error(hd("agent", "edit", "bob", "--remove-skill", "vpn", as_="admin"), 2)
    # The desk keeps an admin.
    line = one_line_error(hd("agent", "edit", "admin", "--role", "agent", as_="admin"), 2)
    assert line == "helpdesk: admin is the desk's only admin: make another first"


def test_group_edit_members_lead_and_next_level(hd: Run) -> None:
    line = one_line_error(hd("group", "edit", "L1", "--add-member", "cleo"), 1)
    assert line == "helpdesk: bob is not an admin: only admins change groups"
    ok(hd("ticket", "create", "-s", "Mine", "-r", "i@acme.example", "--assign", "me"))
    edited = hd(
        "group",
        "edit",
        "L1",
        "--add-member",
        "cleo",
        "--remove-member",
        "bob",
        "--lead",
        "cleo",
        "--email",
        "L1@Desk.example",
        "--json",
        as_="admin",
    )
    assert ok(edited).json() == {
        "name": "L1",
        "level": 1,
        "next_level": "L2",
        "lead": "cleo",
        "email": "l1@desk.example",
        "members": ["admin", "cleo"],
        "changes": ["lead admin → cleo", "email changed", "-bob", "+cleo"],
    }
    # Bob left L1 and keeps the ticket he had there.
    mine = ok(hd("ticket", "show", "HD-1", "--json")).json()
    assert (mine["assignee"], mine["group"]) == ("bob", "L1")
    # Escalation goes up: a lower level, or a next level that leads back, is refused.
    line = one_line_error(hd("group", "edit", "L2", "--next-level", "L1", as_="admin"), 2)
    assert line == "helpdesk: L2's next level must be a higher level than 2: L1 is level 1"
    ok(hd("group", "add", "Network", as_="admin"))
    ok(hd("group", "add", "Security", "--next-level", "Network", as_="admin"))
    line = one_line_error(
        hd("group", "edit", "Network", "--next-level", "Security", as_="admin"), 2
    )
    assert line == "helpdesk: Network cannot escalate to Security: it leads back to it"
    # "" clears.
    one_line_error(hd("group", "edit", "L1", "--remove-member", "bob", as_="admin"), 2)
    # The lead stays a member while the lead; named twice, a member leaves once.
    line = one_line_error(hd("group", "edit", "L1", "--remove-member", "cleo", as_="admin"), 2)
    assert line == 'helpdesk: cleo leads L1: name another lead first (--lead LOGIN, or "" for none)'
    twice = ("--remove-member", "admin", "--remove-member", "admin")
    assert ok(hd("group", "edit", "L1", *twice, as_="admin")).stdout == (
        "group L1 changed: -admin\n"
    )
    one_line_error(hd("group", "edit", "L1", "--add-member", "nobody", as_="admin"), 1)
    said = ok(hd("group", "edit", "L1", "--next-level", "", "--lead", "", as_="admin"))
    assert said.stdout == "group L1 changed: next level L2 → none, lead cleo → none\n"
    said = ok(hd("group", "edit", "L1", "--add-member", "cleo", as_="admin"))
    assert said.stdout == "group L1 unchanged\n"


def test_organizations_contacts_and_categories(hd: Run) -> None:
    org = ok(
        hd(
            "org",
            "add",
            "Globex",
            "--domain",
            "globex.example",
            "--domain",
            "@Globex.test",
            "--segment",
            "premium",
            "--region",
            "EU",
            "--json",
            as_="admin",
        )
    ).json()
    assert org["domains"] == ["globex.example", "globex.test"]
    assert org["segment"] == "premium"
    names = [o["name"] for o in ok(hd("org", "list", "--json")).json()["organizations"]]
    assert names == ["Acme", "Globex"]
    one_line_error(hd("org", "add", "Initech", "--segment", "gold"), 2)
    # A contract must name a policy of the active rules (the small desk's rules have none).
    refused = one_line_error(hd("org", "add", "New Co4", "--sla-policy", "nonexist"), 2)
    assert refused.endswith("unknown SLA policy 'nonexist' (the active rules define none)")
    one_line_error(hd("org", "add", "Other", "--domain", "globex.example"), 2)

    contact = ok(
        hd(
            "contact",
            "add",
            "--email",
            "Hank@Globex.example",
            "--phone",
            "06 1234 5678",
            "--vip",
            "--json",
            as_="admin",
        )
    ).json()
    assert contact["email"] == "hank@globex.example"
    assert contact["phone"] == "+390612345678"  # desk region IT
    assert (contact["organization"], contact["vip"], contact["name"]) == ("Globex", True, "Hank")
    one_line_error(hd("contact", "add", "--name", "Nobody"), 2)  # no email, no phone

    for query in ("hank", "+39 06 1234 5678", "HANK@globex.example", "globex"):
        found = ok(hd("contact", "find", query, "--json")).json()["contacts"]
        assert [c["email"] for c in found] == ["hank@globex.example"], query
    assert ok(hd("contact", "find", "zebra", "--json")).json() == {"contacts": []}

    category = ok(hd("category", "add", "Hardware > Printers", "-g", "L1", "-p", "low", "--json"))
    assert category.json() == {
        "path": "Hardware > Printers",
        "name": "Printers",
        "default_group": "L1",
        "default_priority": "low",
    }
    paths = [c["path"] for c in ok(hd("category", "list", "--json")).json()["categories"]]
    assert paths == [
        "Billing",
        "Hardware",
        "Hardware > Printers",
        "Technical",
        "Technical > Network",
    ]
    ticket = ok(hd("ticket", "create", "-s", "Jam", "--category", "hardware/printers", "--json"))
    assert (ticket.json()["group"], ticket.json()["priority"]) == ("L1", "low")


def test_imports_from_a_file_and_from_stdin(hd: Run, tmp_path: Path) -> None:
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "\ufefflogin,name,email,role,groups,skills\n"
        "gina,Gina Tonic,gina@desk.example,agent,L1,printers;network\n"
        "hugo,Hugo Boss,,supervisor,L1|L2,\n",
        encoding="utf-8",
    )
    assert (
        ok(hd("agent", "import", agents, as_="admin")).stdout
        == f"imported 2 agents from {agents}\n"
    )
    listed = {a["login"]: a for a in ok(hd("agent", "list", "--json")).json()["agents"]}
    assert listed["gina"]["skills"] == ["network", "printers"]
    assert listed["hugo"]["groups"] == ["L1", "L2"]

    orgs = (
        "name,domains,segment\n"
        "Initech,initech.example,standard\n"
        "Umbrella,umbrella.example;umbrella.test,premium\n"
    )
    out = ok(hd("org", "import", "-", input=orgs)).stdout
    assert out == "imported 2 organizations from <stdin>\n"

    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "name,email,phone,vip\n"
        "Peter Gibbons,peter@initech.example,,no\n"
        "Alice,,+44 20 7946 0018,yes\n"
    )
    ok(hd("contact", "import", contacts))
    peter = ok(hd("contact", "find", "peter", "--json")).json()["contacts"]
    assert peter[0]["organization"] == "Initech"


def test_a_bad_row_fails_the_whole_import_naming_its_line(hd: Run, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "name,email,phone\n"
        "Good One,good@acme.example,\n"
        "No Identity,,\n"
        "Bad Mail,not-an-address,\n"
        "Also Good,also@acme.example,\n"
    )
    result = hd("contact", "import", contacts)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    first, *rows = result.stderr.strip().splitlines()
    assert first.startswith("helpdesk: ") and "nothing imported" in first
    assert rows[0].strip().startswith(f"{contacts}:3: ")
    assert rows[1].strip().startswith(f"{contacts}:4: ")
    assert ok(hd("contact", "find", "acme", "--json")).json() == {"contacts": []}

    line = one_line_error(hd("agent", "import", tmp_path / "missing.csv"), 2)
    assert "missing.csv" in line
    result = hd("org", "import", "-", input="title,domains\nX,x.example\n")
    assert result.exit_code == 2 and "<stdin>:1:" in result.stderr


def test_contact_find_show_and_edit(hd: Run) -> None:
    added = ok(
        hd(
            "contact",
            "add",
            "--name",
            "John Smith",
            "--email",
            "john@acme.example",
            "--email",
            "JS@home.example",
            "--phone",
            "02 1234 5678",
            "--json",
        )
    ).json()
    assert (added["emails"], added["phones"]) == (
        ["john@acme.example", "js@home.example"],
        ["+390212345678"],
    )
    assert (added["organization"], added["merged_into"]) == ("Acme", None)
    ok(hd("contact", "add", "--name", "Jon Smithers", "--email", "jon@else.example"))

    found = ok(hd("contact", "find", "Jon Smiht", "--json")).json()["contacts"]
    john = next(c for c in found if c["name"] == "John Smith")
    assert (john["reason"], john["organization"], john["segment"]) == ("name", "Acme", "premium")
    assert 0 < john["score"] <= 1
    [by_phone] = ok(hd("contact", "find", "(02) 1234-5678", "--json")).json()["contacts"]
    assert (by_phone["name"], by_phone["reason"]) == ("John Smith", "phone")
    human = ok(hd("contact", "find", "js@HOME.example")).stdout
    assert "John Smith" in human and "email" in human and f"#{added['id']}" in human
    assert ok(hd("contact", "find", 'NEAR("x', "--json")).json() == {"contacts": []}

    edited = ok(
        hd(
            "contact",
            "edit",
            "js@home.example",
            "--add-phone",
            "+39 333 123 4567",
            "--remove-email",
            "john@acme.example",
            "--language",
            "en",
            "--vip",
            "--json",
        )
    ).json()
    assert (edited["email"], edited["emails"]) == ("js@home.example", ["js@home.example"])
    assert (edited["phones"], edited["language"], edited["vip"]) == (
        ["+390212345678", "+393331234567"],
        "en",
        True,
    )
    line = one_line_error(hd("contact", "edit", "#999", "--name", "X"), 1)
    assert "no contact #999" in line
    line = one_line_error(
        hd("contact", "edit", "js@home.example", "--add-email", "jon@else.example"), 2
    )
    assert "Jon Smithers" in line

    key = ok(hd("ticket", "create", "-s", "Printer", "-r", "js@home.example")).stdout.strip()
    shown = ok(hd("contact", "show", f"#{added['id']}", "--json")).json()
    assert shown["contact"]["name"] == "John Smith"
    figures = shown["history"]["figures"]
    assert (figures["total"], figures["open"], figures["done"]) == (1, 1, 0)
    assert [t["number"] for t in shown["history"]["tickets"]] == [key]
    human = ok(hd("contact", "show", "+39 333 123 4567")).stdout
    assert "John Smith" in human and key in human and "tickets 1" in human


def test_contact_merge(hd: Run) -> None:
    keep = ok(
        hd("contact", "add", "--name", "Anna Rossi", "--email", "anna@acme.example", "--json")
    )
    dup = ok(
        hd(
            "contact",
            "add",
            "--name",
            "A. Rossi",
            "--email",
            "ar@home.example",
            "--phone",
            "02 5555 0000",
            "--json",
        )
    )
    keep_id, dup_id = keep.json()["id"], dup.json()["id"]
    ok(
        hd(
            "contact",
            "add",
            "--name",
            "Switchboard",
            "--email",
            "sw@x.example",
            "--phone",
            "02 5555 0000",
        )
    )
    key = ok(
        hd("ticket", "create", "-s", "Jam", "-r", "ar@home.example", "--body", "x")
    ).stdout.strip()

    plan = ok(
        hd("contact", "merge", f"#{keep_id}", "ar@home.example", "--dry-run", "--json")
    ).json()
    assert (plan["dry_run"], plan["tickets"], plan["messages"]) == (True, [key], 1)
    assert (plan["emails"], plan["phones"]) == (["ar@home.example"], ["+390255550000"])
    assert ok(hd("ticket", "show", key, "--json")).json()["requester"]["name"] == "A. Rossi"

    out = ok(hd("contact", "merge", "anna@acme.example", str(dup_id), as_="admin")).stdout
    assert out.splitlines() == [
        f"merged A. Rossi (#{dup_id}) into Anna Rossi (#{keep_id})",
        f"  tickets: 1 ({key})",
        "  messages: 1",
        "  emails: ar@home.example",
        "  phones: +390255550000",
        "  filled: phone +390255550000",
    ]
    assert ok(hd("ticket", "show", key, "--json")).json()["requester"]["name"] == "Anna Rossi"
    merged = ok(hd("contact", "show", f"#{dup_id}", "--json")).json()["contact"]
    assert (merged["merged_into"], merged["emails"], merged["phones"]) == (keep_id, [], [])
    assert "merged into" in ok(hd("contact", "show", f"#{dup_id}")).stdout

    # The number now belongs to two contacts: naming a contact by it is ambiguous.
    line = one_line_error(hd("contact", "merge", "02 5555 0000", "sw@x.example"), 2)
    assert "belongs to Anna Rossi" in line and "Switchboard" in line
    assert "into itself" in one_line_error(hd("contact", "merge", f"#{keep_id}", str(keep_id)), 2)
    assert "already merged" in one_line_error(
        hd("contact", "merge", f"#{keep_id}", f"#{dup_id}"), 2
    )


def test_org_show(hd: Run) -> None:
    for requester in ("anna@acme.example", "anna@acme.example", "bob@acme.example"):
        ok(hd("ticket", "create", "-s", "Help", "-r", requester))
    doc = ok(hd("org", "show", "acme", "--json")).json()
    assert doc["organization"]["name"] == "Acme" and doc["organization"]["contacts"] == 2
    history = doc["history"]
    assert history["figures"]["total"] == 3
    assert [(r["email"], r["tickets"]) for r in history["top_requesters"]] == [
        ("anna@acme.example", 2),
        ("bob@acme.example", 1),
    ]
    assert len(history["tickets"]) == 3
    page = ok(hd("org", "show", "Acme", "--limit", "2"))
    assert "premium" in page.stdout and "Top requesters" in page.stdout
    assert "--after" in page.stderr
    assert "unknown organization" in one_line_error(hd("org", "show", "Nowhere"), 1)


def test_skip_bad_imports_the_good_rows_and_exits_3(hd: Run, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        "name,email,emails,phones\n"
        "Good One,good@acme.example,g1@x.example,02 1234 5678|+39 333 000 0000\n"
        "No Identity,,,\n"
        "Again,,GOOD@acme.example,\n"
        "Also Good,also@acme.example,,\n"
    )
    result = hd("contact", "import", contacts, "--skip-bad")
    assert result.exit_code == 3, result.stderr
    assert result.stdout == f"imported 2 contacts from {contacts}\n"
    first, *rows = result.stderr.strip().splitlines()
    assert first == f"helpdesk: 2 bad rows in {contacts} skipped"
    assert [r.strip().split(": ", 1)[0] for r in rows] == [f"{contacts}:3", f"{contacts}:4"]
    assert "duplicate email 'good@acme.example' (also on line 2)" in rows[1]
    [good] = ok(hd("contact", "find", "g1@x.example", "--json")).json()["contacts"]
    assert good["phones"] == ["+390212345678", "+393330000000"]
    # Without --skip-bad the same file imports nothing (and the good rows are known now).
    again = hd("contact", "import", contacts)
    assert again.exit_code == 2 and "nothing imported" in again.stderr
    assert "already exists: Good One" in again.stderr

    result = hd(
        "org", "import", "-", "--skip-bad", input="name,domains\nAcme,\nHooli,hooli.example\n"
    )
    assert result.exit_code == 3
    assert result.stdout == "imported 1 organizations from <stdin>\n"
    assert "<stdin>:2: organization 'Acme' already exists" in result.stderr
    clean = hd("org", "import", "-", "--skip-bad", input="name\nInitech\n")
    assert (clean.exit_code, clean.stderr) == (0, "")


def test_a_contract_named_before_any_rules_are_applied_is_kept_with_a_warning(
    hd: Run, db_url: str
) -> None:
    store = Store(db_url)
    with store.write() as session:  # a desk no rules were applied to yet
        session.execute(update(RuleSet).values(active=False))
    store.dispose()
    added = ok(hd("org", "add", "Globex", "--sla-policy", "gold"))
    assert added.stdout == "organization Globex added\n"
    assert added.stderr.startswith(
        "warning: no rules are applied yet, so SLA policy 'gold' is unchecked"
    )
    orgs = "name,sla_policy\nInitech,gold\nUmbrella,gold\nHooli,platinum\nVandelay,\n"
    imported = ok(hd("org", "import", "-", input=orgs))
    assert imported.stdout == "imported 4 organizations from <stdin>\n"
    warnings = imported.stderr.splitlines()
    assert len(warnings) == 2  # one for each policy named, not one a row
    assert "SLA policy 'gold' is unchecked" in warnings[0]
    assert "SLA policy 'platinum' is unchecked" in warnings[1]


def test_only_an_admin_adds_agents_and_groups(hd: Run, tmp_path: Path) -> None:
    # The same refusal, in the same words, as `rules apply` by an agent; exit 1, nothing added.
    line = one_line_error(hd("agent", "add", "mallory", "--role", "admin"), 1)
    assert line == "helpdesk: bob is not an admin: only admins add agents"
    line = one_line_error(hd("group", "add", "Shadow"), 1)
    assert line == "helpdesk: bob is not an admin: only admins add groups"
    agents = tmp_path / "agents.csv"
    agents.write_text("login,name,role\nmallory,Mallory,admin\n", encoding="utf-8")
    line = one_line_error(hd("agent", "import", agents), 1)
    assert line == "helpdesk: bob is not an admin: only admins import agents"
    logins = [a["login"] for a in ok(hd("agent", "list", "--json")).json()["agents"]]
    assert "mallory" not in logins
    assert "Shadow" not in [g["name"] for g in ok(hd("group", "list", "--json")).json()["groups"]]

    # Agents do add customers: contacts and organizations.
    ok(hd("org", "add", "Roadrunner Inc", "--domain", "roadrunner.example"))
    ok(hd("contact", "add", "--email", "wile@roadrunner.example"))
    ok(hd("agent", "add", "mallory", as_="admin"))


def test_an_admin_deactivates_and_activates_an_agent(hd: Run) -> None:
    line = one_line_error(hd("agent", "deactivate", "cleo"), 1)
    assert line == "helpdesk: bob is not an admin: only admins activate or deactivate agents"

    assert ok(hd("agent", "deactivate", "cleo", as_="admin")).stdout == "agent cleo deactivated\n"
    again = ok(hd("agent", "deactivate", "cleo", as_="admin")).stdout
    assert again == "agent cleo was already deactivated\n"
    listed = {a["login"]: a for a in ok(hd("agent", "list", "--json")).json()["agents"]}
    assert listed["cleo"]["active"] is False
    assert one_line_error(hd("ticket", "list", as_="cleo"), 1) == (
        "helpdesk: agent 'cleo' is deactivated"
    )
    assert "cannot deactivate themselves" in one_line_error(
        hd("agent", "deactivate", "admin", as_="admin"), 2
    )
    assert "unknown agent" in one_line_error(hd("agent", "activate", "zed", as_="admin"), 1)

    assert ok(hd("agent", "activate", "cleo", as_="admin")).stdout == "agent cleo activated\n"
    ok(hd("ticket", "list", as_="cleo"))


def test_deactivating_a_lead_with_tickets_says_what_is_left(hd: Run) -> None:
    """Bob's tickets stay his and L2's lead notifications would reach nobody: the admin is
    told both, with the command that mends each."""
    ok(hd("group", "edit", "L2", "--lead", "bob", as_="admin"))
    ok(hd("ticket", "create", "-s", "Printer", "-r", "a@acme.example", "--assign", "bob"))
    done = ok(hd("agent", "deactivate", "bob", as_="admin"))
    assert done.stdout == "agent bob deactivated\n"
    assert done.stderr.splitlines() == [
        "warning: bob leads L2: its lead's notifications reach nobody until "
        "`helpdesk group edit L2 --lead LOGIN`",
        "warning: 1 active ticket still assigned to bob: "
        "`helpdesk ticket list --assignee bob` lists them",
    ]


TWO_POLICIES = """
[desk]
ticket_prefix = "HD"
phone_region = "IT"

[calendars.always]
timezone = "UTC"
always_open = true

[[sla]]
name = "premium"
calendar = "always"
where = { segment = ["premium"] }
first_response = { urgent = "15m", high = "30m", normal = "1h", low = "2h" }
resolution     = { urgent = "4h",  high = "8h",  normal = "16h", low = "40h" }

[[sla]]
name = "standard"
calendar = "always"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }
"""


def test_org_edit_and_a_new_contract_moves_the_clocks_of_its_active_tickets(
    hd: Run, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(TWO_POLICIES)
    ok(hd("rules", "apply", rules, as_="admin"))
    ok(hd("org", "add", "Globex", "--domain", "globex.example"))

    def create(requester: str) -> dict[str, Any]:
        made = ok(hd("ticket", "create", "-s", "Down", "-r", requester, "--json")).json()
        return ok(hd("ticket", "show", made["number"], "--json")).json()

    waiting, done, other = (
        create("hank@globex.example"),
        create("ida@globex.example"),
        create("i@acme.example"),
    )
    assert (waiting["sla_policy"], other["sla_policy"]) == ("standard", "premium")
    ok(hd("ticket", "reply", done["number"], "--body", "Fixed", "--status", "resolved"))
    done = ok(hd("ticket", "show", done["number"], "--json")).json()

    # Anyone may keep an organization's domains and notes; its contract is an admin's.
    line = one_line_error(hd("org", "edit", "Globex", "--segment", "premium"), 1)
    assert line == (
        "helpdesk: bob is not an admin: only admins change an organization's segment or contract"
    )
    said = ok(hd("org", "edit", "Globex", "--add-domain", "Globex.test", "--notes", "Key"))
    assert said.stdout == "organization Globex changed: domain +globex.test, notes changed\n"
    one_line_error(hd("org", "edit", "Globex", "--remove-domain", "nope.example"), 2)
    one_line_error(hd("org", "edit", "Globex", "--name", "acme"), 2)  # taken
    one_line_error(hd("org", "edit", "Globex", "--add-domain", "acme.example"), 2)
    one_line_error(hd("org", "edit", "Globex", "--segment", "gold", as_="admin"), 2)
    one_line_error(hd("org", "edit", "Nobody Inc", "--notes", "x"), 1)

    edited = ok(hd("org", "edit", "Globex", "--segment", "premium", "--json", as_="admin"))
    doc = edited.json()
    assert (doc["segment"], doc["domains"], doc["notes"]) == (
        "premium",
        ["globex.example", "globex.test"],
        "Key",
    )
    assert (doc["changes"], doc["retargeted"]) == (["segment standard → premium"], 1)

    # The active ticket runs on the premium policy now: 1h for a first response, not 4h,
    # the time already used kept; its ledger says why. The resolved one and the other
    # organization's are left as they were.
    after = ok(hd("ticket", "show", waiting["number"], "--json")).json()
    assert (after["sla_policy"], after["version"]) == ("premium", waiting["version"] + 1)
    moved = datetime.fromisoformat(waiting["first_response_due_at"]) - datetime.fromisoformat(
        after["first_response_due_at"]
    )
    assert timedelta(hours=2, minutes=55) < moved <= timedelta(hours=3)
    reasons = [
        (e["field"], e["new"], e["detail"]["reason"])
        for e in after["events"]
        if e["kind"] == "sla" and e["at"] == after["updated_at"]
    ]
    assert ("first_response", "retarget", "policy standard -> premium") in reasons
    for before in (done, other):
        assert ok(hd("ticket", "show", before["number"], "--json")).json() == before

    again = ok(hd("org", "edit", "Globex", "--segment", "premium", as_="admin"))
    assert again.stdout == "organization Globex unchanged\n"
    ok(hd("org", "edit", "Globex", "--sla-policy", "standard", as_="admin"))  # a contract
    after = ok(hd("ticket", "show", waiting["number"], "--json")).json()
    assert after["sla_policy"] == "standard"
    # With a contract the segment picks no policy: its tickets' clocks stand, untouched.
    edited = ok(hd("org", "edit", "Globex", "--segment", "standard", "--json", as_="admin"))
    assert (edited.json()["changes"], edited.json()["retargeted"]) == (
        ["segment premium → standard"],
        0,
    )
    assert ok(hd("ticket", "show", waiting["number"], "--json")).json() == after
