"""`helpdesk ticket ...` on the small desk, on SQLite and PostgreSQL: the JSON documents,
the human output, and the errors (exit code and one line on stderr)."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import Run, ok, one_line_error

TICKET_KEYS = {
    "number",
    "subject",
    "status",
    "priority",
    "category",
    "channel",
    "requester",
    "organization",
    "group",
    "assignee",
    "level",
    "tags",
    "created_at",
    "updated_at",
    "first_response_at",
    "first_response_due_at",
    "resolution_due_at",
    "escalation_level",
    "version",
}


def assert_ticket_doc(doc: dict[str, object]) -> None:
    assert doc.keys() >= TICKET_KEYS
    assert set(doc["requester"]) >= {"name", "email", "phone"}  # type: ignore[arg-type]
    for key in ("created_at", "updated_at"):
        assert isinstance(doc[key], str) and doc[key].endswith("Z")  # type: ignore[union-attr]


def create(hd: Run, *args: str, **kwargs: object) -> dict[str, object]:
    return ok(hd("ticket", "create", "--json", *args, **kwargs)).json()


# --- create -------------------------------------------------------------------------------


def test_create_prints_the_number_and_json_the_ticket(hd: Run) -> None:
    assert ok(hd("ticket", "create", "-s", "First")).stdout == "HD-1\n"

    doc = create(
        hd,
        "--subject",
        "VPN drops every hour",
        "--requester",
        "Mario.Rossi@ACME.example",
        "--category",
        "Technical > Network",
        "--tag",
        "VPN",
        "--tag",
        "remote",
        "--body",
        "Since Monday.",
    )
    assert_ticket_doc(doc)
    assert doc["number"] == "HD-2"
    assert doc["subject"] == "VPN drops every hour"
    assert doc["requester"] == {
        "name": "Mario Rossi",
        "email": "mario.rossi@acme.example",
        "phone": None,
    }
    assert doc["organization"] == "Acme"  # by the email's domain
    assert (doc["category"], doc["priority"], doc["group"], doc["level"]) == (
        "Technical > Network",
        "high",
        "L1",
        1,
    )
    assert (doc["status"], doc["channel"], doc["assignee"]) == ("new", "cli", None)
    assert doc["tags"] == ["remote", "vpn"]
    assert doc["version"] == 1


def test_phone_agent_creates_a_ticket_for_a_caller_in_one_command(hd: Run) -> None:
    number = ok(
        hd(
            "ticket",
            "create",
            "--subject",
            "Printer jams",
            "--requester",
            "+39 02 1234 5678",
            "--name",
            "Carla Bianchi",
            "--body",
            "Paper jam in tray 2, every page.",
        )
    ).stdout.strip()
    shown = ok(hd("ticket", "show", number, "--json")).json()
    assert shown["channel"] == "phone"  # a phone number as requester: a call
    assert shown["requester"] == {"name": "Carla Bianchi", "email": None, "phone": "+390212345678"}
    assert shown["created_by"] == "bob"
    [message] = shown["messages"]
    assert message["kind"] == "customer"
    assert message["body"] == "Paper jam in tray 2, every page."
    assert message["author"]["recorded_by"] == "bob"
    human = ok(hd("ticket", "show", number)).stdout
    assert "customer · Carla Bianchi (taken by bob)" in human
    assert "+390212345678" in human and "Paper jam in tray 2" in human

    # The same caller again, number written locally (desk region IT): the same contact.
    again = create(hd, "-s", "Still jams", "-r", "02 1234 5678", "--assign", "me")
    assert again["requester"]["name"] == "Carla Bianchi"  # type: ignore[index]
    assert (again["assignee"], again["group"], again["status"]) == ("bob", "L1", "open")
    found = ok(hd("contact", "find", "+39 02 1234 5678", "--json")).json()
    assert [c["name"] for c in found["contacts"]] == ["Carla Bianchi"]


def test_create_refuses_bad_input_with_exit_2(hd: Run) -> None:
    line = one_line_error(hd("ticket", "create", "-s", "x", "--priority", "asap"), 2)
    assert "--priority" in line and "asap" in line
    one_line_error(hd("ticket", "create", "-s", "x", "-r", "not a phone or mail"), 2)
    line = one_line_error(hd("ticket", "create", "-s", "x", "-r", "not-an-email"), 2)
    assert line.endswith("'not-an-email' is neither an email address nor a phone number")
    line = one_line_error(hd("ticket", "create", "-s", "x", "-r", "+39 02"), 2)
    assert "not a valid phone number: '+39 02'" in line  # a number, if a short one
    line = one_line_error(hd("ticket", "create", "--body", "no subject"), 2)
    assert "--subject" in line
    one_line_error(hd("ticket", "create", "-s", "x", "--body", "a", "--body-file", "-"), 2)
    line = one_line_error(hd("ticket", "create", "-s", "x", "--body-file", "/no/such/file"), 2)
    assert "/no/such/file" in line
    assert ok(hd("ticket", "list", "--json", "--status", "all")).json()["tickets"] == []


# --- reading ------------------------------------------------------------------------------


def test_show_json_has_messages_and_events(hd: Run) -> None:
    create(hd, "-s", "Mail bounces", "-r", "anna@acme.example", "--body", "All of them.")
    ok(hd("ticket", "reply", "HD-1", "--body", "Looking into it."))
    ok(hd("ticket", "note", "#1", "--body", "MX record is wrong.", as_="admin"))

    doc = ok(hd("ticket", "show", "1", "--json")).json()
    assert_ticket_doc(doc)
    assert doc["status"] == "open"  # the first reply opened it
    assert doc["first_response_at"] is not None
    assert [(m["kind"], m["public"], m["body"]) for m in doc["messages"]] == [
        ("customer", True, "All of them."),
        ("reply", True, "Looking into it."),
        ("note", False, "MX record is wrong."),
    ]
    assert doc["messages"][2]["author"] == {"type": "agent", "login": "admin", "name": "Ada Admin"}
    kinds = [(e["kind"], e["actor"]) for e in doc["events"]]
    assert kinds[0] == ("created", "bob")
    assert ("first_response", "bob") in kinds and ("note", "admin") in kinds
    assert all(e["at"].endswith("Z") for e in doc["events"])


def test_show_prints_people_text_inert(hd: Run, cli: Run) -> None:
    evil = "[bold red]boom[/bold red] \x1b]0;evil\x07title \x1b[2J"
    create(hd, "-s", evil, "-r", "eve@example.org", "--name", evil, "--body", f"body {evil}")

    for args in (("ticket", "show", "HD-1"), ("ticket", "list")):
        out = ok(hd(*args)).stdout
        assert "[bold red]boom[/bold red]" in out  # shown as typed, not as markup
        assert "\x1b" not in out and "\x07" not in out  # piped: no colour, no sequences

    # Even with colour forced, the customer's text stays literal and its sequences stripped.
    coloured = ok(hd("ticket", "show", "HD-1", env={"FORCE_COLOR": "1"})).stdout
    assert "\x1b[" in coloured  # our own styling is on
    # subject, requester, the message's author, its body
    assert coloured.count("[bold red]boom[/bold red]") == 4
    assert "\x1b]0;" not in coloured and "\x07" not in coloured and "\x1b[2J" not in coloured
    # JSON keeps the stored text exactly (it is data, not display).
    assert ok(hd("ticket", "show", "HD-1", "--json")).json()["subject"].startswith("[bold red]")


def test_list_filters_sorts_and_pages(hd: Run) -> None:
    create(hd, "-s", "one", "-r", "a@acme.example", "--assign", "me")
    create(hd, "-s", "two", "-r", "b@other.example", "-p", "urgent")
    create(hd, "-s", "three", "-r", "c@acme.example", "--assign", "cleo")
    ok(hd("ticket", "reply", "HD-3", "--body", "done", "--status", "resolved", as_="cleo"))
    ok(hd("ticket", "category", "HD-2", "Technical > Network"))

    def numbers(*args: str) -> list[str]:
        doc = ok(hd("ticket", "list", "--json", *args)).json()
        return [t["number"] for t in doc["tickets"]]

    assert numbers("--sort", "number") == ["HD-1", "HD-2"]  # active only by default
    assert numbers("--sort", "number", "--status", "all") == ["HD-1", "HD-2", "HD-3"]
    assert numbers("--status", "resolved") == ["HD-3"]
    assert numbers("--status", "new,resolved", "--sort", "number") == ["HD-2", "HD-3"]
    assert numbers("--assignee", "me") == ["HD-1"]
    assert numbers("--assignee", "none") == ["HD-2"]
    assert numbers("--priority", "urgent") == ["HD-2"]
    # A category's path or, when no other has it, its own name; with what is below it.
    assert numbers("--category", "technical > network") == ["HD-2"]
    assert numbers("--category", "Network") == numbers("--category", "Technical") == ["HD-2"]
    assert numbers("--org", "acme", "--status", "all", "--sort", "number") == ["HD-1", "HD-3"]
    assert numbers("--sort", "created", "--status", "all") == ["HD-3", "HD-2", "HD-1"]

    first = ok(hd("ticket", "list", "--json", "--sort", "number", "--status", "all", "-n", "2"))
    page = first.json()
    assert set(page) == {"tickets", "next_cursor"}
    assert [t["number"] for t in page["tickets"]] == ["HD-1", "HD-2"]
    assert page["next_cursor"]
    rest = ok(
        hd(
            "ticket",
            "list",
            "--json",
            "--sort",
            "number",
            "--status",
            "all",
            "--after",
            page["next_cursor"],
        )
    ).json()
    assert ([t["number"] for t in rest["tickets"]], rest["next_cursor"]) == (["HD-3"], None)

    human = ok(hd("ticket", "list", "--sort", "number", "-n", "1"))
    assert "HD-1" in human.stdout and "HD-2" not in human.stdout
    assert "--after" in human.stderr  # the paging hint is a diagnostic, not data


def test_help_is_plain_text_not_markup(hd: Run) -> None:
    """Help texts quote JSON with brackets; they are shown as written."""
    help_text = " ".join(ok(hd("ticket", "list", "--help")).stdout.split())
    assert '{"tickets": [ticket, ...], "next_cursor": CURSOR or null}' in help_text


def test_the_list_fits_an_80_column_terminal(hd: Run) -> None:
    """Over SSH at 80x24: every line fits, the number, status, priority and due time are
    whole, and the long subject is what gets cut."""
    long = "Printer on the third floor jams on every duplex job since the firmware update"
    create(hd, "-s", long, "-r", "anna@acme.example", "-p", "urgent")
    narrow = ok(hd("ticket", "list", env={"COLUMNS": "80"})).stdout.splitlines()
    assert all(len(line) <= 80 for line in narrow)
    assert narrow[0].split()[:5] == ["Number", "Status", "Priority", "Due", "Assignee"]
    assert narrow[1].split()[:3] == ["HD-1", "new", "urgent"]
    assert "Printer on the third floor" in narrow[1] and long not in narrow[1]
    wide = ok(hd("ticket", "list", env={"COLUMNS": "160"})).stdout.splitlines()
    assert "Requester" in wide[0] and long in wide[1]

    line = one_line_error(hd("ticket", "list", "--status", "sleeping"), 2)
    assert "sleeping" in line and "active" in line
    one_line_error(hd("ticket", "list", "--after", "garbage!"), 2)
    one_line_error(hd("ticket", "list", "--assignee", "nobody"), 1)


# --- changes ------------------------------------------------------------------------------


def test_assign_status_priority_category_tag_reopen_json(hd: Run) -> None:
    create(hd, "-s", "Invoice wrong", "-r", "d@acme.example", "--tag", "billing")

    doc = ok(hd("ticket", "assign", "HD-1", "cleo", "--json")).json()
    assert_ticket_doc(doc)
    assert (doc["assignee"], doc["group"], doc["level"], doc["status"]) == ("cleo", "L2", 2, "open")
    doc = ok(hd("ticket", "assign", "HD-1", "--group", "L1", "--json")).json()
    assert (doc["assignee"], doc["group"], doc["level"]) == (None, "L1", 1)  # cleo is not in L1
    doc = ok(hd("ticket", "assign", "HD-1", "me", "--json")).json()
    assert doc["assignee"] == "bob"
    doc = ok(hd("ticket", "assign", "HD-1", "--none", "--json")).json()
    assert (doc["assignee"], doc["group"]) == (None, "L1")

    doc = ok(hd("ticket", "status", "HD-1", "pending", "--json")).json()
    assert doc["status"] == "pending"
    doc = ok(hd("ticket", "priority", "HD-1", "urgent", "--json")).json()
    assert doc["priority"] == "urgent"
    doc = ok(hd("ticket", "category", "HD-1", "Billing", "--json")).json()
    assert doc["category"] == "Billing"
    doc = ok(hd("ticket", "category", "HD-1", "--none", "--json")).json()
    assert doc["category"] is None
    doc = ok(hd("ticket", "subject", "HD-1", "  Printer  jams on floor 3", "--json")).json()
    assert doc["subject"] == "Printer jams on floor 3"
    assert ok(hd("ticket", "subject", "HD-1", "Printer jams")).stdout == (
        "HD-1: subject Printer jams\n"
    )
    refused = one_line_error(hd("ticket", "subject", "HD-1", " "), 2)
    assert refused == "helpdesk: a ticket needs a subject"
    doc = ok(hd("ticket", "tag", "HD-1", "+VIP", "escalated", "-billing", "--json")).json()
    assert doc["tags"] == ["escalated", "vip"]
    # A tag starting with "h" is removed, not taken for -h (help).
    ok(hd("ticket", "tag", "HD-1", "+hardware"))
    doc = ok(hd("ticket", "tag", "HD-1", "-hardware", "--json")).json()
    assert doc["tags"] == ["escalated", "vip"]
    doc = ok(hd("ticket", "status", "HD-1", "resolved", "--json")).json()
    assert doc["status"] == "resolved"
    doc = ok(hd("ticket", "reopen", "HD-1", "--reason", "not fixed", "--json")).json()
    assert doc["status"] == "open"

    human = ok(hd("ticket", "status", "HD-1", "on_hold")).stdout
    assert human.startswith("HD-1: on_hold") and "version" in human

    history = ok(hd("ticket", "show", "HD-1", "--json")).json()["events"]
    changes = [(e["field"], e["old"], e["new"]) for e in history if e["field"]]
    assert ("priority", "normal", "urgent") in changes
    assert ("tags", "billing", "escalated vip") in changes
    assert ("assignee", "cleo", None) in changes
    assert ("subject", "Printer jams on floor 3", "Printer jams") in changes


def test_requester_finds_or_adds_the_contact_and_takes_their_organization(hd: Run) -> None:
    create(hd, "-s", "Printer jams", "-r", "zed@globex.example")
    line = ok(hd("ticket", "requester", "HD-1", "carla@acme.example", "--name", "Carla B")).stdout
    assert line == "HD-1: requester Carla B <carla@acme.example>, Acme\n"
    doc = ok(hd("ticket", "requester", "HD-1", "+39 02 1234 5678", "--json")).json()
    assert_ticket_doc(doc)
    assert (doc["requester"]["phone"], doc["organization"]) == ("+390212345678", None)
    assert "neither an email" in one_line_error(hd("ticket", "requester", "HD-1", "carla"), 2)
    history = ok(hd("ticket", "show", "HD-1", "--json")).json()["events"]
    moved = [(e["field"], e["old"], e["new"]) for e in history if e["kind"] == "requester"]
    assert [m[0] for m in moved] == ["requester", "organization", "requester", "organization"]
    assert moved[1][1:] == (None, "Acme") and moved[3][1:] == ("Acme", None)


def test_reply_and_note_read_the_body_from_stdin_or_a_file(hd: Run, tmp_path) -> None:
    create(hd, "-s", "Printer", "-r", "e@acme.example")
    doc = ok(
        hd("ticket", "reply", "HD-1", "--body-file", "-", "--json", input="Line one\nLine two\n")
    ).json()
    assert doc["message"]["body"] == "Line one\nLine two"
    assert doc["message"]["kind"] == "reply"
    note_file = tmp_path / "note.txt"
    note_file.write_text("Checked the spooler: ça marche.\n", encoding="utf-8")
    doc = ok(hd("ticket", "note", "HD-1", "--body-file", str(note_file), "--json")).json()
    assert doc["message"]["body"] == "Checked the spooler: ça marche."
    assert ok(hd("ticket", "note", "HD-1", "--body", "short")).stdout == "HD-1: note added\n"

    line = one_line_error(hd("ticket", "reply", "HD-1"), 2)
    assert "--body" in line
    one_line_error(hd("ticket", "note", "HD-1", "--body", "   "), 2)  # empty message


def test_merge_json_and_refusals(hd: Run) -> None:
    create(hd, "-s", "Printer broken", "-r", "f@acme.example", "--body", "first", "--tag", "a")
    create(hd, "-s", "Printer still broken", "-r", "f@acme.example", "--body", "second", "-t", "b")

    doc = ok(hd("ticket", "merge", "HD-2", "HD-1", "--json")).json()
    assert set(doc) == {"source", "target"}
    assert_ticket_doc(doc["source"])
    assert (doc["source"]["status"], doc["source"]["merged_into"]) == ("closed", "HD-1")
    assert doc["target"]["tags"] == ["a", "b"]
    bodies = [m["body"] for m in ok(hd("ticket", "show", "HD-1", "--json")).json()["messages"]]
    assert "first" in bodies and "second" in bodies

    line = one_line_error(hd("ticket", "merge", "HD-1", "HD-1"), 1)
    assert "itself" in line
    line = one_line_error(hd("ticket", "reply", "HD-2", "--body", "hello?"), 1)
    assert "HD-1" in line  # merged: write there instead


def test_failed_operations_exit_1_with_one_line(hd: Run) -> None:
    create(hd, "-s", "Screen flickers", "-r", "g@acme.example")

    line = one_line_error(hd("ticket", "status", "HD-1", "closed"), 1)
    assert "cannot go from new to closed" in line
    line = one_line_error(hd("ticket", "show", "HD-99"), 1)
    assert "HD-99" in line
    one_line_error(hd("ticket", "assign", "HD-99", "bob"), 1)
    one_line_error(hd("ticket", "assign", "HD-1", "nobody"), 1)
    line = one_line_error(hd("ticket", "reopen", "HD-1"), 1)
    assert "not resolved or closed" in line


def test_usage_errors_exit_2_with_one_line(hd: Run) -> None:
    create(hd, "-s", "Keyboard", "-r", "h@acme.example")

    line = one_line_error(hd("ticket", "priority", "HD-1", "asap"), 2)
    assert "asap" in line and "urgent" in line and "helpdesk ticket priority --help" in line
    line = one_line_error(hd("ticket", "priority", "HD-1"), 2)  # a choice left out
    assert line.startswith("helpdesk: Missing argument 'PRIORITY'. Choose from: low, normal,")
    one_line_error(hd("ticket", "status", "HD-1", "done"), 2)
    one_line_error(hd("ticket", "show", "not-a-number"), 2)
    one_line_error(hd("ticket", "frobnicate"), 2)
    one_line_error(hd("ticket"), 2)  # no command
    one_line_error(hd("ticket", "list", "--colour"), 2)
    one_line_error(hd("ticket", "assign", "HD-1"), 2)  # nobody to assign
    one_line_error(hd("ticket", "assign", "HD-1", "bob", "--none"), 2)
    one_line_error(hd("ticket", "tag", "HD-1"), 2)
    one_line_error(hd("ticket", "tag", "HD-1", "+not a tag!"), 2)
    one_line_error(hd("ticket", "category", "HD-1"), 2)
    one_line_error(hd("ticket", "list", "--limit", "0"), 2)
    assert ok(hd("ticket", "show", "HD-1", "--json")).json()["version"] == 1  # untouched


def test_stale_expected_version_names_who_changed_the_ticket(hd: Run) -> None:
    doc = create(hd, "-s", "Laptop battery", "-r", "i@acme.example")
    seen = doc["version"]
    ok(hd("ticket", "priority", "HD-1", "high", "--expected-version", seen, as_="admin"))

    for args in (
        ("status", "HD-1", "pending"),
        ("priority", "HD-1", "low"),
        ("assign", "HD-1", "me"),
        ("tag", "HD-1", "+x"),
    ):
        line = one_line_error(hd("ticket", *args, "--expected-version", seen), 1)
        # The console's words (services.conflicts), dated, in the display zone.
        assert line.startswith(
            f"helpdesk: HD-1 was changed since version {seen}; nothing was saved: "
        )
        assert re.search(
            r": \d{4}-\d\d-\d\d \d\d:\d\d admin: priority normal → high \(times in ", line
        )
    after = ok(hd("ticket", "show", "HD-1", "--json")).json()
    assert (after["priority"], after["assignee"], after["tags"], len(after["messages"])) == (
        "high",
        None,
        [],
        0,
    )
    current = after["version"]
    # A reply or note is written against the conversation: a priority change since the
    # version seen lets it through, a status change refuses it.
    ok(hd("ticket", "note", "HD-1", "--body", "hmm", "--expected-version", seen))
    ok(hd("ticket", "status", "HD-1", "pending", "--expected-version", current + 1))
    line = one_line_error(
        hd("ticket", "reply", "HD-1", "--body", "On it", "--expected-version", current + 1), 1
    )
    assert re.search(r": \d{4}-\d\d-\d\d \d\d:\d\d bob: status new → pending", line), line
    messages = ok(hd("ticket", "show", "HD-1", "--json")).json()["messages"]
    assert [m["kind"] for m in messages] == ["note"]


def test_unknown_acting_agent_is_refused(
    hd: Run, cli: Run, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = one_line_error(hd("ticket", "list", as_="mallory"), 1)
    assert "mallory" in line and "helpdesk agent add" in line and "--as" in line
    one_line_error(hd("ticket", "create", "-s", "x", as_="mallory"), 1)

    # Without --as: HELPDESK_AGENT, else the OS login ("tester", not an agent here).
    line = one_line_error(cli("--db", db_url, "ticket", "list"), 1)
    assert "'tester'" in line
    monkeypatch.setenv("HELPDESK_AGENT", "cleo")
    doc = ok(cli("--db", db_url, "ticket", "create", "-s", "As cleo", "--json")).json()
    assert doc["created_by"] == "cleo"
    assert doc["requester"]["email"] == "cleo@desk.example"  # an internal ticket
