"""Usage errors name the command that was run: the one-line reason ends with
"(see `helpdesk NOUN VERB --help`)", exit 2, whichever part of the command line was wrong,
including an option given without its value (Click's parser reports that one without
saying which command was reading it)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run, one_line_error


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (("escalate", "--now"), "helpdesk escalate"),
        (("ticket", "list", "--limit"), "helpdesk ticket list"),
        (("ticket", "create", "-s"), "helpdesk ticket create"),  # a short option
        (("report", "show", "--by"), "helpdesk report show"),
        (("kb", "list", "--limit"), "helpdesk kb list"),
        (("mail", "outbox", "--limit"), "helpdesk mail outbox"),
        (("init", "--seed"), "helpdesk init"),
        (("rules", "test", "rules.toml", "--since"), "helpdesk rules test"),
        (("--db",), "helpdesk"),  # the root's own option
        (("--as", "bob", "escalate", "--rule"), "helpdesk escalate"),
        (("escalate", "--no-such-option"), "helpdesk escalate"),
        (("ticket", "show"), "helpdesk ticket show"),  # a missing argument
    ],
)
def test_a_usage_error_names_the_command_run(cli: Run, args: tuple[str, ...], command: str) -> None:
    line = one_line_error(cli(*args), 2)
    assert line.endswith(f"(see `{command} --help`)"), line


def test_a_missing_value_after_a_mistyped_verb(cli: Run) -> None:
    """A mistyped verb builds every verb of its noun (for "did you mean"); those built that
    way name themselves too, later in the same process."""
    assert "helpdesk ticket --help" in one_line_error(cli("ticket", "lsit"), 2)
    line = one_line_error(cli("ticket", "list", "--limit"), 2)
    assert line == (
        "helpdesk: Option '--limit' requires an argument (see `helpdesk ticket list --help`)"
    )


NOUNS = ("ticket", "agent", "group", "org", "contact", "category", "rules", "db", "kb", "mail")
GROUPS = [(), *((noun,) for noun in (*NOUNS, "report"))]


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: " ".join(("helpdesk", *g)))
def test_each_command_is_listed_with_a_whole_sentence_on_one_line(
    cli: Run, group: tuple[str, ...]
) -> None:
    """A group's help lists its commands each with the first sentence of its help, whole
    (Click cut "Open a ticket, e.g. for a caller: ..." to "Open a ticket, e.g."), on one
    line of an 80-column terminal."""
    out = cli(*group, "--help", env={"COLUMNS": "80"}).stdout
    listed = out.split("Commands:\n", 1)[1].splitlines()
    rows = [line for line in listed if line.strip()]
    names = [row.split()[0] for row in rows]
    assert all(row.startswith("  ") and not row.startswith("   ") for row in rows), rows
    for name, row in zip(names, rows, strict=True):
        text = row.split(None, 1)[1]
        assert text.endswith(".") and not text.endswith(("e.g.", "i.e.", "...")), row
        assert len(row) <= 80, row
        whole = cli(*group, name, "--help", env={"COLUMNS": "200"}).stdout
        assert " ".join(text.split()) in " ".join(whole.split()), (name, text)


def test_shell_completion_is_the_programs_not_each_commands(cli: Run) -> None:
    """`helpdesk --install-completion` sets it up; a command's help lists its own options."""
    assert "--install-completion" in cli("--help").stdout
    for command in (("escalate",), ("init",), ("db",), ("ticket", "create"), ("report",)):
        shown = cli(*command, "--help").stdout
        assert "Options:" in shown and "completion" not in shown, command
