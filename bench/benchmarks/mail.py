"""Benchmarks of the mail capability (registered in bench.harness).

`mail_intake`: `helpdesk mail fetch --maildir DIR` as a whole process on a copy of the
generated desk, over a Maildir of 10,000 mixed messages (100 with `--quick`, the test
suite's run): new mail from known and unknown senders, HTML-only mail, replies that thread
to open tickets by their subject tag, auto-replies, attachments (one over the size limit),
the real-world corpus of tests/mail_corpus under fresh Message-IDs (odd charsets, forwards,
bounces) and a few duplicates. The figure is messages per second; each run starts from a fresh
copy of the desk and a freshly written Maildir, made outside the timed part.
"""

from __future__ import annotations

import random
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.benchmarks.escalate import HELPDESK, Copies, spawn_json
from bench.harness import Context, Measurement, benchmark

MESSAGES = 10_000
QUICK_MESSAGES = 100
MAX_RUNS = 3
BUDGET_S = 600.0
DESK = "support@desk.example"
ATTACHMENT_LIMIT = 64 * 1024
CORPUS = Path(__file__).resolve().parents[2] / "tests" / "mail_corpus"


def _open_tickets(url: str, limit: int) -> list[tuple[str, str]]:
    """(ticket key, requester email) of recent tickets with a requester email."""
    from sqlalchemy import select

    from tui_helpdesk.store.engine import Store
    from tui_helpdesk.store.models import Contact, Ticket

    store = Store(url)
    try:
        with store.read() as session:
            rows = session.execute(
                select(Ticket.key, Contact.email)
                .join(Contact, Contact.id == Ticket.requester_id)
                .where(Contact.email.is_not(None))
                .order_by(Ticket.id.desc())
                .limit(limit)
            ).all()
    finally:
        store.dispose()
    return [(key, email) for key, email in rows if email]


def _mail(sender: str, subject: str, body: str, mid: str, **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = DESK
    msg["Subject"] = subject
    msg["Message-ID"] = mid
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def mixed_messages(count: int, tickets: list[tuple[str, str]], seed: int = 11) -> list[bytes]:
    """`count` raw mails of the mix described in the module docstring."""
    rng = random.Random(seed)
    corpus = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    senders = [f"customer{n}@example-{n % 97}.com" for n in range(max(50, count // 5))]
    senders += [email for _, email in tickets[:500]]
    out: list[bytes] = []
    for n in range(count):
        mid = f"<bench-{n}-{rng.getrandbits(40):x}@bench.example>"
        roll = rng.random()
        if roll < 0.05 and out:
            out.append(rng.choice(out))  # a duplicate delivery
        elif roll < 0.45 or not tickets:
            body = f"Hello,\n\nmy {rng.choice(['printer', 'laptop', 'VPN', 'mailbox'])} fails "
            body += f"with error {rng.randint(1, 999)} since this morning.\n\nThanks\n"
            out.append(bytes(_mail(rng.choice(senders), f"Problem {n}", body, mid)))
        elif roll < 0.60:
            msg = _mail(rng.choice(senders), f"Invoice question {n}", "x", mid)
            msg.set_content(
                f"<html><body><p>Invoice <b>{n}</b></p><ul><li>a</li><li>b</li></ul>"
                "<table><tr><td>net</td><td>100</td></tr></table></body></html>",
                subtype="html",
            )
            out.append(bytes(msg))
        elif roll < 0.75:
            key, email = rng.choice(tickets)
            out.append(bytes(_mail(email, f"Re: [{key}] update", "Still happening.\n", mid)))
        elif roll < 0.85:
            key, email = rng.choice(tickets)
            out.append(
                bytes(
                    _mail(
                        email,
                        f"Out of office: [{key}]",
                        "I am away until Monday.\n",
                        mid,
                        Auto_Submitted="auto-replied",
                    )
                )
            )
        elif roll < 0.90:
            msg = _mail(rng.choice(senders), f"Logs {n}", "Logs attached.\n", mid)
            msg.add_attachment(
                b"x" * rng.randint(100, 4000), "application", "octet-stream", filename="app.log"
            )
            if rng.random() < 0.2:
                msg.add_attachment(
                    b"y" * (ATTACHMENT_LIMIT + 1),
                    "application",
                    "octet-stream",
                    filename="core.dump",
                )
            out.append(bytes(msg))
        else:
            raw = rng.choice(corpus)
            head, sep, rest = raw.partition(b"\r\n\r\n")
            lines = [
                line for line in head.split(b"\r\n") if not line.lower().startswith(b"message-id:")
            ]
            out.append(b"\r\n".join([*lines, b"Message-ID: " + mid.encode()]) + sep + rest)
    return out


def _write_maildir(folder: Path, messages: list[bytes]) -> None:
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n, raw in enumerate(messages):
        (folder / "new" / f"{n:07d}.bench.host").write_bytes(raw)


def _run_fetch(url: str, maildir: Path, config: Path) -> dict[str, Any]:
    command = [HELPDESK, "--config", str(config), "--db", url, "mail", "fetch"]
    command += ["--maildir", str(maildir), "--json"]
    spawned, document = spawn_json(command, "mail fetch")
    return {**spawned, "counts": document["counts"], "failed": len(document["failed"])}


@benchmark(
    "mail_intake",
    f"helpdesk mail fetch, whole process, Maildir of {MESSAGES:,} mixed messages",
    target="messages per second (printed)",
)
def mail_intake(ctx: Context) -> Measurement:
    count = QUICK_MESSAGES if ctx.quick else MESSAGES
    messages = mixed_messages(count, _open_tickets(ctx.url, 2000))
    copies = Copies(ctx, "mail_intake")
    runs: list[dict[str, Any]] = []
    most = 1 if ctx.quick else min(ctx.repeat, MAX_RUNS)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-mail-") as scratch:
            config = Path(scratch) / "config.toml"
            config.write_text(
                f'[mail]\naddress = "{DESK}"\nattachment_limit = {ATTACHMENT_LIMIT}\n'
            )
            while len(runs) < most:
                url = copies.fresh()
                maildir = Path(scratch) / f"run{len(runs)}" / "Maildir"
                _write_maildir(maildir, messages)
                runs.append(_run_fetch(url, maildir, config))
                if sum(run["seconds"] for run in runs) > BUDGET_S:
                    break
    finally:
        copies.drop()
    best = min(runs, key=lambda run: run["seconds"])
    return Measurement(
        samples=[run["seconds"] for run in runs],
        peak_kb=max(run["peak_kb"] for run in runs),
        extra={
            "messages": count,
            "per_second": round(count / best["seconds"], 1),
            "decisions": best["counts"],
            "failed": max(run["failed"] for run in runs),
            "runs": len(runs),
            "backend_db": make_url(ctx.url).get_backend_name(),
        },
    )
