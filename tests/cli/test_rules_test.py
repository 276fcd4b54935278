"""`helpdesk rules test FILE`: the replay of a candidate rules file over past tickets, through
the real command on SQLite and PostgreSQL: the JSON document, the human tables, the default
period, and the errors (bad dates, a bad rules file: exit 2 and one line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import Run, ok, one_line_error
from tests.conftest import Desk
from tests.services.test_replay import (
    CANDIDATE,
    EXPECTED_ESCALATION,
    EXPECTED_SLA,
    make_history,
)

PERIOD = ("--since", "2026-11-02", "--until", "2026-11-03", "--now", "2026-11-03T12:00:00Z")


@pytest.fixture
def candidate(tmp_path: Path) -> Path:
    path = tmp_path / "candidate.toml"
    path.write_text(CANDIDATE)
    return path


def test_json_document(hd: Run, desk_store: Desk, candidate: Path) -> None:
    make_history(desk_store)
    doc = ok(hd("rules", "test", candidate, *PERIOD, "--json")).json()
    assert doc["period"] == {
        "since": "2026-11-02T00:00:00Z",
        "until": "2026-11-03T00:00:00Z",
        "now": "2026-11-03T12:00:00Z",
    }
    assert (doc["tickets"], doc["active_version"]) == (5, 2)
    assert doc["escalation"] == EXPECTED_ESCALATION
    assert doc["sla"] == EXPECTED_SLA
    assert doc["only_in_candidate"] == {"escalation": ["unassigned-1h"], "sla": ["night"]}


def test_default_period_is_the_30_days_before_now(
    hd: Run, desk_store: Desk, candidate: Path
) -> None:
    """Up to now, from 30 days before: Sunday's ticket T0 is in too (never answered: one
    more first-response breach and fr-breach under both rule sets, unassigned-1h in the
    candidate; its resolution breached Monday 09:00, its half-time warning Sunday 21:00)."""
    make_history(desk_store)
    doc = ok(hd("rules", "test", candidate, "--now", "2026-11-03T12:00", "--json")).json()
    assert doc["period"]["since"] == "2026-10-04T12:00:00Z"
    assert doc["period"]["until"] == "2026-11-03T12:00:00Z"
    assert doc["tickets"] == 6
    counts = {row["rule"]: (row["candidate"], row["active"]) for row in doc["escalation"]}
    assert counts["fr-breach"] == (
        {"tickets": 4, "escalations": 4},
        {"tickets": 3, "escalations": 3},
    )
    assert counts["unassigned-1h"] == ({"tickets": 2, "escalations": 2}, None)
    assert counts["res-warn"][0] == {"tickets": 3, "escalations": 3}
    standard = doc["sla"][0]
    assert standard["candidate"] == {
        "tickets": 6,
        "first_response_breaches": 4,
        "resolution_breaches": 2,
    }


def test_human_tables(hd: Run, desk_store: Desk, tmp_path: Path) -> None:
    make_history(desk_store)
    path = tmp_path / "candidate.toml"
    path.write_text(CANDIDATE.replace('"unassigned-1h"', '"[red]unowned[/red]"'))
    out = ok(hd("rules", "test", path, *PERIOD)).stdout
    assert "\x1b[" not in out  # piped: no colour
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[0].startswith(f"{path} vs the active rules (version 2): 5 tickets created ")
    assert "2026-11-02 00:00 to 2026-11-03 00:00 UTC" in lines[0]
    assert "Escalation rules: tickets escalated" in lines
    assert "Rule On At Candidate Active Recorded" in lines
    assert "fr-breach first_response breach 3 2 1" in lines
    assert "res-warn resolution 50% 2 2 0" in lines
    assert "[red]unowned[/red] unassigned 1h 1 - 0" in lines  # markup shown as written
    assert "Policy Rules Tickets First-response breaches Resolution breaches" in lines
    at = lines.index("standard candidate 5 3 1")
    assert lines[at + 1 : at + 3] == ["active 5 2 1", "recorded 5 1 0"]
    at = lines.index("night candidate 0 0 0")
    assert lines[at + 1 : at + 3] == ["active - - -", "recorded 0 0 0"]
    assert "Only in the candidate (escalation rules): [red]unowned[/red]" in lines
    assert "Only in the candidate (SLA policies): night" in lines
    assert "Changed in the candidate: standard" in lines
    assert any(line.startswith("Limits of the replay: escalation actions") for line in lines)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--since", "yesterday"), "--since: expected an ISO date or datetime"),
        (("--until", "2026-13-01"), "--until: expected an ISO date or datetime"),
        (("--now", "noon"), "--now: expected an ISO date or datetime"),
        (
            ("--since", "2026-11-03", "--until", "2026-11-02"),
            "--since (2026-11-03T00:00:00Z) must be before --until (2026-11-02T00:00:00Z)",
        ),
    ],
)
def test_bad_dates(hd: Run, candidate: Path, options: tuple[str, ...], message: str) -> None:
    assert message in one_line_error(hd("rules", "test", candidate, *options), 2)


def test_bad_rules_file_names_the_key(hd: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CANDIDATE.replace('at = "50%"', 'when = "50%"'))
    result = hd("rules", "test", bad, *PERIOD)
    assert result.exit_code == 2
    # Both what is wrong and what is then missing, in one run.
    assert result.stderr.splitlines() == [
        f"helpdesk: {bad}: 2 errors",
        f"  {bad}: escalation[1].when: unknown key (expected one of name, on, at, where, actions)",
        f'  {bad}: escalation[1].at: missing (on = "resolution" needs "80%" or "breach")',
    ]
    missing = tmp_path / "missing.toml"
    assert "cannot read" in one_line_error(hd("rules", "test", missing), 2)


def test_bad_policy_target_names_the_key(hd: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(CANDIDATE.replace('normal = "2h"', 'normal = "2d"'))
    line = one_line_error(hd("rules", "test", bad, *PERIOD), 2)
    assert re.search(r"sla\[0\]\.first_response\.normal: use minutes or hours", line), line
