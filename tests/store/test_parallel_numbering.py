"""Ticket numbers under real parallel creation: 4 processes x 25 tickets into one database,
on each back end. Numbers are never handed out twice and the counter ends at 100."""

from __future__ import annotations

import multiprocessing
from typing import Any

from sqlalchemy import func, select

from tests.conftest import NOW
from tui_helpdesk.services import directory, tickets
from tui_helpdesk.services.context import Actor
from tui_helpdesk.store.engine import Store
from tui_helpdesk.store.models import Counter, Ticket

PROCESSES = 4
PER_PROCESS = 25


def _create(url: str, worker: int, start: Any, results: Any) -> None:
    """One creator process: connect, wait for the others, then create tickets one per
    transaction, as separate `helpdesk ticket create` runs would."""
    store = Store(url)  # its own engine: nothing of the parent's connections is used
    try:
        with store.read() as session:
            session.get(Counter, "ticket")
        start.wait(30)
        numbers = []
        for i in range(PER_PROCESS):
            with store.write() as session:
                ticket = tickets.create_ticket(
                    session,
                    Actor.system(f"worker-{worker}"),
                    NOW,
                    tickets.NewTicket(f"{worker}/{i}", requester="caller@parallel.example"),
                )
                numbers.append(ticket.number)
        results.put((worker, numbers))
    except BaseException as exc:  # reported to the parent, which fails the test with it
        results.put((worker, repr(exc)))
    finally:
        store.dispose()


def test_parallel_processes_never_share_a_number(store: Store) -> None:
    with store.write() as session:
        # The requester exists beforehand: this test is about numbers, not contact creation.
        directory.add_contact(
            session, NOW, directory.ContactDraft(email="caller@parallel.example"), None
        )
    store.dispose()  # no open connection is carried into the children
    # fork: the children start with everything imported, so the run takes seconds, not the
    # import time of four interpreters; each still opens its own connections.
    context = multiprocessing.get_context("fork")
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    children = [
        context.Process(target=_create, args=(store.url, n, start, results))
        for n in range(PROCESSES)
    ]
    for child in children:
        child.start()
    try:
        by_worker = dict(results.get(timeout=120) for _ in children)
    finally:
        for child in children:
            child.join(30)
            if child.is_alive():
                child.kill()
    for worker, numbers in by_worker.items():
        assert isinstance(numbers, list), f"worker {worker} failed: {numbers}"
    assert all(child.exitcode == 0 for child in children)

    numbers = [n for result in by_worker.values() for n in result]
    assert len(numbers) == PROCESSES * PER_PROCESS
    assert sorted(numbers) == list(range(1, PROCESSES * PER_PROCESS + 1))
    for result in by_worker.values():
        assert result == sorted(result)  # each process sees its own numbers increase
    with store.read() as session:
        keys = session.scalars(select(Ticket.key)).all()
        assert len(keys) == len(set(keys)) == PROCESSES * PER_PROCESS
        assert set(keys) == {f"HD-{n}" for n in numbers}
        assert session.scalar(select(Counter.value).where(Counter.name == "ticket")) == 100
        assert session.scalar(select(func.count(func.distinct(Ticket.number)))) == 100
