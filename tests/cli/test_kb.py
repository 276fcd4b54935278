"""`helpdesk kb ...` through the real command, on SQLite and PostgreSQL: ids and JSON
documents, inert and rendered article text, paging, files, and errors as one line with the
right exit code."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run, ok, one_line_error

ARTICLE_KEYS = {
    "id",
    "title",
    "category",
    "tags",
    "visibility",
    "status",
    "author",
    "source_ticket",
    "helpful",
    "not_helpful",
    "created_at",
    "updated_at",
    "body",
}


def add(hd: Run, *args: str, **kwargs: object) -> dict[str, object]:
    doc = ok(hd("kb", "add", "--json", *args, **kwargs)).json()
    assert set(doc) == {"article"}
    assert set(doc["article"]) == ARTICLE_KEYS
    return doc["article"]


def test_add_prints_the_id_and_json_the_article(hd: Run) -> None:
    assert ok(hd("kb", "add", "--title", "First")).stdout == "1\n"
    doc = add(
        hd,
        "--title",
        "Reset a password",
        "--body-file",
        "-",
        "--category",
        "technical > network",
        "--tag",
        "Login",
        "-t",
        "password",
        "--public",
        "--publish",
        input="## Steps\n\n1. Open settings\n",
    )
    assert doc["id"] == 2
    assert doc["title"] == "Reset a password"
    assert doc["body"] == "## Steps\n\n1. Open settings\n"
    assert (doc["category"], doc["tags"]) == ("Technical > Network", ["login", "password"])
    assert (doc["visibility"], doc["status"], doc["author"]) == ("public", "published", "bob")
    assert str(doc["created_at"]).endswith("Z")


def test_add_refuses_bad_input_with_exit_2(hd: Run, tmp_path: Path) -> None:
    cases = [
        (("--title", " "), "an article needs a title"),
        (("--title", "T", "--category", "Nope"), "unknown category 'Nope': create it with"),
        (("--title", "T", "--tag", "no!"), "invalid tag 'no!'"),
        (("--title", "T", "--publish"), "the article has no body"),
        (("--title", "T", "--body", "b", "--body-file", "-"), "not both"),
        (("--title", "T", "--body-file", str(tmp_path / "none.md")), "cannot read"),
        (("--body", "no title"), "Missing option '--title'"),
    ]
    for args, message in cases:
        assert message in one_line_error(hd("kb", "add", *args), 2)
    assert ok(hd("kb", "list", "--json")).json()["articles"] == []


def test_mutations_need_a_known_agent(hd: Run) -> None:
    line = one_line_error(hd("kb", "add", "--title", "T", as_="nobody"), 1)
    assert "unknown agent 'nobody'" in line


def test_show_json_plain_and_markdown(hd: Run) -> None:
    body = "# Heading\n\n[bold red]not markup[/]\x1b]0;pwned\x07 and **strong**\n"
    article_id = add(hd, "--title", "[blink]Title[/blink]", "--body", body)["id"]

    shown = ok(hd("kb", "show", article_id, "--json")).json()["article"]
    assert shown["body"] == body  # JSON gives the text as stored

    plain = ok(hd("kb", "show", article_id)).stdout
    assert "#1  [blink]Title[/blink]" in plain
    assert "# Heading\n\n[bold red]not markup[/] and **strong**\n" in plain  # as written
    assert "\x1b" not in plain and "pwned" not in plain

    rendered = ok(hd("kb", "show", article_id, env={"FORCE_COLOR": "1"})).stdout
    assert "Heading" in rendered and "# Heading" not in rendered  # Markdown on a terminal
    assert "[bold red]not markup[/]" in rendered
    assert "**strong**" not in rendered
    assert "pwned" not in rendered

    assert one_line_error(hd("kb", "show", "99"), 1) == (
        "helpdesk: no article 99 (see `helpdesk kb list`)"
    )
    assert "Invalid value for 'ID'" in one_line_error(hd("kb", "show", "abc"), 2)


def test_edit_changes_what_is_given(hd: Run) -> None:
    article_id = add(hd, "--title", "Old", "--body", "b", "--category", "Billing", "-t", "x")["id"]
    assert ok(hd("kb", "edit", article_id, "--title", "New", "-t", "y", "--public")).stdout == (
        f"article {article_id}: title, tags, visibility changed\n"
    )
    assert ok(hd("kb", "edit", article_id, "--title", "New")).stdout == (
        f"article {article_id}: no change\n"
    )
    doc = ok(hd("kb", "edit", article_id, "--no-category", "--no-tags", "--json")).json()
    article = doc["article"]
    assert (article["title"], article["category"], article["tags"]) == ("New", None, [])
    assert article["visibility"] == "public"
    assert ok(hd("kb", "edit", article_id, "--publish")).stdout.endswith("status changed\n")

    assert "nothing to change" in one_line_error(hd("kb", "edit", article_id), 2)
    line = one_line_error(hd("kb", "edit", article_id, "--category", "X", "--no-category"), 2)
    assert "not both" in line
    assert "not both" in one_line_error(hd("kb", "edit", article_id, "-t", "x", "--no-tags"), 2)
    line = one_line_error(hd("kb", "edit", article_id, "--body", " "), 2)
    assert line == (f"helpdesk: article {article_id} has no body: write one before publishing it")
    assert one_line_error(hd("kb", "edit", "99", "--title", "x"), 1).startswith(
        "helpdesk: no article 99"
    )


def test_publish_unpublish_and_vote(hd: Run) -> None:
    article_id = add(hd, "--title", "T", "--body", "b")["id"]
    assert "only published articles take votes" in one_line_error(
        hd("kb", "vote", article_id, "--helpful"), 1
    )
    assert ok(hd("kb", "publish", article_id)).stdout == f"article {article_id} is now published\n"
    assert ok(hd("kb", "publish", article_id)).stdout == (
        f"article {article_id} is already published\n"
    )
    assert ok(hd("kb", "vote", article_id, "--helpful")).stdout == (
        f"article {article_id}: 1 helpful, 0 not helpful\n"
    )
    assert ok(hd("kb", "vote", article_id, "--not-helpful", "--json")).json() == {
        "article": {"id": article_id, "helpful": 1, "not_helpful": 1}
    }
    assert "--helpful or --not-helpful" in one_line_error(hd("kb", "vote", article_id), 2)
    doc = ok(hd("kb", "unpublish", article_id, "--json")).json()["article"]
    assert (doc["status"], doc["helpful"], doc["not_helpful"]) == ("draft", 1, 1)
    empty = add(hd, "--title", "Empty")["id"]
    assert "has no body" in one_line_error(hd("kb", "publish", empty), 2)


def test_list_filters_and_pages(hd: Run) -> None:
    for i in range(5):
        add(hd, "--title", f"Net {i}", "--category", "Technical > Network", "-t", "vpn")
    add(hd, "--title", "Bill", "--category", "Billing", "--body", "b", "--publish")

    first = ok(hd("kb", "list", "--limit", "4", "--json")).json()
    assert [a["id"] for a in first["articles"]] == [1, 2, 3, 4]
    assert first["next_cursor"] == "4"
    rest = ok(hd("kb", "list", "--limit", "4", "--after", "4", "--json")).json()
    assert ([a["id"] for a in rest["articles"]], rest["next_cursor"]) == ([5, 6], None)

    def ids(*args: str) -> list[int]:
        return [a["id"] for a in ok(hd("kb", "list", "--json", *args)).json()["articles"]]

    assert ids("--status", "published") == [6]
    assert ids("--tag", "VPN", "--category", "technical") == [1, 2, 3, 4, 5]
    assert ids("--visibility", "public") == []

    human = ok(hd("kb", "list", "--limit", "2"))
    assert "Net 0" in human.stdout and "Net 1" in human.stdout and "Bill" not in human.stdout
    assert human.stderr == "more: add --after 2\n"
    assert ok(hd("kb", "list", "--status", "published", "--tag", "vpn")).stderr == (
        "no articles match\n"
    )

    assert "invalid cursor" in one_line_error(hd("kb", "list", "--after", "x"), 2)
    assert "unknown category 'Nope'" in one_line_error(hd("kb", "list", "--category", "Nope"), 2)
    assert "--status" in one_line_error(hd("kb", "list", "--status", "gone"), 2)


def test_from_ticket(hd: Run) -> None:
    ok(
        hd(
            "ticket",
            "create",
            "-s",
            "Printer offline",
            "-r",
            "anna@acme.example",
            "--body",
            "It says offline.",
            "--category",
            "Billing",
            "-t",
            "printer",
        )
    )
    line = one_line_error(hd("kb", "from-ticket", "HD-1"), 1)
    assert line.startswith("helpdesk: HD-1 is new: draft an article from a resolved or closed")
    ok(hd("ticket", "reply", "HD-1", "--body", "Power-cycle it.", "--status", "resolved"))
    assert ok(hd("kb", "from-ticket", "HD-1")).stdout == "1\n"
    article = ok(hd("kb", "show", "1", "--json")).json()["article"]
    assert article["body"] == ("## Problem\n\nIt says offline.\n\n## Solution\n\nPower-cycle it.\n")
    assert (article["source_ticket"], article["category"], article["tags"]) == (
        "HD-1",
        "Billing",
        ["printer"],
    )
    assert (article["status"], article["visibility"]) == ("draft", "internal")
    assert "already has article 1" in one_line_error(hd("kb", "from-ticket", "1"), 1)
    assert "no ticket HD-9" in one_line_error(hd("kb", "from-ticket", "HD-9"), 1)


def test_export_and_import(hd: Run, tmp_path: Path) -> None:
    add(hd, "--title", "Reset a password", "--body", "b\n", "--category", "Billing")
    add(hd, "--title", "Café ☕", "--body", "no newline")
    folder = tmp_path / "kb"
    assert ok(hd("kb", "export", folder)).stdout == f"exported 2 articles to {folder}\n"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["1-reset-a-password.md", "2-cafe.md"]

    path = folder / "2-cafe.md"
    path.write_text(path.read_text().replace('title = "Café ☕"', 'title = "Café au lait"'))
    (folder / "7-new.md").write_text('+++\nid = 7\ntitle = "New"\ncategory = "A > B"\n+++\nx\n')

    refused = hd("kb", "import", folder, "--dry-run")
    assert refused.exit_code == 2
    assert f"{folder}/7-new.md: category: no category 'A > B' on this desk" in refused.stderr
    dry = ok(hd("kb", "import", folder, "--dry-run", "--create-categories", "--json")).json()
    assert dry == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "categories_created": ["A > B"],
        "dry_run": True,
    }
    assert ok(hd("kb", "show", "2", "--json")).json()["article"]["title"] == "Café ☕"
    assert ok(hd("kb", "import", folder, "--create-categories")).stdout == (
        f"imported {folder}: 1 created, 1 updated, 1 unchanged; created categories: A > B\n"
    )
    assert ok(hd("kb", "show", "2", "--json")).json()["article"]["title"] == "Café au lait"
    assert ok(hd("kb", "show", "7", "--json")).json()["article"]["category"] == "A > B"

    (folder / "8-bad.md").write_text('+++\nid = 8\ntags = "x"\n+++\n')
    (folder / "9-bad.md").write_text("no front matter\n")
    failed = hd("kb", "import", folder)
    assert failed.exit_code == 2
    assert failed.stderr.splitlines() == [
        f"helpdesk: 2 bad files in {folder}; nothing imported",
        f"  {folder}/8-bad.md: title: required; tags: expected a list of strings",
        f"  {folder}/9-bad.md: no front matter: the file must start with a +++ line",
    ]
    assert "no such folder" in one_line_error(hd("kb", "import", tmp_path / "none"), 2)
