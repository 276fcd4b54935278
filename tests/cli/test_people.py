"""`helpdesk agent|group|org|contact|category ...` and the CSV imports, on both back ends."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run, ok, one_line_error


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
    assert ok(hd("agent", "add", "eve")).stdout == "agent eve added (agent)\n"
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
    ok(hd("group", "add", "Billing Team", "--next-level", "L3"))
    groups = ok(hd("group", "list", "--json")).json()["groups"]
    assert [(g["name"], g["level"]) for g in groups] == [
        ("L1", 1),
        ("L2", 2),
        ("L3", 3),
        ("Billing Team", None),
    ]

    assert "already exists" in one_line_error(hd("agent", "add", "dana"), 2)
    assert "unknown group" in one_line_error(hd("agent", "add", "fox", "--group", "L9"), 1)
    one_line_error(hd("agent", "add", "fox", "--role", "boss"), 2)
    one_line_error(hd("group", "add", "L4", "--level", "4"), 2)


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
        )
    ).json()
    assert org["domains"] == ["globex.example", "globex.test"]
    assert org["segment"] == "premium"
    names = [o["name"] for o in ok(hd("org", "list", "--json")).json()["organizations"]]
    assert names == ["Acme", "Globex"]
    one_line_error(hd("org", "add", "Initech", "--segment", "gold"), 2)
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
    assert ok(hd("agent", "import", agents)).stdout == f"imported 2 agents from {agents}\n"
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
