"""Outbox delivery benchmark (register it in bench.harness `BENCHMARK_MODULES`).

`outbox_send`: `helpdesk mail send` as a whole process on a copy of the generated desk, with
2,000 queued mails (100 with `--quick`, the test suite's run): acknowledgements, replies
threaded under the ticket, surveys and notifications, one in twenty with a small CSV
attached. They go over SMTP to an aiosmtpd server on loopback that accepts and discards
everything (`aiosmtpd.handlers.Sink`, a process of its own, so the figure is the sender's:
claiming rows, composing, the SMTP dialogue, marking each row sent). The figure is mails per
second. Each run starts from a fresh copy of the desk with the mails queued, made outside
the timed part.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.benchmarks.escalate import HELPDESK, Copies, spawn_json
from bench.harness import Context, Measurement, benchmark

MAILS = 2_000
QUICK_MAILS = 100
MAX_RUNS = 3
BUDGET_S = 300.0
DESK = "support@desk.example"
QUEUED_AT = datetime(2020, 1, 1, tzinfo=UTC)  # before anything the desk holds: all due
SINK = ("-c", "aiosmtpd.handlers.Sink")
BODY = "the fix is in place, please restart the application and tell us. " * 6


def queue_mails(url: str, count: int) -> int:
    """Queue `count` mails about recent tickets with a requester email, as the services
    would have written them; returns how many mails are due in all."""
    from sqlalchemy import func, select

    from tui_helpdesk.domain import OutboxState
    from tui_helpdesk.store.engine import Store
    from tui_helpdesk.store.models import Contact, Outbox, OutboxAttachment, Ticket

    kinds = ("ack", "reply", "survey", "notify")
    store = Store(url)
    try:
        with store.write() as session:
            tickets = session.execute(
                select(Ticket.id, Ticket.key, Ticket.subject, Contact.email)
                .join(Contact, Contact.id == Ticket.requester_id)
                .where(Contact.email.is_not(None))
                .order_by(Ticket.id.desc())
                .limit(count)
            ).all()
            if not tickets:
                raise RuntimeError(f"{url}: no ticket has a requester with an email")
            for n in range(count):
                ticket_id, key, subject, email = tickets[n % len(tickets)]
                kind = kinds[n % len(kinds)]
                row = Outbox(
                    created_at=QUEUED_AT,
                    ticket_id=ticket_id,
                    kind=kind,
                    to_addrs=[email],
                    subject=f"[{key}] Re: {subject}",
                    body=f"Hello,\n\nabout {key}: {BODY}\n\n-- \nHelp Desk\n",
                    headers={
                        "X-Helpdesk-Ticket": key,
                        "In-Reply-To": f"<first-{key.lower()}@customer.example>",
                        "References": f"<first-{key.lower()}@customer.example>",
                        **({"Auto-Submitted": "auto-replied"} if kind == "ack" else {}),
                    },
                    message_id=f"<bench-{n}.{key.lower()}@desk.example>",
                    state=OutboxState.QUEUED,
                    attempts=0,
                    next_attempt_at=QUEUED_AT,
                )
                if n % 20 == 0:
                    row.attachments.append(
                        OutboxAttachment(
                            filename="figures.csv",
                            content_type="text/csv",
                            content=b"day,opened,closed\n" + b"2026-11-23,40,38\n" * 50,
                        )
                    )
                session.add(row)
            session.flush()
            due = session.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(Outbox.state == OutboxState.QUEUED, Outbox.next_attempt_at <= QUEUED_AT)
            )
    finally:
        store.dispose()
    return int(due or 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_sink(port: int) -> subprocess.Popen[bytes]:
    """An aiosmtpd process that accepts every mail and keeps none; waits until it listens."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", *SINK],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    server.kill()
    raise RuntimeError(f"the aiosmtpd sink did not start on port {port}")


def _run_send(url: str, config: Path) -> dict[str, Any]:
    command = [HELPDESK, "--config", str(config), "--db", url, "mail", "send", "--json"]
    spawned, document = spawn_json(command, "mail send")
    return {**spawned, "sent": document["sent"], "failed": document["failed"]}


@benchmark(
    "outbox_send",
    f"helpdesk mail send, whole process, {MAILS:,} queued mails to a loopback aiosmtpd",
    target="mails per second (printed)",
)
def outbox_send(ctx: Context) -> Measurement:
    count = QUICK_MAILS if ctx.quick else MAILS
    copies = Copies(ctx, "outbox")
    runs: list[dict[str, Any]] = []
    most = 1 if ctx.quick else min(ctx.repeat, MAX_RUNS)
    port = _free_port()
    server = _start_sink(port)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-outbox-") as scratch:
            config = Path(scratch) / "config.toml"
            config.write_text(f'[mail]\naddress = "{DESK}"\nsmtp_url = "smtp://127.0.0.1:{port}"\n')
            while len(runs) < most:
                url = copies.fresh()
                due = queue_mails(url, count)
                run = _run_send(url, config)
                runs.append({**run, "due": due})
                if sum(r["seconds"] for r in runs) > BUDGET_S:
                    break
    finally:
        server.terminate()
        server.wait(timeout=30)
        copies.drop()
    best = min(runs, key=lambda run: run["seconds"])
    return Measurement(
        samples=[run["seconds"] for run in runs],
        peak_kb=max(run["peak_kb"] for run in runs),
        extra={
            "mails": best["sent"],
            "per_second": round(best["sent"] / best["seconds"], 1),
            "failed": max(run["failed"] for run in runs),
            "runs": len(runs),
            "backend_db": make_url(ctx.url).get_backend_name(),
            "queued_at": QUEUED_AT.isoformat(),
        },
    )
