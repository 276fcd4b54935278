"""`helpdesk kb search`, `helpdesk kb suggest` and `helpdesk ticket search` through the real
command on both back ends: ranked JSON with mark offsets, corrections on stderr, inert text,
and usage errors as one line."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run, ok, one_line_error


def _article(hd: Run, title: str, body: str, *extra: str) -> int:
    doc = ok(hd("kb", "add", "--title", title, "--body", body, "--publish", "--json", *extra))
    return int(doc.json()["article"]["id"])


def _ticket(hd: Run, subject: str, body: str) -> str:
    created = ok(
        hd(
            "ticket",
            "create",
            "--subject",
            subject,
            "--requester",
            "ann@acme.example",
            "--body",
            body,
        )
    )
    return created.stdout.strip()


def test_kb_search_ranks_marks_and_corrects(hd: Run) -> None:
    reset = _article(hd, "Reset a forgotten password", "Use the portal link.", "--tag", "login")
    _article(hd, "Printer jams", "Remove the paper; the password is not needed.")
    doc = ok(hd("kb", "search", "password", "--json")).json()
    assert doc["articles"][0]["id"] == reset
    first = doc["articles"][0]
    start, end = first["title_marks"][0]
    assert first["title"][start:end].lower() == "password"
    assert set(first) >= {"snippet", "category", "tags", "status", "score", "updated_at"}
    typo = ok(hd("kb", "search", "pasword"))
    assert "Reset a forgotten password" in typo.stdout
    assert "'pasword' not found: also searched password" in typo.stderr
    assert (
        ok(hd("kb", "search", "password tag:login", "--json")).json()["articles"][0]["id"] == reset
    )
    assert ok(hd("kb", "search", "password -portal", "--json")).json()["articles"][0]["id"] != reset


def test_search_input_is_inert(hd: Run) -> None:
    _article(hd, "[bold red]Alarm[/] \x1b]0;x\x07codes", "Silence the alarm with code 42.")
    for query in ['"', "NEAR(", "*", "alarm OR (", "'; --"]:
        ok(hd("kb", "search", query))
        ok(hd("ticket", "search", query))
    shown = ok(hd("kb", "search", "alarm")).stdout
    assert "[bold red]Alarm[/] codes" in shown and "\x1b" not in shown


def test_ticket_search_and_status_filter(hd: Run) -> None:
    key = _ticket(hd, "VPN drops at home", "The tunnel stops every hour.")
    _ticket(hd, "Invoice copy", "Please resend it.")
    doc = ok(hd("ticket", "search", "tunnel", "--json")).json()
    assert [t["key"] for t in doc["tickets"]] == [key]
    snippet = doc["tickets"][0]["snippet"]
    start, end = snippet["marks"][0]
    assert snippet["text"][start:end] == "tunnel"
    assert (
        ok(hd("ticket", "search", "tunnel", "--status", "closed", "--json")).json()["tickets"] == []
    )
    assert one_line_error(hd("ticket", "search", "x", "--status", "nope"), 2)


@pytest.mark.parametrize("command", [("ticket", "list"), ("ticket", "search", "tunnel")])
def test_list_and_search_take_the_same_statuses(hd: Run, command: tuple[str, ...]) -> None:
    key = _ticket(hd, "VPN drops at home", "The tunnel stops every hour.")
    ok(hd("ticket", "status", key, "resolved"))

    def keys(*statuses: str) -> list[str]:
        args = [a for s in statuses for a in ("--status", s)]
        found = ok(hd(*command, *args, "--json")).json()["tickets"]
        return [t.get("key") or t["number"] for t in found]  # search: key; list: number

    assert keys("all") == keys("resolved") == keys("open,resolved") == [key]
    assert keys("active") == keys("new", "open") == []
    line = one_line_error(hd(*command, "--status", "sleeping"), 2)
    assert "unknown status 'sleeping'" in line and "active, all" in line
    # `-s` is ticket create's subject: --status has no short option, in list and search.
    line = one_line_error(hd(*command, "-s", "resolved"), 2)
    assert "No such option: -s" in line, line


def test_kb_suggest(hd: Run) -> None:
    _article(hd, "VPN drops every few minutes", "Update the client to version 5.")
    doc = ok(
        hd(
            "kb",
            "suggest",
            "--subject",
            "VPN keeps dropping",
            "--body",
            "the client drops",
            "--json",
        )
    ).json()
    assert doc["articles"][0]["title"] == "VPN drops every few minutes"
    assert "vpn" in doc["keywords"]
    assert "nothing to suggest" in one_line_error(hd("kb", "suggest"), 2)


def test_kb_search_shows_snippets_without_markdown(hd: Run) -> None:
    body = (
        "## Steps\n\n1. Open the **VPN client** from the [portal](https://portal.example/vpn).\n"
        "2. Choose `Reconnect` and _wait_."
    )
    _article(hd, "Reconnect the VPN", body)
    shown = ok(hd("kb", "search", "reconnect")).stdout
    flat = " ".join(shown.split())
    assert "Steps 1. Open the VPN client from the portal. 2. Choose Reconnect and wait." in flat
    for syntax in ("**", "##", "](", "https://", "`", "_wait_"):
        assert syntax not in shown
    # JSON keeps the stored text, its marks offsets into it.
    snippet = ok(hd("kb", "search", "reconnect", "--json")).json()["articles"][0]["snippet"]
    assert "**VPN client**" in snippet["text"]
