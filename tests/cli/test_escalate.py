"""`helpdesk escalate` as cron runs it, and `helpdesk ticket escalate`: output, exit codes,
the job lock (75), and two overlapping processes applying each action once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from tests.cli.conftest import Run, imported, ok, one_line_error
from tests.conftest import NOW, Desk
from tests.services.test_escalation import RULES
from tui_helpdesk.domain import Priority
from tui_helpdesk.rules.document import parse_rules
from tui_helpdesk.services import desk, tickets
from tui_helpdesk.store.locks import job_lock
from tui_helpdesk.store.models import Escalation, Outbox

HELPDESK = Path(sys.executable).with_name("helpdesk")
WARNED = (NOW + timedelta(minutes=100)).isoformat()  # 83% of the 2h first-response target
LATER = (NOW + timedelta(hours=3)).isoformat()  # breached


def _desk_with_due_tickets(desk_store: Desk, count: int) -> None:
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(RULES))
        for number in range(count):
            tickets.create_ticket(
                session,
                desk_store.agent,
                NOW,
                tickets.NewTicket(
                    subject=f"Down {number}",
                    requester="carla@acme.example",
                    priority=Priority.HIGH,
                    group="L1",
                    assignee="bob",
                ),
            )


def test_escalate_prints_actions_and_summary_then_nothing(
    desk_store: Desk, db_url: str, cli: Run
) -> None:
    _desk_with_due_tickets(desk_store, 1)
    quiet = ok(cli("--db", db_url, "escalate", "--now", NOW.isoformat()))
    assert quiet.stdout == ""  # nothing due: nothing for cron to mail
    warned = ok(cli("--db", db_url, "escalate", "--now", WARNED)).stdout.splitlines()
    assert warned == [
        "HD-1  warn-first-response  notify:assignee  -> bob@desk.example",
        "HD-1  warn-first-response  notify:group_lead  -> admin@desk.example",
        "escalate: escalated 1 ticket with 2 actions; 0 new SLA breaches recorded; 0 failed; "
        "as of 2026-11-23T11:10:00Z",
    ]
    breached = ok(cli("--db", db_url, "escalate", "--now", LATER)).stdout.splitlines()
    assert breached[0] == "HD-1  first-response-missed  raise_priority  high -> urgent"
    # Four actions fired; the one with nothing to do is neither printed nor counted.
    assert len(breached) == 4 and "nothing to do" not in "\n".join(breached)
    assert breached[-1].startswith("escalate: escalated 1 ticket with 3 actions; 1 new SLA breach ")
    assert ok(cli("--db", db_url, "escalate", "--now", LATER)).stdout == ""


def test_escalate_prints_no_line_for_an_action_with_nothing_to_do(
    desk_store: Desk, db_url: str, cli: Run
) -> None:
    """Cron mails the output: an unassigned ticket's "notify:assignee" is not an action
    taken, so it is neither printed nor counted (`--json` lists it, with no "to")."""
    with desk_store.store.write() as session:
        desk.apply_rules(session, desk_store.admin, NOW, parse_rules(RULES))
        tickets.create_ticket(
            session,
            desk_store.agent,
            NOW,
            tickets.NewTicket(
                subject="Nobody's",
                requester="carla@acme.example",
                priority=Priority.HIGH,
                group="L1",
            ),
        )
    planned = ok(cli("--db", db_url, "escalate", "--dry-run", "--now", WARNED, "--json")).json()
    assert [(a["action"], a["to"]) for a in planned["actions"]] == [
        ("notify:assignee", None),
        ("notify:group_lead", "admin@desk.example"),
    ]
    warned = ok(cli("--db", db_url, "escalate", "--now", WARNED)).stdout.splitlines()
    assert warned == [
        "HD-1  warn-first-response  notify:group_lead  -> admin@desk.example",
        "escalate: escalated 1 ticket with 1 action; 0 new SLA breaches recorded; 0 failed; "
        "as of 2026-11-23T11:10:00Z",
    ]
    dry = ok(cli("--db", db_url, "escalate", "--dry-run", "--now", LATER)).stdout.splitlines()
    assert dry[-1].startswith("escalate: would escalate 1 ticket with ")


def test_escalate_json_and_dry_run(desk_store: Desk, db_url: str, cli: Run) -> None:
    _desk_with_due_tickets(desk_store, 2)
    planned = ok(cli("--db", db_url, "escalate", "--dry-run", "--now", LATER, "--json")).json()
    assert planned["dry_run"] is True and planned["now"] == "2026-11-23T12:30:00Z"
    assert planned["escalated"] == 2
    assert planned["actions"][0] == {
        "ticket": "HD-1",
        "rule": "first-response-missed",
        "action": "raise_priority",
        "from": "high",
        "to": "urgent",
    }
    done = ok(cli("--db", db_url, "escalate", "--now", LATER, "--json")).json()
    assert done["dry_run"] is False and done["actions"] == planned["actions"]


def test_bad_arguments_exit_2(desk_store: Desk, db_url: str, cli: Run) -> None:
    future = one_line_error(cli("--db", db_url, "escalate", "--now", "2999-01-01T00:00Z"), 2)
    assert "in the future; look ahead with --dry-run" in future
    assert "--now" in one_line_error(cli("--db", db_url, "escalate", "--now", "yesterday"), 2)
    refused = one_line_error(cli("--db", db_url, "escalate", "--rule", "nope"), 2)
    assert "no escalation rule 'nope'" in refused


def test_a_held_lock_exits_75(desk_store: Desk, db_url: str, cli: Run) -> None:
    _desk_with_due_tickets(desk_store, 1)
    with job_lock(desk_store.store, "escalate"):
        held = cli("--db", db_url, "escalate", "--now", LATER)
    assert held.exit_code == 75 and "holds the lock" in held.stderr
    assert "Traceback" not in held.stderr
    assert ok(cli("--db", db_url, "escalate", "--now", LATER)).stdout


def test_two_overlapping_runs_apply_each_action_once(desk_store: Desk, db_url: str) -> None:
    count = 40
    _desk_with_due_tickets(desk_store, count)
    command = [str(HELPDESK), "--db", db_url, "escalate", "--now", WARNED, "--json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    runs.append(
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    )
    outputs = [run.communicate(timeout=300) for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes) in ([0, 0], [0, 75]), outputs
    actions = [
        (a["ticket"], a["rule"], a["action"])
        for (out, _), code in zip(outputs, codes, strict=True)
        if code == 0
        for a in json.loads(out)["actions"]
    ]
    assert len(actions) == len(set(actions)) == count * 2  # assignee and lead warned
    with desk_store.store.read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == count
        notified = select(func.count()).select_from(Outbox).where(Outbox.kind == "notify")
        assert session.scalar(notified) == count * 2  # acknowledgements not counted


def test_ticket_escalate_by_hand(desk_store: Desk, db_url: str, cli: Run) -> None:
    _desk_with_due_tickets(desk_store, 1)
    args = ("--db", db_url, "--as", "bob", "ticket", "escalate")
    done = ok(cli(*args, "HD-1", "--reason", "needs an expert"))
    assert "HD-1  manual  level_up  L1 -> L2" in done.stdout
    assert done.stdout.rstrip().endswith(
        "HD-1: escalated; now L2 (level 2), unassigned; escalations so far: 1"
    )
    assert "no next level" in one_line_error(cli(*args, "HD-1"), 1)
    assert "already in L2" in one_line_error(cli(*args, "HD-1", "--to-group", "l2"), 1)
    line = one_line_error(cli(*args, "HD-1", "--to-group", "L1"), 1)
    assert line == (
        "helpdesk: L1 is a lower support level than HD-1's (level 2): "
        "moving it down is an assignment, not an escalation"
    )
    asked = ok(cli(*args, "HD-1", "--customer-request", "--json")).json()
    # The request and the rule it fired (it changed the priority) are two escalations.
    assert asked["priority"] == "urgent" and asked["escalation_level"] == 3
    assert [a["rule"] for a in asked["escalation"]] == ["customer-asked", "customer-asked"]
    # Asked again in the same cycle, the rule has fired already: nothing moves, and the
    # output does not say it escalated.
    again = ok(cli(*args, "HD-1", "--customer-request")).stdout
    assert again.strip() == (
        "HD-1: the customer's request is recorded, no rule acted on it; "
        "still L2 (level 2), unassigned; escalations so far: 4"
    )


def test_nothing_due_leaves_the_batch_machinery_out(desk_store: Desk, db_url: str) -> None:
    """Cron's common run probes one index: what a batch does to its tickets (planning,
    claiming, the actions) is imported only when something is due."""
    _desk_with_due_tickets(desk_store, 1)
    quiet = imported("--db", db_url, "escalate", "--now", NOW.isoformat())
    assert "tui_helpdesk.services.escalation" in quiet
    assert "tui_helpdesk.services.escalation_apply" not in quiet
    assert "tui_helpdesk.store.models" not in quiet  # declaring the models is most of start-up
    busy = imported("--db", db_url, "escalate", "--now", LATER)
    assert "tui_helpdesk.services.escalation_apply" in busy
