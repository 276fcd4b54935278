"""`helpdesk rules check|apply|show|history`: validate, store as the active version, print."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.cli.conftest import Run, ok, one_line_error

RULES = """\
[desk]
ticket_prefix = "SUP"
phone_region = "IT"

[calendars.office]
timezone = "Europe/Rome"
hours.mon = ["09:00-13:00", "14:00-18:00"]
holidays = [2026-12-24, "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"]

[[sla]]
name = "standard"
calendar = "office"
first_response = { urgent = "1h", high = "2h", normal = "4h", low = "8h" }
resolution     = { urgent = "8h", high = "16h", normal = "36h", low = "72h" }
"""


def test_check_names_the_file_and_key(cli: Run, tmp_path: Path) -> None:
    good = tmp_path / "rules.toml"
    good.write_text(RULES)
    assert "1 calendars, 1 SLA policies" in ok(cli("rules", "check", good)).stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(RULES.replace('urgent = "1h"', 'urgent = "1d"'))
    line = one_line_error(cli("rules", "check", bad), 2)
    assert f"{bad}: sla[0].first_response.urgent: use minutes or hours" in line


def test_apply_show_history(hd: Run, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    dry = ok(hd("rules", "apply", path, "--dry-run", as_="admin")).stdout
    assert "would become the active version" in dry
    assert ok(hd("rules", "history", "--json")).json()["versions"][0]["version"] == 1

    assert "rules version 2 applied by admin" in ok(hd("rules", "apply", path, as_="admin")).stdout
    assert "nothing changed" in ok(hd("rules", "apply", path, as_="admin")).stdout
    shown = ok(hd("rules", "show")).stdout
    document = tomllib.loads(shown)
    assert shown.startswith("# active rules version 2, applied by admin")
    assert document["desk"]["ticket_prefix"] == "SUP"
    assert document["calendars"]["office"]["holidays"][0] == "2026-12-24"
    versions = ok(hd("rules", "history", "--json")).json()["versions"]
    assert [(v["version"], v["active"]) for v in versions] == [(2, True), (1, False)]
    # For people, an instant to the second (JSON keeps it whole).
    to_the_second = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    assert re.match(rf"# active rules version 2, applied by admin at {to_the_second}\n", shown)
    lines = ok(hd("rules", "history")).stdout.splitlines()
    assert [
        re.match(rf"[* ] +\d+  {to_the_second}  admin  [0-9a-f]{{12}}$", x) is not None
        for x in lines
    ] == [True, True]
    # The new prefix numbers the next ticket.
    doc = ok(hd("ticket", "create", "-s", "Hi", "-r", "a@acme.example", "--json")).json()
    assert doc["number"].startswith("SUP-")


def test_only_admins_apply(hd: Run, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    line = one_line_error(hd("rules", "apply", path, as_="bob"), 1)
    assert "only admins apply rules" in line
    assert len(ok(hd("rules", "history", "--json")).json()["versions"]) == 1


def test_apply_checks_names_even_in_a_dry_run(hd: Run, tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(
        RULES + '\n[[escalation]]\nname = "to-secops"\non = "first_response"\nat = "breach"\n'
        'actions = ["move:SecOps"]\n'
    )
    for extra in (("--dry-run",), ()):
        line = one_line_error(hd("rules", "apply", path, *extra, as_="admin"), 2)
        assert line == (
            f'helpdesk: {path}: escalation[0].actions[0]: no group "SecOps" (groups: L1, L2)'
        )
    assert len(ok(hd("rules", "history", "--json")).json()["versions"]) == 1


def test_check_checks_names_against_the_desk_as_apply_does(
    hd: Run, cli: Run, tmp_path: Path
) -> None:
    """A file `apply` would refuse is not "valid"; without a desk, the output says the
    names were not checked."""
    path = tmp_path / "team.toml"
    path.write_text(
        RULES + '\n[[escalation]]\nname = "to-nobody"\non = "first_response"\nat = "breach"\n'
        'actions = ["assign:nobody"]\n'
    )
    line = one_line_error(hd("rules", "check", path), 2)
    assert line.startswith(f'helpdesk: {path}: escalation[0].actions[0]: no agent "nobody"')
    good = tmp_path / "rules.toml"
    good.write_text(RULES)
    assert ok(hd("rules", "check", good)).stdout.endswith("; names checked against the desk\n")
    alone = ok(cli("--db", f"sqlite:///{tmp_path / 'none.db'}", "rules", "check", path)).stdout
    assert alone.startswith(f"{path}: valid (1 calendars, 1 SLA policies, 1 escalation rules")
    assert "names not checked against a desk: no database at" in alone


def test_apply_warns_about_a_where_on_a_missing_group(hd: Run, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        RULES + '\n[[escalation]]\nname = "l3-warn"\non = "first_response"\nat = "80%"\n'
        'where = { group = ["L3"] }\nactions = ["notify:group_lead"]\n'
    )
    applied = ok(hd("rules", "apply", path, as_="admin"))
    assert "rules version 2 applied" in applied.stdout
    assert applied.stderr.startswith(f"warning: {path}: escalation[0].where.group")


def test_apply_says_what_it_means_for_the_tickets_on_the_desk(hd: Run, tmp_path: Path) -> None:
    """A new prefix numbers only new tickets, and new SLA policies reach an active ticket
    at its next change: `rules apply` says both when the desk has tickets."""
    old = ok(hd("ticket", "create", "-s", "Before", "-r", "a@acme.example", "--json")).json()
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    out = ok(hd("rules", "apply", path, as_="admin")).stdout.splitlines()
    assert out[1:] == [
        "note: ticket prefix HD -> SUP: tickets numbered so far keep their HD-n numbers; "
        "new tickets are SUP-n",
        "note: 1 active ticket keeps its SLA deadlines until its next change, when the "
        "new policies and calendars apply",
    ]
    assert old["number"].startswith("HD-")
    assert ok(hd("ticket", "show", old["number"], "--json")).json()["subject"] == "Before"
    new = ok(hd("ticket", "create", "-s", "After", "-r", "a@acme.example", "--json")).json()
    assert new["number"].startswith("SUP-")
