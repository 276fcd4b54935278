"""The collector in long runs (`tui_helpdesk.heap`): held off within a batch and the heap
settled, only in a process the `helpdesk` program owns. Each case runs in its own
interpreter: settling freezes that process's heap for good."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


BATCH_PROBE = """
    import gc, weakref
    from tui_helpdesk import heap

    class Node:
        pass

    with heap.batch():
        inside = gc.isenabled()
        node = Node()
        node.me = node  # a cycle: only the collector frees it
        dead = weakref.ref(node)
        del node
    print(inside, gc.isenabled(), gc.get_freeze_count() > 0, dead() is None)
"""


def test_a_batch_in_an_owned_process_holds_the_collector_off_then_collects_it() -> None:
    inside, after, frozen, collected = _run(
        "from tui_helpdesk import heap\nheap.own_process()\n" + textwrap.dedent(BATCH_PROBE)
    )
    assert (inside, after, frozen, collected) == ("False", "True", "True", "True")


def test_a_batch_elsewhere_leaves_the_collector_alone() -> None:
    inside, after, frozen, _ = _run(BATCH_PROBE)
    assert (inside, after, frozen) == ("True", "True", "False")


def test_a_collector_switched_off_by_the_program_stays_off() -> None:
    after = _run(
        """
        import gc
        from tui_helpdesk import heap
        heap.own_process()
        gc.disable()
        with heap.batch():
            pass
        print(gc.isenabled())
        """
    )
    assert after == ["False"]


def test_the_helpdesk_program_owns_its_process_and_an_in_process_caller_does_not() -> None:
    probe = """
        import gc, sys
        from tui_helpdesk import cli, heap
        sys.argv = ["helpdesk", "--help"]
        cli.main({argv})
        with heap.batch():
            print(gc.isenabled())
        """
    assert _run(probe.format(argv="None"))[-1] == "False"  # after the help text
    assert _run(probe.format(argv='["--help"]'))[-1] == "True"
