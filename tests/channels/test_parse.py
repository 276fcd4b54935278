"""MIME parsing of real-world mail (tests/mail_corpus): headers, charsets, body choice,
attachments, automatic mail, ticket tags, quotes; and that no input ever makes it raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_helpdesk.channels.mime_text import decode_bytes, html_to_text, quote_start
from tui_helpdesk.channels.parse import message_ids, parse_mail

CORPUS = Path(__file__).resolve().parents[1] / "mail_corpus"
FILES = sorted(p.name for p in CORPUS.glob("*.eml"))


def parsed(name: str, limit: int = 4096):  # type: ignore[no-untyped-def]
    return parse_mail((CORPUS / name).read_bytes(), limit)


@pytest.mark.parametrize("name", FILES)
def test_every_corpus_mail_parses_to_clean_text(name: str) -> None:
    mail = parsed(name)
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    assert mail.body.strip()
    for text in (mail.body, mail.subject, mail.sender or "", mail.sender_name or ""):
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text


HEADERS = [
    ("gmail_new.eml", "anna.rossi@acme.example", "Anna Rossi", "Stampante del 3° piano non stampa"),
    (
        "latin1_bad_bytes.eml",
        "francois@hooli.example",
        "François Léger",
        "Problème d'accès au portail",
    ),
    ("iso2022jp.eml", "tanaka@umbrella.example", "山田太郎", "パスワードのリセット"),
    ("undeclared_8bit.eml", "jose@pied-piper.example", "Jose Garcia", "Contraseña caducada"),
    ("control_chars.eml", "mallory@evil.example", "Mallory", "Urgent RED"),
    (
        "outlook_reply.eml",
        "jens.meyer@globex.example",
        "Meyer, Jens",
        "AW: [HD-2] VPN trennt alle paar Minuten",
    ),
]


@pytest.mark.parametrize(("name", "sender", "name_shown", "subject"), HEADERS)
def test_headers_are_decoded(name: str, sender: str, name_shown: str, subject: str) -> None:
    mail = parsed(name)
    assert (mail.sender, mail.sender_name, mail.subject) == (sender, name_shown, subject)


def test_charsets_are_read_and_repairs_noted() -> None:
    assert "Grüße aus München" in parsed("outlook_reply.eml").body  # quoted-printable latin-1
    assert "パスワードをリセットできません" in parsed("iso2022jp.eml").body
    undeclared = parsed("undeclared_8bit.eml")
    assert "contraseña caducó" in undeclared.body and "“seguro”" in undeclared.body
    assert undeclared.notes == ("8-bit text without a charset: read as cp1252",)
    bad = parsed("latin1_bad_bytes.eml")
    assert "\ufffd" in bad.body and "François" in bad.body  # bad bytes replaced, rest kept
    assert bad.notes == ("invalid utf-8 bytes replaced",)
    bogus = parsed("bogus_charset.eml")
    assert "The printer says" in bogus.body and "unknown charset 'x-klingon'" in bogus.notes[0]


def test_plain_text_is_preferred_and_html_only_is_rendered() -> None:
    gmail = parsed("gmail_new.eml")
    assert gmail.body.startswith("Buongiorno,\n\nla stampante") and "<div" not in gmail.body
    html = parsed("html_only.eml").body
    assert "invoice 2026-118 charges VAT at 22" in html
    assert "* Net: 1.000,00 €" in html  # lists stay lists
    assert "Licences" in html and "alert(" not in html and "font-family" not in html


def test_threading_headers_and_tags() -> None:
    reply = parsed("gmail_reply.eml")
    assert reply.in_reply_to == ("<20261123091500.4242.ack.hd-1@desk.example>",)
    assert reply.references == (
        "<CAHx7Wd1=q9Lr3kPz@mail.gmail.com>",
        "<20261123091500.4242.ack.hd-1@desk.example>",
    )
    assert reply.ticket_keys == ("HD-1",)
    assert parse_mail(b"Subject: [hd-7] and [HD-7] and [XY-2]\r\n\r\nx").ticket_keys == (
        "HD-7",
        "XY-2",
    )
    assert message_ids("junk <a@b> more <c@d>") == ("<a@b>", "<c@d>")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto_reply_ooo.eml", "Auto-Submitted: auto-replied"),
        ("exchange_ooo.eml", "X-Auto-Response-Suppress header"),
        ("mailing_list.eml", "Precedence: list"),
        ("bounce_dsn.eml", "Auto-Submitted: auto-replied"),
        ("gmail_new.eml", None),
        ("outlook_reply.eml", None),
    ],
)
def test_automatic_mail_is_recognised(name: str, reason: str | None) -> None:
    assert parsed(name).automatic == reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Auto-Submitted: no\r\n", None),
        ("Auto-Submitted: auto-generated; owner=x\r\n", "Auto-Submitted: auto-generated; owner=x"),
        ("Precedence: junk\r\n", "Precedence: junk"),
        ("Precedence: first-class\r\n", None),
        ("List-Id: <a.lists.example>\r\n", "List-Id header (mailing list)"),
        ("Return-Path: <>\r\n", "empty Return-Path (a bounce)"),
        ("X-Autoreply: yes\r\n", "X-Autoreply header"),
    ],
)
def test_automatic_headers(headers: str, reason: str | None) -> None:
    raw = f"From: a@b.example\r\n{headers}Subject: s\r\n\r\nbody\r\n".encode()
    assert parse_mail(raw).automatic == reason
    postmaster = parse_mail(b"From: Postmaster@b.example\r\nSubject: s\r\n\r\nx")
    assert postmaster.automatic == "sent by postmaster"


# A bounce as some MTAs (qmail, old sendmail) write it: From a bare MAILER-DAEMON, no
# domain, and none of the headers that mark automatic mail.
BARE_MAILER_DAEMON = (
    b"Return-Path: <bounces@mx.example>\r\n"
    b"Received: from mx.example by desk.example; Tue, 27 Oct 2026 09:12:03 +0100\r\n"
    b"Date: Tue, 27 Oct 2026 09:12:02 +0100\r\n"
    b"From: MAILER-DAEMON\r\n"
    b"To: support@desk.example\r\n"
    b"Subject: failure notice\r\n"
    b"Message-ID: <bounce-7731@mx.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b1"\r\n'
    b"\r\n"
    b"--b1\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"Hi. This is the qmail-send program at mx.example.\r\n"
    b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    b"--b1\r\n"
    b"Content-Type: message/rfc822\r\n"
    b"\r\n"
    b"From: support@desk.example\r\nTo: gone@customer.example\r\nSubject: [HD-4] re\r\n"
    b"\r\nYour ticket was answered.\r\n"
    b"--b1--\r\n"
)


@pytest.mark.parametrize("sender", [b"MAILER-DAEMON", b"Mailer-Daemon <MAILER-DAEMON>"])
def test_a_bare_mailer_daemon_is_automatic(sender: bytes) -> None:
    mail = parse_mail(BARE_MAILER_DAEMON.replace(b"From: MAILER-DAEMON", b"From: " + sender))
    assert mail.automatic == "sent by mailer-daemon"
    assert mail.sender is None  # no address to answer


def test_bounce_carries_the_returned_message_id() -> None:
    bounce = parsed("bounce_dsn.eml")
    assert bounce.related == ("<20261123120000.999.ack.hd-3@desk.example>",)
    assert "Status: 5.1.1" in bounce.body and "User unknown" in bounce.body
    assert bounce.sender == "MAILER-DAEMON@mx.desk.example"


def test_forwards_keep_their_text_and_files() -> None:
    chain = parsed("forwarded_chain.eml").body
    assert chain.count("Forwarded message") == 2 and "LIC-4471" in chain
    attached = parsed("forward_as_attachment.eml")
    assert "From: Scanner 3F <scanner3f@globex.example>" in attached.body
    assert "SMTP authentication failed (535)." in attached.body
    (pdf,) = attached.attachments
    assert (pdf.filename, pdf.content_type) == ("log.pdf", "application/pdf")
    assert pdf.content is not None and pdf.content.startswith(b"%PDF")


def test_attachments_inline_images_and_the_size_limit() -> None:
    (image,) = parsed("inline_image.eml").attachments
    assert (image.filename, image.content_type, image.inline) == ("image001.png", "image/png", True)
    small, big = parsed("oversized_attachment.eml", limit=4096).attachments
    assert (small.filename, small.content, small.skipped) == (
        "app.ini",
        b"[server]\r\nport = 8443\r\n",
        None,
    )
    assert (big.filename, big.size, big.content) == ("coré dump.bin", 6144, None)
    assert big.skipped == "larger than the attachment limit (6144 > 4096 bytes)"
    assert parsed("oversized_attachment.eml", limit=10_000).attachments[1].content is not None


def test_attachment_names_cannot_climb_out() -> None:
    raw = (
        b"From: a@b.example\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/x-sh\r\nContent-Disposition: attachment; "
        b'filename="../../etc/\x1b[31mevil.sh"\r\n\r\nrm -rf /\r\n--b--\r\n'
    )
    (part,) = parse_mail(raw).attachments
    assert part.filename == "evil.sh"


def test_missing_message_id_is_made_from_the_content() -> None:
    first = parsed("no_message_id.eml")
    assert first.generated_id and first.message_id == parsed("no_message_id.eml").message_id
    other = parse_mail((CORPUS / "no_message_id.eml").read_bytes() + b"more\r\n")
    assert other.message_id != first.message_id


def test_quotes_are_found_but_kept() -> None:
    gmail = parsed("gmail_reply.eml")
    assert gmail.quote_start == gmail.body.index("On Mon, 23 Nov 2026 at 10:15")
    outlook = parsed("outlook_reply.eml")
    assert outlook.quote_start == outlook.body.index("________________________________")
    assert "Bitte installieren Sie das Update" in outlook.body  # the quote is still there
    assert quote_start("just a question\n") is None
    assert quote_start("Yes.\n\n-----Original Message-----\nFrom: x\n") == 6
    assert quote_start("> only a quote\n> nothing new\n") is None


def test_decoding_helpers() -> None:
    assert decode_bytes(b"caf\xc3\xa9", "UTF-8") == ("café", None)
    assert decode_bytes(b"caf\xe9", None) == (
        "café",
        "8-bit text without a charset: read as cp1252",
    )
    assert decode_bytes(b"abc", "base64")[0] == "abc"  # a codec that is no charset
    text, note = html_to_text("<p>a</p><script>x()</script><p>b</p>")
    assert text == "a\n\nb" and note is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    mail = parse_mail(data)
    assert mail.message_id and mail.raw == data


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(FILES),
    cut=st.integers(min_value=0, max_value=10_000),
    junk=st.binary(min_size=1, max_size=40),
)
def test_damaged_real_mail_never_crashes(name: str, cut: int, junk: bytes) -> None:
    raw = (CORPUS / name).read_bytes()
    at = cut % (len(raw) + 1)
    parse_mail(raw[:at] + junk + raw[at:])
    parse_mail(raw[:at])
