"""The cyclic garbage collector in a long run.

CPython's collector runs a full collection every so often, and a full collection walks every
container object alive: in `helpdesk` that is first of all what the imports made (modules,
classes, functions, SQLAlchemy's mapped models; ~75,000 objects before any work). A batch job
that keeps a few hundred tickets with their related rows in a session triggers dozens of
full collections, each walking all of that again: a fifth of `helpdesk escalate`'s time over
ten thousand due tickets, an eighth of a year's ticket export, none of it freeing anything.

`settle()`, called where a long run's work begins (its imports done), moves the objects alive
then into the collector's permanent generation (`gc.freeze`), so later collections walk only
what the run itself made. The frozen objects are never collected; they are the program's own
modules and mappings, alive until it exits anyway.

Within a batch the run's own objects are many and alive until the batch ends (a session's
tickets and rows, a page of export lines), so collections in it walk them again and again
and free next to nothing: `batch()` holds the collector off for one batch and collects what
the batch made once after it, when the batch has let it go. A batch is bounded (a
transaction of a few hundred tickets, a stream of rows), and so is what waits for that one
collection.

It acts only in a process that `helpdesk` owns (`own_process`, called by the command's entry
point): a program that imports the services, a test run among them, keeps its collector as
it is.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_owned = False
_settled = False


def own_process() -> None:
    """This process runs `helpdesk` and nothing else: long runs may settle the heap."""
    global _owned
    _owned = True


def settle() -> None:
    """A long run's work begins, its code imported: freeze what is alive now (once per
    process; a no-op outside a process `helpdesk` owns). The ORM's mappings are completed
    first, so that what they build on first use is frozen too."""
    global _settled
    if not _owned or _settled:
        return
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    gc.freeze()
    _settled = True


@contextmanager
def batch() -> Iterator[None]:
    """One batch of a long run (settling the heap first): no collection in it, one after
    it. Outside a process `helpdesk` owns, the collector runs as usual."""
    if not _owned:
        yield
        return
    settle()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        # What the batch made is all in the youngest generation (nothing was collected, so
        # nothing was promoted): collecting that one frees the batch's garbage, cycles and
        # all, without walking what older batches left alive (a long run's results).
        gc.collect(0)
